"""Golden SQL: each funnels/*.yaml compiles (purely, from its headers) to the stored query.

Compared as parsed ASTs, so formatting changes in sqlglot do not matter. After an intended
change to the compiler, run `pytest tests/test_golden_sql.py --update-golden` and review the diff.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import sqlglot

from funnelcli.compile import compile_funnel
from funnelcli.engine.text import detect
from funnelcli.spec import load_funnel
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
    assert sql == compile_funnel(funnel, headers).sql()  # type: ignore[arg-type]  (pure)
    golden = GOLDEN / f"{funnel_path.stem}.sql"
    if request.config.getoption("--update-golden") or not golden.exists():
        golden.write_text(sql + "\n", encoding="utf-8")
        if not request.config.getoption("--update-golden"):
            pytest.fail(f"wrote missing golden file {golden.name}; review and commit it")
    expected = sqlglot.parse_one(golden.read_text(encoding="utf-8"), read="duckdb")
    assert sqlglot.parse_one(sql, read="duckdb") == expected, (
        f"compiled SQL for {funnel_path.name} differs from {golden.name}; if intended, "
        "run pytest --update-golden"
    )


def test_user_values_never_appear_unquoted() -> None:
    """Column names are quoted identifiers in every compiled query."""
    funnel, headers = _headers(ROOT / "funnels" / "default.yaml")
    sql = compile_funnel(funnel, headers).sql()  # type: ignore[arg-type]
    for column in ("created_at", "qualified_at", "trial_started_at", "paid_at", "deal_amount"):
        assert f'"{column}"' in sql
        assert f" {column} " not in sql
