"""fwportal's read-only JSON API (`/api/v1/`), over the same services and access rule as the
pages; see endpoints.py."""
