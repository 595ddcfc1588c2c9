"""Golden SQL: each funnels/*.yaml compiles (purely, from its headers) to the stored query.

Compared as parsed ASTs, so formatting changes in sqlglot do not matter. After an intended
change to the compiler, run `pytest tests/test_golden_sql.py --update-golden` and review the diff.
Besides the plain query of every funnel, tests/golden/variants/ holds the forms a report really
runs: over DuckDB-typed columns, each rewrite a plan applies, and the entry periods of summaries.
"""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
import sqlglot

from funnelcli.compile import ReportQuery, compile_funnel, rewrites
from funnelcli.compile.funnel import CompiledFunnel
from funnelcli.engine.text import detect
from funnelcli.spec import load_funnel, parse_funnel
from realdata import REAL_DATA, require

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden"
FUNNELS = sorted((ROOT / "funnels").glob("*.yaml"))


def _headers(funnel_path: Path) -> tuple[object, dict[str, list[str]]]:
    funnel = load_funnel(funnel_path)
    headers = {}
    # Real-data funnels name files in --data DIR (../shared/datasets/…): skipped without it.
    folder = REAL_DATA.get(funnel_path.stem)
    base = require(folder) if folder is not None else funnel.base_dir
    for name, source in funnel.spec.sources.items():
        raw = (base / source.path).read_bytes()
        text = raw.decode(detect(raw[:65536]))  # chinese.yaml's sample is GB18030
        headers[name] = next(csv.reader(text.splitlines()))
    return funnel, headers


@pytest.mark.parametrize("funnel_path", FUNNELS, ids=[f.stem for f in FUNNELS])
def test_compiled_sql_matches_golden(funnel_path: Path, request: pytest.FixtureRequest) -> None:
    funnel, headers = _headers(funnel_path)
    sql = compile_funnel(funnel, headers).sql()  # type: ignore[arg-type]
    _compare(GOLDEN / f"{funnel_path.stem}.sql", sql, request)


# The sample's leads.csv as DuckDB types it (what Engine.schema() gives the compiler).
TYPED = {
    "leads": {
        **dict.fromkeys(
            ("lead_id", "account_id", "company", "channel", "segment", "owner", "country"),
            "VARCHAR",
        ),
        **dict.fromkeys(
            ("created_at", "qualified_at", "trial_started_at", "paid_at", "renewed_at"),
            "TIMESTAMP",
        ),
        "deal_amount": "BIGINT",
        "renewal_amount": "DOUBLE",
    }
}
AS_OF = datetime(2026, 1, 7, 19, 22, 6)
PERIODS = (
    (datetime(2025, 5, 1), datetime(2025, 6, 1)),
    (datetime(2025, 6, 1), datetime(2025, 7, 1)),
)
VARIANTS = {
    "typed": lambda c: c,
    "per_row": lambda c: rewrites.read_per_row(c, ["leads"]),
    "key_checks": lambda c: rewrites.check_keys(c, ["leads"]),
    "anchored": lambda c: rewrites.anchor_at(rewrites.read_per_row(c, ["leads"]), AS_OF),
    "materialized": rewrites.materialize,
    "window_end": rewrites.share_window_end,
}


@pytest.mark.parametrize("variant", [*VARIANTS, "periods"])
def test_the_forms_a_report_runs_match_golden(variant: str, request: pytest.FixtureRequest) -> None:
    funnel = load_funnel(ROOT / "funnels" / "default.yaml")
    query = ReportQuery(breakdowns=(("channel",), ("channel", "segment")))
    if variant == "periods":
        query = ReportQuery(as_of=AS_OF, breakdowns=(("segment",),), periods=PERIODS)
    compiled: CompiledFunnel = compile_funnel(funnel, TYPED, query)
    if variant != "periods":
        compiled = VARIANTS[variant](compiled)
    _compare(GOLDEN / "variants" / f"default-{variant}.sql", compiled.sql(), request)


@pytest.mark.parametrize(
    ("name", "attribution"),
    [("default", "first_known"), ("default", "stage:paid"), ("history", "last")],
)
def test_attributed_breakdowns_match_golden(
    name: str, attribution: str, request: pytest.FixtureRequest
) -> None:
    """`attribution:` (compile/attribution.py): what `funnel sql --by channel` shows."""
    from funnelcli.spec import parse_funnel

    path = ROOT / "funnels" / f"{name}.yaml"
    _, headers = _headers(path)
    text = path.read_text(encoding="utf-8") + f"attribution: {attribution}\n"
    funnel = parse_funnel(text, file=str(path), base_dir=path.parent)
    query = ReportQuery(breakdowns=(("channel",),))
    sql = compile_funnel(funnel, headers, query).sql()  # type: ignore[arg-type]
    variant = attribution.replace(":", "-")
    _compare(GOLDEN / "variants" / f"{name}-attribution-{variant}.sql", sql, request)


def test_the_first_pass_anchor_matches_golden(request: pytest.FixtureRequest) -> None:
    for name in ("default", "accounts", "history"):
        funnel, headers = _headers(ROOT / "funnels" / f"{name}.yaml")
        anchor = compile_funnel(funnel, headers).anchor_query  # type: ignore[arg-type]
        _compare(GOLDEN / "variants" / f"{name}-anchor.sql", anchor.sql(pretty=True), request)


def test_attempts_best_matches_golden(request: pytest.FixtureRequest) -> None:
    """history.yaml under `attempts: best`: the per-key layers run per (key, anchor) and
    `best` keeps each key's furthest-reaching attempt (docs/semantics.md, Attempts)."""
    path = ROOT / "funnels" / "history.yaml"
    _, headers = _headers(path)
    text = path.read_text(encoding="utf-8") + "attempts: best\n"
    funnel = parse_funnel(text, file=str(path), base_dir=path.parent)
    sql = compile_funnel(funnel, headers).sql()  # type: ignore[arg-type]
    _compare(GOLDEN / "variants" / "history-best.sql", sql, request)


def test_attempts_each_matches_golden(request: pytest.FixtureRequest) -> None:
    """history.yaml under `attempts: each`: each attempt's end (`attempt_ends`), the next
    anchor after it (`attempt_next`), the recursive chain of attempts from the earliest
    (`attempt_chain`) and the per-attempt rows it keeps (`each`; docs/semantics.md, Attempts)."""
    path = ROOT / "funnels" / "history.yaml"
    _, headers = _headers(path)
    text = path.read_text(encoding="utf-8") + "attempts: each\n"
    funnel = parse_funnel(text, file=str(path), base_dir=path.parent)
    sql = compile_funnel(funnel, headers).sql()  # type: ignore[arg-type]
    _compare(GOLDEN / "variants" / "history-each.sql", sql, request)


def _compare(golden: Path, sql: str, request: pytest.FixtureRequest) -> None:
    if request.config.getoption("--update-golden") or not golden.exists():
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(sql + "\n", encoding="utf-8")
        if not request.config.getoption("--update-golden"):
            pytest.fail(f"wrote missing golden file {golden.name}; review and commit it")
    expected = sqlglot.parse_one(golden.read_text(encoding="utf-8"), read="duckdb")
    assert sqlglot.parse_one(sql, read="duckdb") == expected, (
        f"compiled SQL differs from {golden.name}; if intended, run pytest --update-golden"
    )


def test_user_values_never_appear_unquoted() -> None:
    """Column names are quoted identifiers in every compiled query."""
    funnel, headers = _headers(ROOT / "funnels" / "default.yaml")
    sql = compile_funnel(funnel, headers).sql()  # type: ignore[arg-type]
    for column in ("created_at", "qualified_at", "trial_started_at", "paid_at", "deal_amount"):
        assert f'"{column}"' in sql
        assert f" {column} " not in sql


def test_exclusions_match_golden(request: pytest.FixtureRequest) -> None:
    """`exclude:` on the history funnel (strict order): an onward item and a funnel-scope one
    (docs/semantics.md, Exclusions): `xl_<i>` lists, `xf_<i>` hits, gates, `excluded_<i>`."""
    import yaml

    from funnelcli.spec import parse_funnel

    path = ROOT / "funnels" / "history.yaml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["exclude"] = [
        {"match": "Closed Lost", "between": ["qualified", "paid"]},
        {"name": "churned", "match": "Churned", "between": ["lead", "trial"], "scope": "funnel"},
    ]
    funnel = parse_funnel(yaml.safe_dump(document), file=str(path), base_dir=path.parent)
    _, headers = _headers(path)
    compiled = compile_funnel(funnel, headers)  # type: ignore[arg-type]
    _compare(GOLDEN / "variants" / "history-exclude.sql", compiled.sql(), request)
    # under attempts: best, per attempt: `best` ranks an attempt a funnel-scope item hits at 0
    document["attempts"] = "best"
    funnel = parse_funnel(yaml.safe_dump(document), file=str(path), base_dir=path.parent)
    compiled = compile_funnel(funnel, headers)  # type: ignore[arg-type]
    _compare(GOLDEN / "variants" / "history-best-exclude.sql", compiled.sql(), request)


@pytest.mark.parametrize("attempts", ["first", "best"])
def test_order_any_matches_golden(attempts: str, request: pytest.FixtureRequest) -> None:
    """history.yaml under `order: any` (its trial `within:` dropped: refused under any):
    `found` (each stage's time from the anchor), `ranked`, `stages_done` (row k = at least k
    stages); under best the anchors are every evidence time (docs/semantics.md, Order
    policy)."""
    import yaml

    from funnelcli.spec import parse_funnel

    path = ROOT / "funnels" / "history.yaml"
    _, headers = _headers(path)
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    document["order"] = "any"
    document["attempts"] = attempts
    for stage in document["stages"]:
        stage.pop("within", None)
    funnel = parse_funnel(yaml.safe_dump(document), file=str(path), base_dir=path.parent)
    sql = compile_funnel(funnel, headers).sql()  # type: ignore[arg-type]
    name = "history-any.sql" if attempts == "first" else "history-any-best.sql"
    _compare(GOLDEN / "variants" / name, sql, request)
