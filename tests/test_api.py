"""The library API used the way a notebook would: `import funnelcli as f`, artifacts, frames."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import polars as pl
import pytest

import funnelcli as f
from funnelcli.spec import Funnel

ROOT = Path(__file__).resolve().parent.parent
DEFAULT = ROOT / "funnels" / "default.yaml"


@pytest.fixture(scope="module")
def funnel() -> Funnel:
    return f.load_funnel(DEFAULT)


def test_a_notebook_session(funnel: Funnel) -> None:
    report = f.report(funnel, since="2024-07-01", until="2025-07-01", by=["channel", "segment"])
    frame = report.to_polars()
    assert isinstance(frame, pl.DataFrame)
    # one row per (breakdown, group) × stage, every number a column
    groups = 1 + sum(len(b.groups) for b in report.breakdowns)
    assert frame.height == groups * len(report.overall.stages)
    assert frame.columns[:5] == ["breakdown", "group", "stage", "label", "count"]
    overall = frame.filter(pl.col("breakdown") == "overall")
    assert overall["count"].to_list() == [s.count for s in report.overall.stages]
    by_channel = frame.filter((pl.col("breakdown") == "channel") & (pl.col("stage") == "lead"))
    assert by_channel["entered"].sum() == report.overall.entered
    assert frame["conversion_from_entry"].dtype == pl.Float64
    # the JSON document is the CLI's
    document = json.loads(report.to_json())
    assert document == report.to_dict() and document["schema"] == "funnelcli.report/1"


def test_the_library_applies_the_yaml_defaults_like_the_cli(funnel: Funnel) -> None:
    from typer.testing import CliRunner

    from funnelcli.cli import app

    out = CliRunner().invoke(app, ["report", str(DEFAULT), "-f", "json"]).stdout
    cli = json.loads(out)
    library = f.report(funnel).to_dict()
    assert library == cli
    assert [b["by"] for b in library["breakdowns"]] == [["channel"]]  # YAML breakdown:


def test_every_artifact_has_a_frame_and_a_document(funnel: Funnel) -> None:
    summary = f.summary(funnel, period="month", as_of="2025-07-01")
    cohorts = f.cohorts(funnel, last=6)
    roi = f.roi(funnel, since="2024-07-01", until="2025-07-01")
    for artifact in (summary, cohorts, roi):
        frame = artifact.to_polars()
        assert frame.columns == list(artifact.tidy_columns())
        assert frame.height == len(artifact.tidy_rows()) > 0
        jsonschema.validate(json.loads(artifact.to_json()), artifact.schema_document())
    assert cohorts.to_polars()["cohort"].n_unique() == 6
    assert (
        roi.to_polars().filter(pl.col("channel") == "(blended)")["leads"].item()
        == roi.blended.leads
    )
    current = summary.to_polars().filter(
        (pl.col("reference") == "previous")
        & (pl.col("group") == "")
        & (pl.col("metric") == "count")
    )
    assert current["current"].to_list() == [s.metrics["count"].current for s in summary.stages]


def test_paths_dates_and_errors() -> None:
    report = f.report(str(DEFAULT), as_of="2025-01-01T00:00:00+08:00", by="segment")
    assert report.period.as_of == "2024-12-31 16:00:00"  # aware times are converted to UTC
    assert f.validate(DEFAULT).sources[0].name == "leads"
    assert f.report_sql(DEFAULT, by="channel").startswith("WITH")
    script = f.report_sql(DEFAULT, by="channel", dialect="postgres")  # a script: views, query
    assert script.startswith("SET TIME ZONE 'UTC'") and "\nWITH " in script
    with pytest.raises(f.UsageError, match="--since must be before --until"):
        f.report(DEFAULT, since="2025-02-01", until="2025-01-01")
    with pytest.raises(f.SpecError, match="chanel"):
        f.report(DEFAULT, by="chanel")
    with pytest.raises(f.UsageError, match="period: expected one of week, month"):
        f.summary(DEFAULT, period="day")
    with pytest.raises(f.FunnelError):
        f.load_funnel(ROOT / "no-such.yaml")


def test_import_is_light_and_polars_only_loads_for_frames() -> None:
    code = (
        "import sys, funnelcli; funnelcli.report; funnelcli.SpecError; "
        "heavy = {'duckdb', 'polars', 'sqlglot', 'pydantic', 'rich'} & set(sys.modules); "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_to_polars_without_polars_says_how_to_get_it(
    funnel: Funnel, monkeypatch: pytest.MonkeyPatch
) -> None:
    report = f.cohorts(funnel, last=2)
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(f.FunnelError, match=r"pip install 'funnelcli\[polars\]'"):
        report.to_polars()


def test_the_readme_python_examples_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ```python block of the README runs as shown, from the repository root."""
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks, "the README shows the library API"
    monkeypatch.chdir(ROOT)
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})
