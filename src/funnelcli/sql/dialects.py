"""The report's SQL in another engine's dialect: the few DuckDB constructs that have no typed
sqlglot node of their own rewritten into what Spark and PostgreSQL spell, as one pure pass
(`portable`), and an error naming the construct and the YAML feature where a dialect has no
equivalent, so `funnel sql --dialect X` never prints SQL that will not run.

What each rewrite keeps equal to DuckDB (the parity tests run every sample funnel on all three):
- `min({o0: …, v: x}).v` (sql/ast.first_by): a struct's minimum puts NULL fields after every
  value. Spark orders NULL fields first, so its key struct gets an `is null` flag before each
  field (`min_by(x, struct(o0 is null, o0, …, x is null, x))`); PostgreSQL has no struct
  minimum: `(array_agg(x ORDER BY o0 NULLS LAST, …, x NULLS LAST))[1]`.
- quantiles: DuckDB's and PostgreSQL's `percentile_cont`, Spark's exact `percentile` (both
  interpolate linearly).
- list elements: a bracket past the end is NULL in DuckDB and PostgreSQL; Spark (ANSI mode)
  raises, so it reads `try_element_at`.
- text → time: DuckDB's `try_strptime` is Spark's `try_to_timestamp` (patterns with one letter
  per field, which reads `5/3/2024` as DuckDB's `%d/%m/%Y` does); PostgreSQL has no `try_`
  parse, so its `to_timestamp` and casts are guarded by the shape of the text (a regular
  expression); a well-shaped but impossible date (`2024-02-30`) stops the PostgreSQL script.
- a naive time in a zone → UTC: DuckDB's `AT TIME ZONE` is Spark's `to_utc_timestamp`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlglot import exp

from funnelcli.errors import UsageError

# The dialects whose scripts the tests run (tests/test_dialects.py); the Spark family shares one
# SQL and one set of rewrites.
SPARK = frozenset({"spark", "databricks"})
CHECKED = ("duckdb", "spark", "databricks", "postgres")


@dataclass(frozen=True)
class Missing:
    """A construct a dialect lacks, and the YAML feature that made the query need it."""

    construct: str
    feature: str


# the YAML features whose SQL some dialects lack
_LIST_FEATURE = "`order: strict` with a `shape: long` source (every evidence time kept per id)"
_EXCLUDE_FEATURE = "`exclude:` (each id's excluding evidence times kept as a list)"
_MONEY_FEATURE = "an amount read from text by the money rules (a non-numeric `value:` column)"


def check_dialect(dialect: str) -> str:
    """The dialect, lower-cased, when its scripts are checked; else a UsageError."""
    name = dialect.lower()
    if name not in CHECKED:
        raise UsageError(
            f"--dialect {dialect}: not a dialect funnelcli checks its SQL on; choose one of "
            + ", ".join(CHECKED)
        )
    return name


def unsupported(dialect: str, missing: Missing, purpose: str | None = None) -> UsageError:
    """`purpose`: what asked for the dialect (default `--dialect X`; `--engine spark`)."""
    return UsageError(
        f"{purpose or '--dialect ' + dialect}: {missing.construct} has no equivalent in "
        f"{dialect}; the funnel needs it for {missing.feature}"
    )


def portable(expression: exp.Expr, dialect: str, purpose: str | None = None) -> exp.Expr:
    """`expression` (DuckDB-flavoured, as compiled) rewritten for `dialect`; a copy. Raises
    UsageError naming the construct and the YAML feature when the dialect has no equivalent."""
    name = check_dialect(dialect)
    if name == "duckdb":
        return expression
    tree = expression.copy()
    missing = _missing(tree, name)
    if missing is not None:
        raise unsupported(name, missing, purpose)
    return _post_order(tree, _spark if name in SPARK else _postgres)


def _post_order(node: exp.Expr, rewrite: Callable[[exp.Expr], exp.Expr]) -> exp.Expr:
    """`rewrite` applied children first, so each rewrite sees its operands already rewritten
    (sqlglot's transform() is pre-order and skips the children of a replaced node)."""
    for child in list(node.iter_expressions()):
        new = _post_order(child, rewrite)
        if new is not child:
            child.replace(new)
    return rewrite(node)


def render(
    expression: exp.Expr, dialect: str, *, pretty: bool = True, purpose: str | None = None
) -> str:
    """`portable(expression, dialect)` as SQL text in that dialect."""
    name = check_dialect(dialect)
    return portable(expression, name, purpose).sql(dialect=name, pretty=pretty)


def _missing(tree: exp.Expr, dialect: str) -> Missing | None:
    for node in tree.walk():
        if (
            dialect == "postgres"
            and isinstance(node, exp.RegexpExtract)
            and isinstance(node.args.get("group"), exp.Array)
        ):
            return Missing("regexp_extract into a struct of named groups", _MONEY_FEATURE)
        if isinstance(node, exp.Anonymous) and node.name.lower() in _DUCKDB_ONLY:
            return Missing(f"{node.name.lower()}()", _DUCKDB_ONLY[node.name.lower()])
        if dialect == "postgres" and isinstance(node, exp.ArrayFilter):
            feature = _EXCLUDE_FEATURE if node.this.name.startswith("xl_") else _LIST_FEATURE
            return Missing("a list filtered by a lambda (list_filter)", feature)
        if dialect == "postgres" and isinstance(node, exp.Transform):
            return Missing("a list mapped by a lambda (list_transform)", _MONEY_FEATURE)
    return None


_DUCKDB_ONLY = {
    "struct_extract": "a source read per row (a DuckDB execution tactic)",
    "to_microseconds": "Excel serial dates (`format: excel`)",
}


# ---- Spark ---------------------------------------------------------------------------------


def _spark(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Dot) and _is_first_by(node):
        return _spark_first_by(node)
    if isinstance(node, exp.PercentileCont):
        return exp.Quantile(this=node.this, quantile=node.expression)
    if isinstance(node, exp.RegexpExtract) and isinstance(node.args.get("group"), exp.Array):
        return _spark_groups(node)
    if isinstance(node, exp.Window) and isinstance(node.this, exp.RowNumber):
        return _ordered_row_number(node)
    if isinstance(node, exp.Bracket):
        return _try_element(node)
    if isinstance(node, exp.StrToTime) and node.args.get("safe"):
        fmt = _spark_format(node.args["format"].name)
        return exp.Anonymous(this="try_to_timestamp", expressions=[node.this, _text(fmt)])
    if isinstance(node, exp.RegexpFullMatch):
        return exp.RegexpLike(this=node.this, expression=_anchored(node.expression))
    if isinstance(node, exp.TryCast) and node.to.is_type("timestamptz"):
        # Spark's TIMESTAMP is an instant: text with an offset is converted, naive text is UTC
        return exp.TryCast(this=node.this, to=exp.DataType.build("TIMESTAMP"))
    if isinstance(node, exp.AtTimeZone):
        return exp.Anonymous(this="to_utc_timestamp", expressions=[node.this, node.args["zone"]])
    if isinstance(node, exp.UnixToTime) and node.args.get("scale") is None:
        return exp.Anonymous(this="timestamp_seconds", expressions=[node.this])
    if isinstance(node, exp.TimeToUnix):
        # unix_timestamp() drops the fraction of a second; DuckDB's epoch() keeps it
        micros = exp.Anonymous(this="unix_micros", expressions=[node.this])
        return exp.Div(this=micros, expression=exp.Literal.number("1e6"))
    if isinstance(node, exp.Grouping) and len(node.expressions) > 1:
        # Spark's grouping() takes one column (and grouping_id() wants exactly the GROUP BY's
        # columns in their order): the same bits, the first column the highest
        n = len(node.expressions)
        bits = [
            exp.Mul(
                this=exp.Grouping(expressions=[column.copy()]),
                expression=exp.Literal.number(2 ** (n - 1 - i)),
            )
            for i, column in enumerate(node.expressions)
        ]
        total: exp.Expr = bits[0]
        for bit in bits[1:]:
            total = exp.Add(this=total, expression=bit)
        return exp.Paren(this=total)
    if isinstance(node, exp.Select):
        return _total_when_empty(node)
    return node  # e.g. ARRAY_SORT: Spark's puts NULL elements last, as DuckDB's list_sort does


def _ordered_row_number(window: exp.Window) -> exp.Expr:
    """`ROW_NUMBER() OVER ()` (telling roi's contracts apart) ordered by the select's other
    columns: Spark wants an order and evaluates a CTE per reference, so the numbers must not
    depend on the rows' arrival (identical rows may swap numbers: nothing changes)."""
    select = window.parent.parent if isinstance(window.parent, exp.Alias) else window.parent
    if window.args.get("order") is not None or not isinstance(select, exp.Select):
        return window
    keys = [
        exp.Ordered(this=(e.this if isinstance(e, exp.Alias) else e).copy(), nulls_first=False)
        for e in select.expressions
        if e is not window and e is not window.parent
    ]
    window.set("order", exp.Order(expressions=keys))
    return window


def _spark_groups(node: exp.RegexpExtract) -> exp.Expr:
    """DuckDB's `regexp_extract(x, p, ['a', 'b'])` (the money rules' struct of named groups, ''
    where one does not match) as a struct of one Spark `regexp_extract` per group (the same '')."""

    def group(i: int) -> exp.Expr:
        return exp.RegexpExtract(
            this=node.this.copy(), expression=node.expression.copy(), group=exp.Literal.number(i)
        )

    names = node.args["group"].expressions
    fields = [
        exp.PropertyEQ(this=exp.to_identifier(n.name), expression=group(i))
        for i, n in enumerate(names, 1)
    ]
    return exp.Struct(expressions=fields)


def _total_when_empty(select: exp.Select) -> exp.Expr:
    """GROUP BY GROUPING SETS ((), …) over no rows gives the grand-total row in DuckDB and
    PostgreSQL (standard SQL), none in Spark: add it, computed without the GROUP BY, only when
    there are no rows (its group columns NULL, GROUPING() all ones)."""
    group = select.args.get("group")
    sets = [
        s
        for grouping in (group.expressions if group is not None else [])
        if isinstance(grouping, exp.GroupingSets)
        for s in grouping.expressions
    ]
    if not any(isinstance(s, exp.Tuple) and not s.expressions for s in sets):
        return select
    keys = []
    for s in sets:
        keys += s.expressions if isinstance(s, exp.Tuple) else [s.unnest()]
    ctes = select.args.get("with_")  # the union's, not each side's (roi's renewal query)
    select.set("with_", None)
    total = select.copy()
    total.set("group", None)
    for node in list(total.find_all(exp.Grouping, exp.Column)):
        if isinstance(node, exp.Grouping):
            node.replace(exp.Literal.number(2 ** len(node.expressions) - 1))
        elif node in keys and node.find_ancestor(exp.AggFunc) is None:
            node.replace(exp.Null())
    empty = exp.EQ(this=exp.Count(this=exp.Star()), expression=exp.Literal.number(0))
    union = exp.union(select, total.having(empty, copy=False), distinct=False)
    if ctes is not None:
        union.set("with_", ctes)
    return union


def _try_element(node: exp.Bracket) -> exp.Expr:
    (index,) = node.expressions
    offset = int(node.args.get("offset") or 0)
    one_based = exp.Literal.number(int(index.name) - offset + 1)
    return exp.Anonymous(this="try_element_at", expressions=[node.this, one_based])


def _spark_first_by(node: exp.Dot) -> exp.Expr:
    aggregate, condition = _first_by_parts(node)
    fields = _struct_fields(aggregate.this)
    flagged: list[exp.Expr] = []
    for i, (name, value) in enumerate(fields):
        flagged.append(_field(f"n{i}", exp.Is(this=value.copy(), expression=exp.Null())))
        flagged.append(_field(name, value))
    key = exp.Struct(expressions=flagged)
    result: exp.Expr = exp.ArgMin(this=fields[-1][1].copy(), expression=key)
    if condition is not None:
        result = exp.Filter(this=result, expression=exp.Where(this=condition))
    return result


def _spark_format(fmt: str) -> str:
    """A strptime pattern as Spark's: literals quoted, one letter per numeric field (a one-letter
    field reads one or two digits, as strptime's %d and %m do)."""
    codes = {"%Y": "yyyy", "%m": "M", "%d": "d", "%H": "H", "%M": "m", "%S": "s"}
    codes |= {"%f": "SSSSSS", "%z": "XXX", "%y": "yy", "%I": "h", "%p": "a"}
    out: list[str] = []
    for part in re.split(r"(%.)", fmt):
        if part in codes:
            out.append(codes[part])
        elif part.startswith("%") and len(part) == 2:
            raise UsageError(f"--dialect spark: the date format {fmt!r} ({part}) has no equivalent")
        elif part:
            literal = part.replace("'", "''")
            out.append(f"'{literal}'" if re.search(r"[A-Za-z]", part) else literal)
    return "".join(out)


# ---- PostgreSQL ----------------------------------------------------------------------------


def _postgres(node: exp.Expr) -> exp.Expr:
    if isinstance(node, exp.Dot) and _is_first_by(node):
        return _postgres_first_by(node)
    if isinstance(node, exp.StrToTime) and node.args.get("safe"):
        fmt = node.args["format"].name
        parsed = exp.Anonymous(
            this="to_timestamp", expressions=[node.this.copy(), _text(_postgres_format(fmt))]
        )
        typed = exp.cast(parsed, "TIMESTAMP") if "%z" not in fmt else parsed
        shape = exp.RegexpLike(this=node.this, expression=_text(_shape_of(fmt)))
        return exp.Case().when(shape, typed)
    if isinstance(node, exp.TryCast):
        to = node.to
        if to.is_type("timestamptz", "timestamp", "date"):
            # the shape is tested on the value's text (a column may already be a number)
            shape = exp.RegexpLike(this=_as_text(node.this), expression=_text(_ISO_SHAPE))
            return exp.Case().when(shape, exp.Cast(this=node.this, to=to))
        if to.is_type("double", "bigint", "int", "decimal"):
            shape = exp.RegexpLike(this=_as_text(node.this), expression=_text(_NUMBER_SHAPE))
            return exp.Case().when(shape, exp.Cast(this=node.this, to=to))
        raise UsageError(f"--dialect postgres: TRY_CAST to {to.sql()} has no equivalent")
    if isinstance(node, exp.RegexpFullMatch):
        return exp.RegexpLike(this=node.this, expression=_anchored(node.expression))
    return node


def _as_text(value: exp.Expr) -> exp.Expr:
    """`value` as text for a regular-expression test (PostgreSQL's `~` takes text only)."""
    return exp.cast(value.copy(), "TEXT")


def _postgres_first_by(node: exp.Dot) -> exp.Expr:
    aggregate, condition = _first_by_parts(node)
    fields = _struct_fields(aggregate.this)
    order = exp.Order(
        this=fields[-1][1].copy(),
        expressions=[exp.Ordered(this=v.copy(), nulls_first=False) for _, v in fields],
    )
    listed: exp.Expr = exp.ArrayAgg(this=order)
    if condition is not None:
        listed = exp.Filter(this=listed, expression=exp.Where(this=condition))
    return exp.Bracket(this=exp.Paren(this=listed), expressions=[exp.Literal.number(1)], offset=1)


_ISO_SHAPE = (
    r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?"
    r"(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$"
)
_NUMBER_SHAPE = r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"
_SHAPE_CODES = {
    "%Y": r"\d{4}",
    "%m": r"\d{1,2}",
    "%d": r"\d{1,2}",
    "%H": r"\d{1,2}",
    "%M": r"\d{2}",
    "%S": r"\d{2}",
    "%f": r"\d{1,6}",
    "%z": r"(Z|[+-]\d{2}(:?\d{2})?)",
}


def _shape_of(fmt: str) -> str:
    """A regular expression for the text a strptime pattern reads."""
    out = []
    for part in re.split(r"(%.)", fmt):
        if part in _SHAPE_CODES:
            out.append(_SHAPE_CODES[part])
        elif part.startswith("%") and len(part) == 2:
            raise UsageError(f"--dialect postgres: the date format {fmt!r} has no equivalent")
        else:
            out.append(re.escape(part))
    return "^" + "".join(out) + "$"


def _postgres_format(fmt: str) -> str:
    codes = {"%Y": "YYYY", "%m": "MM", "%d": "DD", "%H": "HH24", "%M": "MI", "%S": "SS"}
    codes |= {"%f": "US", "%z": "TZH:TZM"}
    out = []
    for part in re.split(r"(%.)", fmt):
        if part in codes:
            out.append(codes[part])
        elif part:
            out.append(
                '"' + part.replace('"', '\\"') + '"' if re.search(r"[A-Za-z]", part) else part
            )
    return "".join(out)


# ---- shared --------------------------------------------------------------------------------


def _is_first_by(node: exp.Expr) -> bool:
    """sql/ast.first_by's shape: min(struct).v, the min possibly under a FILTER."""
    if not isinstance(node, exp.Dot) or node.expression.name != "v":
        return False
    aggregate = node.this.this if isinstance(node.this, exp.Filter) else node.this
    return isinstance(aggregate, exp.Min) and isinstance(aggregate.this, exp.Struct)


def _first_by_parts(node: exp.Dot) -> tuple[exp.Min, exp.Expr | None]:
    if isinstance(node.this, exp.Filter):
        return node.this.this, node.this.expression.this
    return node.this, None


def _struct_fields(struct: exp.Struct) -> list[tuple[str, exp.Expr]]:
    return [(e.this.name, e.expression) for e in struct.expressions]


def _field(name: str, value: exp.Expr) -> exp.Expr:
    return exp.PropertyEQ(this=exp.to_identifier(name), expression=value)


def _text(value: str) -> exp.Expr:
    return exp.Literal.string(value)


def _anchored(pattern: exp.Expr) -> exp.Expr:
    return _text(f"^(?:{pattern.name})$")
