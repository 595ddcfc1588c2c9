"""The rewrite passes (compile/rewrites.py) on input/expected SQL pairs, without DuckDB.

One fixture file per rule in tests/fixtures/rewrites/, in the style of sqlglot's optimizer
fixtures: `# title:` names a case, `# args:` gives the rule's argument, then the input SQL and
the expected SQL (or NONE), compared as parsed ASTs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from funnelcli.compile import rewrites
from funnelcli.compile.columns import ResultColumns
from funnelcli.compile.funnel import CompiledFunnel

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "rewrites"


@dataclass(frozen=True)
class Pair:
    rule: str
    title: str
    args: str
    given: str
    expected: str | None


def pairs() -> list[Pair]:
    found = []
    for path in sorted(FIXTURES.glob("*.sql")):
        title = args = ""
        statements: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("# title:"):
                title, args, statements = line.removeprefix("# title:").strip(), "", []
            elif line.startswith("# args:"):
                args = line.removeprefix("# args:").strip()
            elif line.strip() and not line.startswith("#"):
                statements.append(line.strip())
                if len(statements) == 2:
                    expected = None if statements[1] == "NONE" else statements[1]
                    found.append(Pair(path.stem, title, args, statements[0], expected))
    return found


PAIRS = pairs()


def _select(sql: str) -> exp.Select:
    tree = sqlglot.parse_one(sql, read="duckdb")
    assert isinstance(tree, exp.Select)
    return tree


def _ast(sql: str | exp.Expr) -> exp.Expr:
    """Compared as parsed SQL (like tests/test_golden_sql.py): what DuckDB would be given."""
    text = sql if isinstance(sql, str) else sql.sql(dialect="duckdb")
    return sqlglot.parse_one(text, read="duckdb")


def _compiled(query: exp.Select, sources: tuple[str, ...]) -> CompiledFunnel:
    columns = ResultColumns(
        stage_count=1,
        sources=sources,
        aliases={},
        groupings=(),
        duplicate_sources=frozenset(),
    )
    return CompiledFunnel(
        query=query,
        columns=columns,
        stage_names=("lead",),
        breakdowns=(),
        typed_columns=(),
        anchor_query=exp.select("1"),
    )


def _apply(pair: Pair) -> exp.Expr | None:
    given = _select(pair.given)
    if pair.rule == "per_row":
        return rewrites.per_row(given)
    if pair.rule == "anchor_at":
        return rewrites.anchor_at(
            _compiled(given, ("leads",)), datetime.fromisoformat(pair.args)
        ).query
    if pair.rule == "materialize":
        return rewrites.materialize(_compiled(given, ("leads",))).query
    if pair.rule == "share_window_end":
        return rewrites.share_window_end(_compiled(given, ("leads",))).query
    if pair.rule == "check_keys":
        compiled = _compiled(given, ("leads", "deals"))
        return rewrites.check_keys(compiled, pair.args.split(",")).query
    raise AssertionError(f"no rule {pair.rule}")


@pytest.mark.parametrize("pair", PAIRS, ids=[f"{p.rule}: {p.title}" for p in PAIRS])
def test_rewrite(pair: Pair) -> None:
    before = pair.given
    found = _apply(pair)
    if pair.expected is None:
        assert found is None
        return
    assert found is not None
    assert _ast(found) == _ast(pair.expected), found.sql(dialect="duckdb")
    assert _select(pair.given).sql() == _select(before).sql()  # the input is not changed


def test_every_rule_has_fixtures() -> None:
    assert {p.rule for p in PAIRS} == {
        "per_row",
        "anchor_at",
        "materialize",
        "check_keys",
        "share_window_end",
    }


def test_a_rewrite_leaves_its_input_alone() -> None:
    pair = next(p for p in PAIRS if p.rule == "check_keys")
    compiled = _compiled(_select(pair.given), ("leads", "deals"))
    before = compiled.query.sql()
    rewritten = rewrites.check_keys(compiled, ["leads"])
    assert compiled.query.sql() == before
    assert compiled.columns.checks == () and rewritten.columns.checks == ("leads",)


def test_key_check_of_the_first_rows() -> None:
    pair = next(p for p in PAIRS if p.rule == "check_keys")
    check = rewrites.key_check(_compiled(_select(pair.given), ("leads", "deals")), "deals", 100)
    assert _ast(check) == _ast(
        'SELECT COUNT(DISTINCT HASH(CAST("lead_id" AS TEXT))) '
        'FILTER (WHERE NOT CAST("lead_id" AS TEXT) IS NULL) = COUNT(*) AS "distinct" '
        'FROM (SELECT * FROM "source_deals" LIMIT 100) AS head'
    )


def test_per_row_candidates_are_the_sources_it_can_rewrite() -> None:
    pair = next(p for p in PAIRS if p.rule == "check_keys")
    compiled = _compiled(_select(pair.given), ("leads", "deals"))
    assert rewrites.per_row_candidates(compiled) == ("leads", "deals")
