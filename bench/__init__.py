"""fwportal's benchmark: `python bench/run.py [--quick]` (see bench/RESULTS.md)."""
