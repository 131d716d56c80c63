"""Search expressions: a tokenizer and a recursive-descent parser into predicates, over the
fields (and with the operators) each search call allows (docs/enos-api.md sections 5 to 7)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]


class ExpressionError(ValueError):
    """A search expression the gateway would refuse (code 400)."""


@dataclass(frozen=True)
class Field:
    """A field a search expression may name: ``text`` takes ``=`` (and ``in`` when
    ``in_allowed``), ``boolean`` takes ``= true|false``, ``name`` takes ``like`` over the
    StringI18n at ``key`` (its default value only when ``default_only``)."""

    kind: str
    key: str
    in_allowed: bool = True
    default_only: bool = False


def _text(key: str, *, in_allowed: bool = True) -> Field:
    return Field("text", key, in_allowed)


FIRMWARE_FIELDS: Mapping[str, Field] = {
    "productKey": _text("productKey"),
    "isVerified": Field("boolean", "isVerified"),
    "name": Field("name", "name"),
    "name.default": Field("name", "name", default_only=True),
}
JOB_FIELDS: Mapping[str, Field] = {
    "productKey": _text("productKey"),
    "firmwareId": _text("firmwareId"),
    "firmwareVersion": _text("firmwareVersion"),
    "type": _text("type", in_allowed=False),
    "status": _text("status", in_allowed=False),
    "name": Field("name", "name"),
    "firmwareName": Field("name", "firmwareName"),
}
TASK_FIELDS: Mapping[str, Field] = {
    name: _text(name)
    for name in ("jobId", "deviceKey", "fromVersion", "toVersion", "status", "desc")
}
DEVICE_FIELDS: Mapping[str, Field] = {
    "productKey": _text("productKey"),
    "firmwareVersion": _text("firmwareVersion"),
    "isUpgrading": Field("boolean", "isUpgrading"),
}


def parse_expression(text: str, fields: Mapping[str, Field] = FIRMWARE_FIELDS) -> list[Predicate]:
    """The clauses of a search expression, all of which a record must match (none for an
    empty one); ExpressionError when it is not understood or names a field outside ``fields``."""
    return _ExpressionParser(text, fields).parse()


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "=(),":
            tokens.append(("punct", ch))
            i += 1
        elif ch == "'":
            value, i = _read_string(text, i + 1)
            tokens.append(("string", value))
        elif ch.isalnum() or ch in "_.":
            start = i
            while i < len(text) and (text[i].isalnum() or text[i] in "_."):
                i += 1
            tokens.append(("word", text[start:i]))
        else:
            raise ExpressionError(f"unexpected character {ch!r} at position {i}")
    return tokens


def _read_string(text: str, i: int) -> tuple[str, int]:
    chars: list[str] = []
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            if i + 1 == len(text):
                raise ExpressionError("backslash at the end of the expression")
            chars.append(text[i + 1])
            i += 2
        elif ch == "'":
            return "".join(chars), i + 1
        else:
            chars.append(ch)
            i += 1
    raise ExpressionError("unterminated string literal")


class _ExpressionParser:
    def __init__(self, text: str, fields: Mapping[str, Field]) -> None:
        self._tokens = _tokenize(text)
        self._fields = fields
        self._pos = 0

    def parse(self) -> list[Predicate]:
        if not self._tokens:
            return []
        clauses = [self._clause()]
        while self._pos < len(self._tokens):
            self._keyword("and")
            clauses.append(self._clause())
        return clauses

    def _next(self, kind: str, what: str) -> str:
        if self._pos == len(self._tokens):
            raise ExpressionError(f"expected {what} at the end of the expression")
        token_kind, value = self._tokens[self._pos]
        if token_kind != kind:
            raise ExpressionError(f"expected {what}, found {value!r}")
        self._pos += 1
        return value

    def _keyword(self, word: str) -> None:
        if self._next("word", repr(word)).lower() != word:
            raise ExpressionError(f"expected {word!r}, found {self._tokens[self._pos - 1][1]!r}")

    def _punct(self, char: str) -> None:
        self._next("punct", repr(char))
        if self._tokens[self._pos - 1][1] != char:
            raise ExpressionError(f"expected {char!r}, found {self._tokens[self._pos - 1][1]!r}")

    def _peek_word(self) -> str | None:
        if self._pos < len(self._tokens) and self._tokens[self._pos][0] == "word":
            return self._tokens[self._pos][1].lower()
        return None

    def _clause(self) -> Predicate:
        name = self._next("word", "a field name")
        field = self._fields.get(name)
        if field is None:
            raise ExpressionError(f"unsupported field {name!r}")
        if field.kind == "text":
            if self._peek_word() == "in":
                if not field.in_allowed:
                    raise ExpressionError(f"{name} takes only =")
                self._pos += 1
                return _text_in(field.key, self._string_list(name))
            self._punct("=")
            return _text_in(field.key, [self._next("string", f"a quoted {name}")])
        if field.kind == "boolean":
            self._punct("=")
            literal = self._next("word", "true or false").lower()
            if literal not in ("true", "false"):
                raise ExpressionError(f"{name} takes true or false, not {literal!r}")
            return _is(field.key, literal == "true")
        self._keyword("like")
        return _name_like(field.key, self._next("string", "a quoted pattern"), field.default_only)

    def _string_list(self, name: str) -> list[str]:
        self._punct("(")
        values = [self._next("string", f"a quoted {name}")]
        while self._peek_punct() == ",":
            self._pos += 1
            values.append(self._next("string", f"a quoted {name}"))
        self._punct(")")
        return values

    def _peek_punct(self) -> str | None:
        if self._pos < len(self._tokens) and self._tokens[self._pos][0] == "punct":
            return self._tokens[self._pos][1]
        return None


def _text_in(key: str, values: Iterable[str]) -> Predicate:
    wanted = frozenset(values)
    return lambda record: isinstance(value := record.get(key), str) and value in wanted


def _is(key: str, value: bool) -> Predicate:
    return lambda record: record.get(key) is value


def _name_like(key: str, pattern: str, default_only: bool) -> Predicate:
    needle = pattern.casefold()

    def match(record: Mapping[str, Any]) -> bool:
        name = record.get(key)
        if not isinstance(name, dict):
            return False
        values = [name.get("defaultValue")]
        i18n = name.get("i18nValue")
        if not default_only and isinstance(i18n, dict):
            values += [i18n.get("zh_CN"), i18n.get("en_US")]
        return any(isinstance(v, str) and needle in v.casefold() for v in values)

    return match
