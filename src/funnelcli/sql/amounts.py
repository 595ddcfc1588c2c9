"""Amounts written by people (`¥12,000`, `$3.5k`, `1.2万`, `(1,200)`) → exact DECIMAL, by rules.

The rules (docs/money.md is the user-facing copy; `parse_amount_text` is the pure-Python twin
of the SQL that the tests hold against each other):

1. Spaces (also no-break and ideographic spaces) are squeezed and trimmed; empty text is null.
2. One currency symbol or code may lead or trail (not both): `¥ ￥ $ € £ ₩ ₹ 元`, `US$ HK$ NT$
   S$ A$ C$`, `CNY RMB USD EUR GBP JPY HKD SGD AUD CAD CHF INR KRW TWD` (any letter case).
   With the YAML's `currency:` only that currency's own marks (CURRENCY_MARKS): `€100` under
   `currency: USD` is unparseable, never summed as 100 dollars.
3. Negative: a leading minus (`-` or `−`, before or after a leading currency) or the whole amount
   in parentheses `(1,200)` — not both.
4. A multiplier may follow the number: `k`/`K` ×1,000, `m`/`M` ×1,000,000, `千` ×1,000, `万`
   ×10,000, `亿` ×100,000,000.
5. The number, first rule that matches:
   `12000` · `12.5` / `12.500` (one dot is always a decimal point) · `12,000` / `1,234,567.50`
   (commas between groups of three are thousands) · `12,5` / `1234,567` (any other single comma
   is a decimal comma) · `1.234.567` / `1.234,56` (dots between groups of three, optional decimal
   comma) · `12 000,50` / `1'234.50` (spaces or apostrophes between groups of three, either
   decimal mark). At most 20 integer digits; decimals beyond 6 are rounded.
6. Anything else that is not empty is *unparseable*: never 0, never dropped silently; reports
   count it and `funnel validate` names its file and row.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

from sqlglot import exp

AMOUNT_TYPE = "DECIMAL(38, 6)"
_SPACES = "[\\s\u00a0\u202f\u3000]+"
_CURRENCY = (
    "(?:US\\$|HK\\$|NT\\$|S\\$|A\\$|C\\$|[¥￥$€£₩₹元]|CNY|RMB|USD|EUR|GBP|JPY|HKD|SGD|AUD|CAD|CHF"
    "|INR|KRW|TWD)"
)
# The marks a cell may carry under the YAML's `currency:` (upper case, as compared). A bare `$`
# is any dollar, `¥` yuan or yen; a currency not listed here allows only its own code.
CURRENCY_MARKS: dict[str, tuple[str, ...]] = {
    "USD": ("$", "US$"),
    "CNY": ("¥", "￥", "元", "RMB"),
    "JPY": ("¥", "￥", "円"),
    "EUR": ("€",),
    "GBP": ("£",),
    "KRW": ("₩",),
    "INR": ("₹",),
    "HKD": ("$", "HK$"),
    "TWD": ("$", "NT$"),
    "SGD": ("$", "S$"),
    "AUD": ("$", "A$"),
    "CAD": ("$", "C$"),
    "NZD": ("$", "NZ$"),
}


def currency_marks(currency: str | None) -> str:
    """The regex alternation of the currency marks a cell may carry: all known ones without
    `currency:`, else the currency's code and its own symbols."""
    if not currency:
        return _CURRENCY
    code = currency.strip().upper()
    marks = sorted({code, *CURRENCY_MARKS.get(code, ())}, key=lambda m: (-len(m), m))
    return "(?:" + "|".join(re.escape(m) for m in marks) + ")"


def cell_pattern(currency: str | None = None) -> str:
    """The whole-cell pattern. Groups: 1 "(", 2 minus, 3 currency, 4 minus, 5 number,
    6 multiplier, 7 currency, 8 ")"."""
    marks = currency_marks(currency)
    return (
        f"^(\\()? ?([-−])? ?({marks})? ?([-−])? ?([0-9](?:[0-9., '’]*[0-9])?) ?"
        f"(K|M|千|万|亿)? ?({marks})? ?(\\))?$"
    )


PATTERN = cell_pattern()
MULTIPLIERS = {"K": 1_000, "M": 1_000_000, "千": 1_000, "万": 10_000, "亿": 100_000_000}
# (pattern, characters removed, whether a comma is the decimal mark) — tried in this order.
NUMBER_RULES: tuple[tuple[str, str, bool], ...] = (
    ("^[0-9]+$", "", False),
    ("^[0-9]+\\.[0-9]+$", "", False),
    ("^[0-9]{1,3}(,[0-9]{3})+(\\.[0-9]+)?$", ",", False),
    ("^[0-9]+,[0-9]+$", "", True),
    ("^[0-9]{1,3}(\\.[0-9]{3})+(,[0-9]+)?$", ".", True),
    ("^[0-9]{1,3}([ '’][0-9]{3})+([.,][0-9]+)?$", " '’", True),
)
_CANONICAL = "^[0-9]{1,20}(\\.[0-9]+)?$"
_NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE")
_QUANTUM = Decimal("0.000001")


def is_numeric_type(sql_type: str) -> bool:
    """A column DuckDB already read as a number needs no parsing."""
    upper = sql_type.upper()
    return upper.startswith("DECIMAL") or upper.split("(")[0].lstrip("U") in _NUMERIC_TYPES


def is_whole_type(sql_type: str) -> bool:
    """An integer column: every value is an amount. A FLOAT/DOUBLE column can hold NaN and
    ±inf (DuckDB reads `nan` as a number) and a DECIMAL one more than 38 digits: those are
    unparseable amounts like any text that is not one."""
    upper = sql_type.upper()
    return is_numeric_type(upper) and not upper.startswith(("DECIMAL", "FLOAT", "DOUBLE"))


# --- SQL ------------------------------------------------------------------------------------


def _text(raw: exp.Expr) -> exp.Expr:
    squeezed = _replace(exp.cast(raw.copy(), "VARCHAR"), _SPACES, " ")
    return exp.Upper(this=exp.Trim(this=squeezed))


_GROUPS = ("open", "minus1", "cur1", "minus2", "number", "suffix", "cur2", "close")
_BOUND = "m"  # the lambda variable holding the struct of PATTERN's groups


def _field(name: str) -> exp.Expr:
    return exp.Dot(this=exp.column(_BOUND), expression=exp.to_identifier(name))


def _present(name: str) -> exp.Expr:
    return exp.NEQ(this=_field(name), expression=exp.Literal.string(""))


def _replace(value: exp.Expr, pattern: str, replacement: str) -> exp.Expr:
    return exp.RegexpReplace(
        this=value,
        expression=exp.Literal.string(pattern),
        replacement=exp.Literal.string(replacement),
        modifiers=exp.Literal.string("g"),
    )


def _matches(value: exp.Expr, pattern: str) -> exp.Expr:
    return exp.func("regexp_matches", value.copy(), exp.Literal.string(pattern))


def _canonical(number: exp.Expr) -> exp.Expr:
    """The number group as `digits[.digits]`, or NULL when no rule matches."""
    case = exp.Case()
    for pattern, removed, decimal_comma in NUMBER_RULES:
        value: exp.Expr = number.copy()
        if removed:
            value = _replace(value, f"[{re.escape(removed)}]", "")
        if decimal_comma:
            value = exp.func("replace", value, exp.Literal.string(","), exp.Literal.string("."))
        case = case.when(_matches(number, pattern), value)
    return case


def _well_formed() -> exp.Expr:
    """A number, balanced parentheses, one sign and one currency at most."""
    return exp.and_(
        _present("number"),
        exp.EQ(this=exp.Paren(this=_present("open")), expression=exp.Paren(this=_present("close"))),
        exp.not_(exp.and_(_present("minus1"), _present("minus2"))),
        exp.not_(exp.and_(_present("open"), exp.or_(_present("minus1"), _present("minus2")))),
        exp.not_(exp.and_(_present("cur1"), _present("cur2"))),
    )


def _from_groups() -> exp.Expr:
    """The amount from the struct of PATTERN's groups (the lambda body)."""
    canonical = _canonical(_field("number"))
    number = exp.TryCast(
        this=exp.Case().when(_matches(canonical, _CANONICAL), canonical.copy()),
        to=exp.DataType.build(AMOUNT_TYPE),
    )
    multiplier = exp.Case(default=exp.Literal.number(1))
    for suffix, factor in MULTIPLIERS.items():
        multiplier = multiplier.when(
            exp.EQ(this=_field("suffix"), expression=exp.Literal.string(suffix)),
            exp.Literal.number(factor),
        )
    negative = exp.or_(_present("open"), _present("minus1"), _present("minus2"))
    signed = exp.Mul(
        this=exp.Mul(this=number, expression=multiplier),
        expression=exp.Case(default=exp.Literal.number(1)).when(negative, exp.Literal.number(-1)),
    )
    return exp.Case().when(_well_formed(), signed)


def amount(raw: exp.Expr, sql_type: str = "VARCHAR", currency: str | None = None) -> exp.Expr:
    """`raw` as DECIMAL(38, 6) by the module's rules; NULL when empty or unparseable (also when
    it carries another currency's mark than `currency`).

    PATTERN runs once per value: its groups are extracted into a struct that a one-element
    list_transform binds to a lambda variable, so the rules read fields instead of re-matching.
    """
    if is_numeric_type(sql_type):  # NaN, ±inf and overflow: NULL, counted by `unparseable`
        return exp.TryCast(this=raw.copy(), to=exp.DataType.build(AMOUNT_TYPE))
    groups = exp.RegexpExtract(
        this=_text(raw),
        expression=exp.Literal.string(cell_pattern(currency)),
        group=exp.Array(expressions=[exp.Literal.string(name) for name in _GROUPS]),
    )
    bound = exp.Lambda(this=_from_groups(), expressions=[exp.to_identifier(_BOUND)])
    value = exp.Anonymous(
        this="list_extract",
        expressions=[
            exp.func("list_transform", exp.Array(expressions=[groups]), bound),
            exp.Literal.number(1),
        ],
    )
    return exp.cast(value, AMOUNT_TYPE)


def unparseable(raw: exp.Expr, sql_type: str = "VARCHAR", currency: str | None = None) -> exp.Expr:
    """True where `raw` holds non-empty text that `amount` cannot read (the reject predicate)."""
    if is_whole_type(sql_type):
        return exp.false()
    if is_numeric_type(sql_type):
        return exp.and_(
            exp.not_(exp.Is(this=raw.copy(), expression=exp.null())),
            exp.Is(this=amount(raw, sql_type), expression=exp.null()),
        )
    return exp.and_(
        exp.NEQ(
            this=exp.func("coalesce", _text(raw), exp.Literal.string("")),
            expression=exp.Literal.string(""),
        ),
        exp.Is(this=amount(raw, sql_type, currency), expression=exp.null()),
    )


# --- pure Python twin -------------------------------------------------------------------------


class UnparseableAmount(ValueError):
    """Non-empty text that is not an amount by the module's rules."""


def parse_amount_text(text: str | None, currency: str | None = None) -> Decimal | None:
    """The same rules in Python: Decimal (6 places), None for empty, UnparseableAmount else."""
    if text is None:
        return None
    squeezed = re.sub(_SPACES, " ", text).strip().upper()
    if not squeezed:
        return None
    found = re.fullmatch(cell_pattern(currency).strip("^$"), squeezed)
    if found is None:
        raise UnparseableAmount(text)
    open_, minus1, cur1, minus2, number, suffix, cur2, close = (g or "" for g in found.groups())
    if bool(open_) != bool(close) or (minus1 and minus2) or (open_ and (minus1 or minus2)):
        raise UnparseableAmount(text)
    if cur1 and cur2:
        raise UnparseableAmount(text)
    canonical = None
    for pattern, removed, decimal_comma in NUMBER_RULES:
        if re.fullmatch(pattern.strip("^$"), number):
            canonical = re.sub(f"[{re.escape(removed)}]", "", number) if removed else number
            if decimal_comma:
                canonical = canonical.replace(",", ".")
            break
    if canonical is None or not re.fullmatch(_CANONICAL.strip("^$"), canonical):
        raise UnparseableAmount(text)
    value = Decimal(canonical).quantize(_QUANTUM, rounding=ROUND_HALF_UP)
    value *= MULTIPLIERS.get(suffix, 1)
    if open_ or minus1 or minus2:
        value = -value
    return value.quantize(_QUANTUM)
