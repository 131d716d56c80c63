"""EnOS search expressions: quoted literals and the `=`, `in` and `and` that every search takes."""

from collections.abc import Iterable


def quote(value: str) -> str:
    """A single-quoted EnOS string literal: backslash escapes a quote or a backslash."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def equals(name: str, value: str | bool) -> str:
    """`name = 'value'`, or `name = true` for a boolean field."""
    if isinstance(value, bool):
        return f"{name} = {'true' if value else 'false'}"
    return f"{name} = {quote(value)}"


def one_of(name: str, values: Iterable[str]) -> str:
    """`name in ('a', 'b')`, or `name = 'a'` for a single value."""
    values = list(values)
    if not values:
        raise ValueError(f"{name} in () matches nothing; leave the clause out instead")
    if len(values) == 1:
        return equals(name, values[0])
    return f"{name} in ({', '.join(map(quote, values))})"


def all_of(*clauses: str | None) -> str | None:
    """The clauses joined by `and` (empty ones left out), None when there are none."""
    return " and ".join(clause for clause in clauses if clause) or None
