"""The Search Firmware expression: a tokenizer and a recursive-descent parser into predicates."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]


class ExpressionError(ValueError):
    """A search expression the gateway would refuse (code 400)."""


def parse_expression(text: str) -> list[Predicate]:
    """The clauses of a search expression, all of which a firmware must match (none for an
    empty one); ExpressionError when it is not understood."""
    return _ExpressionParser(text).parse()


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
    def __init__(self, text: str) -> None:
        self._tokens = _tokenize(text)
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
        if name == "productKey":
            if self._peek_word() == "in":
                self._pos += 1
                return _product_key_in(self._string_list())
            self._punct("=")
            return _product_key_in([self._next("string", "a quoted productKey")])
        if name == "isVerified":
            self._punct("=")
            literal = self._next("word", "true or false").lower()
            if literal not in ("true", "false"):
                raise ExpressionError(f"isVerified takes true or false, not {literal!r}")
            return _is_verified(literal == "true")
        if name in ("name", "name.default"):
            self._keyword("like")
            return _name_like(self._next("string", "a quoted pattern"), name == "name.default")
        raise ExpressionError(f"unsupported field {name!r}")

    def _string_list(self) -> list[str]:
        self._punct("(")
        values = [self._next("string", "a quoted productKey")]
        while self._peek_punct() == ",":
            self._pos += 1
            values.append(self._next("string", "a quoted productKey"))
        self._punct(")")
        return values

    def _peek_punct(self) -> str | None:
        if self._pos < len(self._tokens) and self._tokens[self._pos][0] == "punct":
            return self._tokens[self._pos][1]
        return None


def _product_key_in(values: Iterable[str]) -> Predicate:
    wanted = frozenset(values)
    return lambda fw: fw.get("productKey") in wanted


def _is_verified(value: bool) -> Predicate:
    return lambda fw: fw.get("isVerified") is value


def _name_like(pattern: str, default_only: bool) -> Predicate:
    needle = pattern.casefold()

    def match(fw: Mapping[str, Any]) -> bool:
        name = fw.get("name")
        if not isinstance(name, dict):
            return False
        values = [name.get("defaultValue")]
        i18n = name.get("i18nValue")
        if not default_only and isinstance(i18n, dict):
            values += [i18n.get("zh_CN"), i18n.get("en_US")]
        return any(isinstance(v, str) and needle in v.casefold() for v in values)

    return match
