"""EnOS search expressions from the list filters, with every value quoted safely."""

from dataclasses import dataclass

from firmware.enos.expression import all_of, equals, quote


@dataclass(frozen=True)
class FirmwareFilters:
    name_contains: str = ""
    product_keys: tuple[str, ...] = ()
    verified: bool | None = None

    def expression(self) -> str | None:
        """The Search Firmware File expression, or None for every firmware."""
        clauses = []
        if self.name_contains:
            clauses.append(f"name like {quote(self.name_contains)}")
        if len(self.product_keys) == 1:
            clauses.append(f"productKey = {quote(self.product_keys[0])}")
        elif self.product_keys:
            clauses.append(f"productKey in ({', '.join(map(quote, self.product_keys))})")
        if self.verified is not None:
            clauses.append(f"isVerified = {'true' if self.verified else 'false'}")
        return " and ".join(clauses) or None


# What EnOS says a job or a task can be (docs/enos-api.md 6.3 and 6.5), in the order shown.
JOB_TYPES = ("verify", "upgrade")
JOB_STATUSES = ("started", "stopped")
TASK_STATUSES = ("init", "published", "upgrading", "succeeded", "failed")


@dataclass(frozen=True)
class JobFilters:
    """An org's OTA jobs: of one firmware, of one type, in one status (each optional)."""

    firmware_id: str = ""
    type: str = ""
    status: str = ""

    def expression(self) -> str | None:
        """The Search OTA Job expression, or None for every job."""
        return all_of(
            equals("firmwareId", self.firmware_id) if self.firmware_id else None,
            equals("type", self.type) if self.type else None,
            equals("status", self.status) if self.status else None,
        )
