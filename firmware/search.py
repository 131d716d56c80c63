"""EnOS search expressions from the list filters, with every value quoted safely."""

from dataclasses import dataclass

from firmware.enos.expression import quote


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
