"""Cell values as Sheets keeps them: what was entered, how it shows, and formulas' results.

Input follows `valueInputOption`: RAW keeps text literal (`=1+1` stays text); USER_ENTERED
parses like typing into the UI (`=...` is a formula, `1,234.5` a number, `2020-01-01` a date,
`TRUE` a boolean, a leading `'` forces text). Formulas support arithmetic, comparison, `&`,
cell references on the same tab and a few functions (the ones our filter views and the
recordings use); anything else evaluates to `#NAME?`, as an unknown function does in Sheets.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

EPOCH = date(1899, 12, 30)
Value = str | float | bool | None  # an effective value; errors are ErrorValue
_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?$")
_PERCENT = re.compile(r"^[+-]?\d+(?:\.\d+)?%$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_ERROR_TEXT = {
    "DIVIDE_BY_ZERO": "#DIV/0!",
    "VALUE": "#VALUE!",
    "REF": "#REF!",
    "NAME": "#NAME?",
    "NUM": "#NUM!",
    "N_A": "#N/A",
    "ERROR": "#ERROR!",
}


@dataclass(frozen=True)
class ErrorValue:
    type: str
    message: str

    @property
    def text(self) -> str:
        return _ERROR_TEXT.get(self.type, "#ERROR!")


@dataclass(frozen=True)
class Cell:
    """One cell; immutable, so a tab is copied cheaply for an atomic batch."""

    entered: dict[str, Any] | None = None  # ExtendedValue: stringValue | numberValue | ...
    shown: str | None = None  # how a typed number or date displays
    is_date: bool = False
    note: str | None = None
    validation: dict[str, Any] | None = None
    fmt: dict[str, Any] | None = field(default=None)

    @property
    def has_value(self) -> bool:
        return self.entered is not None

    @property
    def format(self) -> dict[str, Any]:
        """The cell's userEnteredFormat ({} when it has none)."""
        return self.fmt or {}


def entered_value(raw: Any, option: str) -> tuple[dict[str, Any] | None, str | None, bool]:
    """(ExtendedValue or None to clear, shown text, is a date) for one input value."""
    if isinstance(raw, bool):
        return {"boolValue": raw}, None, False
    if isinstance(raw, int | float):
        return {"numberValue": raw}, None, False
    text = str(raw)
    if text == "":
        return None, None, False
    if option == "RAW":
        return {"stringValue": text}, None, False
    return parse_typed(text)


def parse_typed(text: str) -> tuple[dict[str, Any] | None, str | None, bool]:
    """A string typed into the UI (USER_ENTERED)."""
    if text.startswith("'"):
        return {"stringValue": text[1:]}, None, False
    if text.startswith("=") and len(text) > 1:
        return {"formulaValue": text}, None, False
    if text.upper() in ("TRUE", "FALSE"):
        return {"boolValue": text.upper() == "TRUE"}, None, False
    stripped = text.strip()
    if _NUMBER.match(stripped) and any(ch.isdigit() for ch in stripped):
        number = float(stripped.replace(",", ""))
        shown = None
        if "," in stripped:
            decimals = len(stripped.split(".")[1]) if "." in stripped else 0
            shown = f"{number:,.{decimals}f}"
        return {"numberValue": number}, shown, False
    if _PERCENT.match(stripped):
        return {"numberValue": float(stripped[:-1]) / 100}, stripped, False
    day = _date(stripped)
    if day is not None:
        return {"numberValue": float((day - EPOCH).days)}, stripped, True
    return {"stringValue": text}, None, False


def _date(text: str) -> date | None:
    try:
        if m := _ISO_DATE.match(text):
            return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        if m := _US_DATE.match(text):
            return date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
    except ValueError:
        return None
    return None


def general(number: float) -> str:
    """A number in Sheets' default format."""
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def json_number(number: float) -> int | float:
    return int(number) if number.is_integer() and abs(number) < 2**53 else number


# --- formulas ---------------------------------------------------------------------------------

Resolver = Callable[[int, int], "Value | ErrorValue"]
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
      | (?P<string>"(?:[^"]|"")*")
      | (?P<ref>\$?[A-Za-z]{1,3}\$?\d+(?::\$?[A-Za-z]{1,3}\$?\d+)?)
      | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
      | (?P<op><>|<=|>=|[-+*/^&=<>(),;:])
    )""",
    re.VERBOSE,
)
_REF = re.compile(r"(\$?)([A-Za-z]{1,3})(\$?)(\d+)")


class _Error(Exception):
    def __init__(self, value: ErrorValue) -> None:
        super().__init__(value.type)
        self.value = value


def _fail(kind: str, message: str) -> _Error:
    return _Error(ErrorValue(kind, message))


def separator(locale: str) -> str:
    """Sheets separates a formula's arguments with `;` where the decimal mark is a comma."""
    comma_decimal = {"de", "fr", "es", "it", "ru", "pt", "nl", "pl", "tr", "sv", "uk", "cs"}
    if locale in ("de_CH", "es_MX", "es_US"):
        return ","
    return ";" if locale.split("_")[0] in comma_decimal else ","


def evaluate(
    formula: str, resolve: Resolver, row_shift: int = 0, locale: str = "en_US"
) -> Value | ErrorValue:
    """The value of `=...`; relative row references move by `row_shift` (filter criteria).

    Arguments are separated as the spreadsheet's locale has it: `,` in en_US, `;` in ru_RU
    or de_DE, where the other one is a parse error, as it is in Sheets.
    """
    try:
        tokens = _tokenize(formula[1:])
        parser = _Parser(tokens, resolve, row_shift)
        parser.separator = separator(locale)
        result = parser.comparison()
        if parser.pos != len(tokens):
            raise _fail("ERROR", "Formula parse error.")
        return _scalar(result)
    except _Error as exc:
        return exc.value
    except RecursionError:
        return ErrorValue("REF", "Circular dependency detected.")


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if match is None:
            raise _fail("ERROR", "Formula parse error.")
        kind = match.lastgroup or "op"
        tokens.append((kind, match.group(kind)))
        pos = match.end()
    return tokens


def _scalar(value: Any) -> Value | ErrorValue:
    if isinstance(value, list):
        return value[0] if value else None
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _number(value: Any) -> float:
    value = _scalar(value)
    if isinstance(value, ErrorValue):
        raise _Error(value)
    if value is None or value == "":
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    try:
        return float(str(value).replace(",", ""))
    except ValueError:
        raise _fail("VALUE", f"Text '{value}' cannot be coerced to a number.") from None


def _text(value: Any) -> str:
    value = _scalar(value)
    if isinstance(value, ErrorValue):
        raise _Error(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return general(value)
    return str(value)


def _truth(value: Any) -> bool:
    value = _scalar(value)
    if isinstance(value, ErrorValue):
        raise _Error(value)
    if isinstance(value, str):
        if value.upper() in ("TRUE", "FALSE"):
            return value.upper() == "TRUE"
        if value == "":
            return False
        raise _fail("VALUE", f"Text '{value}' cannot be coerced to a boolean.")
    return bool(value)


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]], resolve: Resolver, shift: int) -> None:
        self.tokens, self.resolve, self.shift, self.pos = tokens, resolve, shift, 0
        self.separator = ","

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, text: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (text is not None and token[1] != text):
            raise _fail("ERROR", "Formula parse error.")
        self.pos += 1
        return token

    def at(self, *ops: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "op" and token[1] in ops

    def comparison(self) -> Any:
        left = self.concat()
        while self.at("=", "<>", "<", ">", "<=", ">="):
            op = self.take()[1]
            left = _compare(op, _scalar(left), _scalar(self.concat()))
        return left

    def concat(self) -> Any:
        left = self.additive()
        while self.at("&"):
            self.take()
            left = _text(left) + _text(self.additive())
        return left

    def additive(self) -> Any:
        left = self.term()
        while self.at("+", "-"):
            op = self.take()[1]
            right = _number(self.term())
            left = _number(left) + right if op == "+" else _number(left) - right
        return left

    def term(self) -> Any:
        left = self.power()
        while self.at("*", "/"):
            op = self.take()[1]
            right = _number(self.power())
            if op == "*":
                left = _number(left) * right
            elif right == 0:
                raise _fail("DIVIDE_BY_ZERO", "Function DIVIDE parameter 2 cannot be zero.")
            else:
                left = _number(left) / right
        return left

    def power(self) -> Any:
        left = self.unary()
        while self.at("^"):
            self.take()
            left = math.pow(_number(left), _number(self.unary()))
        return left

    def unary(self) -> Any:
        if self.at("-"):
            self.take()
            return -_number(self.unary())
        if self.at("+"):
            self.take()
            return _number(self.unary())
        return self.primary()

    def primary(self) -> Any:
        kind, text = self.take()
        if kind == "number":
            return float(text)
        if kind == "string":
            return text[1:-1].replace('""', '"')
        if kind == "ref":
            return self.reference(text)
        if kind == "name":
            if self.at("("):
                return self.call(text.upper())
            if text.upper() in ("TRUE", "FALSE"):
                return text.upper() == "TRUE"
            raise _fail("NAME", f"Unknown range name: '{text}'.")
        if text == "(":
            value = self.comparison()
            self.take(")")
            return value
        raise _fail("ERROR", "Formula parse error.")

    def reference(self, text: str) -> Any:
        corners = [self.cell(part) for part in text.split(":")]
        if len(corners) == 1:
            return self.resolve(*corners[0])
        (r0, c0), (r1, c1) = corners
        return [
            self.resolve(r, c)
            for r in range(min(r0, r1), max(r0, r1) + 1)
            for c in range(min(c0, c1), max(c0, c1) + 1)
        ]

    def cell(self, text: str) -> tuple[int, int]:
        match = _REF.fullmatch(text)
        if match is None:
            raise _fail("REF", "Bad reference.")
        col = 0
        for char in match.group(2).upper():
            col = col * 26 + ord(char) - 64
        row = int(match.group(4)) - 1 + (0 if match.group(3) else self.shift)
        return row, col - 1

    def call(self, name: str) -> Any:
        self.take("(")
        args: list[Any] = []
        while not self.at(")"):
            args.append(self.comparison())
            if not self.at(")"):
                self.take(self.separator)
        self.take(")")
        function = _FUNCTIONS.get(name)
        if function is None:
            raise _fail("NAME", f"Unknown function: '{name}'.")
        return function(args)


def _compare(op: str, a: Any, b: Any) -> bool:
    for value in (a, b):
        if isinstance(value, ErrorValue):
            raise _Error(value)
    if isinstance(a, str) or isinstance(b, str):
        x: Any = _text(a).casefold()
        y: Any = _text(b).casefold()
    else:
        x, y = _number(a), _number(b)
    return {
        "=": x == y,
        "<>": x != y,
        "<": x < y,
        ">": x > y,
        "<=": x <= y,
        ">=": x >= y,
    }[op]


def _flat(args: list[Any]) -> list[Any]:
    out: list[Any] = []
    for arg in args:
        out.extend(arg if isinstance(arg, list) else [arg])
    return out


def _regexmatch(args: list[Any]) -> bool:
    return re.search(_text(args[1]), _text(args[0])) is not None


_FUNCTIONS: dict[str, Callable[[list[Any]], Any]] = {
    "OR": lambda a: any(_truth(v) for v in _flat(a)),
    "AND": lambda a: all(_truth(v) for v in _flat(a)),
    "NOT": lambda a: not _truth(a[0]),
    "IF": lambda a: a[1] if _truth(a[0]) else (a[2] if len(a) > 2 else False),
    "SUM": lambda a: sum(_number(v) for v in _flat(a) if not isinstance(v, str)),
    "LEN": lambda a: float(len(_text(a[0]))),
    "TRIM": lambda a: " ".join(_text(a[0]).split()),
    "LOWER": lambda a: _text(a[0]).lower(),
    "UPPER": lambda a: _text(a[0]).upper(),
    "TO_TEXT": lambda a: _text(a[0]),
    "ISBLANK": lambda a: _scalar(a[0]) is None,
    "REGEXMATCH": _regexmatch,
}
