"""User conditions (`when:`, `filter:`): parsed with sqlglot, allow-listed, never pasted as text."""

from __future__ import annotations

from collections.abc import Callable

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError

# What may stand at the top of a condition: something true or false.
_CONDITIONS: tuple[type[exp.Expr], ...] = (
    exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE,
    exp.And, exp.Or, exp.Not, exp.Paren,
    exp.In, exp.Is, exp.Like, exp.ILike, exp.Between, exp.Boolean,
)  # fmt: skip
# The whole grammar a user condition may use: the conditions above over column references and
# literals (IN takes a list of literals; IS only NULL; both checked in _check).
_ALLOWED: tuple[type[exp.Expr], ...] = (
    *_CONDITIONS, exp.Column, exp.Identifier, exp.Literal, exp.Null, exp.Neg,
)  # fmt: skip


# Parsing grows with the text (about 0.5 ms per `x = 'v'` term, three parses per run): 10,000
# characters (some 600 OR terms or 1,000 IN values) parse in well under a second, where a
# 400,000-value IN list took minutes. A long list of values belongs in a lookup source.
MAX_CONDITION_CHARS = 10_000


class ConditionError(ValueError):
    """The condition is not valid SQL or uses something outside the allow-list."""


def _check_size(text: str) -> None:
    if len(text) > MAX_CONDITION_CHARS:
        raise ConditionError(
            f"{len(text):,} characters, more than the {MAX_CONDITION_CHARS:,} a condition may "
            "have; for a long list of values, put them in a file declared as a lookup source "
            "(shape: lookup) and break down or filter on its column"
        )


def parse_condition(
    text: str, resolve: Callable[[str], str], type_of: Callable[[str], str] | None = None
) -> exp.Expr:
    """Parse one boolean condition; `resolve` maps a column name to its raw header (or raises).

    Returns a sqlglot expression whose column references are quoted identifiers of the raw
    headers, so nothing the user wrote reaches DuckDB as text. `type_of` (a column name →
    its DuckDB type, "" when unknown) lets a comparison DuckDB could not run (a text column
    against a number) be refused here, naming the column, so `validate` and `report` agree.
    """
    statements = _parse(text)
    if len(statements) != 1 or statements[0] is None:
        raise ConditionError("expected exactly one condition (no ';')")
    tree = statements[0]
    _check(tree)
    if type_of is not None:
        _check_types(tree, type_of)
        tree = _numeric_sides(tree)
    unwrapped = tree.unnest()
    if not isinstance(unwrapped, _CONDITIONS):
        raise ConditionError(
            'must be a true/false condition such as "deal_stage = \'Won\'" or "amount > 0"'
        )
    return _resolve_columns(tree, resolve)


def condition_columns(text: str) -> list[str]:
    """Column names a (valid) condition refers to, in order of appearance, without duplicates."""
    statements = _parse(text)
    tree = statements[0] if statements else None
    if tree is None:
        return []
    names: list[str] = []
    for column in tree.find_all(exp.Column):
        if column.name not in names:
            names.append(column.name)
    return names


def _parse(text: str) -> list[exp.Expr | None]:
    """sqlglot's parse, its errors as one plain line (no terminal highlighting)."""
    _check_size(text)
    try:
        return sqlglot.parse(text, read="duckdb")
    except ParseError as exc:
        if not exc.errors:
            raise ConditionError("not a valid condition") from None
        first = exc.errors[0]
        near = f" near {first['highlight']!r}" if first.get("highlight") else ""
        where = f" at column {first['col']}" if first.get("col") else ""
        raise ConditionError(
            f"not a valid condition: {first['description']}{where}{near}"
        ) from None
    except sqlglot.errors.TokenError as exc:
        raise ConditionError(f"not a valid condition: {exc}") from None


def _check(tree: exp.Expr) -> None:
    for node in tree.walk():
        if not isinstance(node, _ALLOWED):
            raise ConditionError(
                f"'{_describe(node)}' is not allowed in a condition (allowed: "
                "columns, literals, comparisons, AND/OR/NOT, IN, IS NULL, LIKE, "
                "BETWEEN)"
            )
        if isinstance(node, exp.Column) and (node.table or node.args.get("db")):
            raise ConditionError(f"'{node.sql()}': use a plain column name, without a table")
        if isinstance(node, exp.In):
            _check_in(node)
        if isinstance(node, exp.Is) and not isinstance(node.expression, exp.Null):
            raise ConditionError("IS is only allowed as IS NULL or IS NOT NULL")


_COMPARISONS = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE, exp.In, exp.Between)
_NUMBER_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "FLOAT", "DOUBLE", "DEC")


def _check_types(tree: exp.Expr, type_of: Callable[[str], str]) -> None:
    """A column compared with literals of another kind: a text column with a number, a number
    column with text that is not a number (DuckDB fails on the first value it cannot cast,
    naming internal names)."""
    for node in tree.find_all(*_COMPARISONS):
        column = node.this if isinstance(node.this, exp.Column) else None
        if column is None:
            continue
        sql_type = type_of(column.name).upper()
        if not sql_type:
            continue
        others = (
            [*node.expressions]
            if isinstance(node, exp.In)
            else [node.args.get(k) for k in ("expression", "low", "high")]
        )
        for value in others:
            if value is None or not _is_literal(value) or isinstance(value, exp.Null):
                continue
            literal = value.this if isinstance(value, exp.Neg) else value
            shown = value.sql(dialect="duckdb")
            if sql_type == "VARCHAR" and not literal.is_string:
                raise ConditionError(
                    f"column '{column.name}' holds text, compared with the number {shown}; "
                    f"quote it to compare text ({column.name} = '{shown}'), or fix the values "
                    "that are not numbers in the column"
                )
            if sql_type.startswith(_NUMBER_TYPES) and literal.is_string:
                try:
                    float(literal.this)
                except ValueError:
                    raise ConditionError(
                        f"column '{column.name}' holds numbers, compared with the text {shown}"
                    ) from None


def _numeric_sides(tree: exp.Expr) -> exp.Expr:
    """A column compared with numbers is compared as a number (TRY_CAST … AS DOUBLE): a
    number column may be read as text (the tolerant reading that finds rejects), and DuckDB
    will not compare text with a number."""

    def cast(node: exp.Expr) -> exp.Expr:
        if not isinstance(node, _COMPARISONS) or not isinstance(node.this, exp.Column):
            return node
        values = (
            [*node.expressions]
            if isinstance(node, exp.In)
            else [node.args.get(k) for k in ("expression", "low", "high")]
        )
        literals = [v for v in values if v is not None and not isinstance(v, exp.Null)]
        if literals and all(_is_literal(v) and not _is_text(v) for v in literals):
            node.set("this", exp.TryCast(this=node.this, to=exp.DataType.build("DOUBLE")))
        return node

    return tree.transform(cast)


def _is_text(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal) and node.is_string


def _is_literal(node: exp.Expr) -> bool:
    if isinstance(node, exp.Neg):
        return isinstance(node.this, exp.Literal) and not node.this.is_string
    return isinstance(node, exp.Literal | exp.Null)


def _check_in(node: exp.In) -> None:
    """IN takes a parenthesised list of literal values: `channel IN lead_id` (which DuckDB
    runs as a substring test) and `IN (SELECT …)` are refused."""
    if node.args.get("query") or node.args.get("unnest"):
        raise ConditionError("IN takes a list of literal values, not a subquery")
    values = node.expressions
    if node.args.get("field") is not None or not values:
        raise ConditionError("IN takes a list of literal values in parentheses, e.g. IN ('a', 'b')")
    for value in values:
        if not _is_literal(value):
            raise ConditionError(
                f"IN takes literal values only, not '{_describe(value)}' "
                "(compare columns with = instead)"
            )


def _describe(node: exp.Expr) -> str:
    if isinstance(node, exp.Func):
        return f"{node.sql_name()}(...)"
    text = node.sql(dialect="duckdb")
    return text if len(text) <= 40 else node.key.upper()


def _resolve_columns(tree: exp.Expr, resolve: Callable[[str], str]) -> exp.Expr:
    def rename(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column):
            return exp.column(resolve(node.name), quoted=True)
        return node

    return tree.transform(rename)
