"""docs/sales.md and docs/real-data.md: the `lost:` outcome, sales metrics, lookup sources,
snapshot evidence and `--data`, on tiny hand-computed fixtures with exact expected numbers."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

import funnelcli
from funnelcli.cli import app
from funnelcli.errors import FunnelError
from funnelcli.outputs.report import FunnelReport, GroupResult, SalesMetrics
from funnelcli.spec import load_funnel, parse_funnel

# A pipeline snapshot: current stage only, dates empty depending on the stage (like Maven's).
DEALS = """\
id,agent,product,stage,engage,close,value
d1,Ann,GTXPro,Won,2024-01-01,2024-01-11,100
d2,Ann,GTX Basic,Lost,2024-01-02,2024-01-05,0
d3,Bob,GTXPro,Won,2024-01-03,2024-01-23,300
d4,Bob,GTX Basic,Engaging,2024-01-04,,
d5,Cid,GTX Basic,Prospecting,,,
d6,,GTX Basic,Lost,2024-01-06,2024-01-07,0
"""
TEAMS = "agent,office\nAnn,East\nBob,West\nBob,West\n"  # Bob twice: must not double his deals
PRODUCTS = "product,series\nGTX Pro,PRO\nGTX Basic,BASIC\n"

PIPELINE = """\
sources:
  deals: {path: deals.csv, shape: snapshot, id: id, stage: stage}
  teams: {path: teams.csv, shape: lookup, key: agent, join: agent}
  products: {path: products.csv, shape: lookup, key: product, join: product%s}
stages:
  - {name: prospecting, match: Prospecting}
  - {name: engaging, at: engage}
  - {name: won, match: Won, at: close, value: value}
%s
"""
MAPPED = PIPELINE % (", map: {GTXPro: GTX Pro}", "lost: {match: Lost}")
UNMAPPED = PIPELINE % ("", "lost: {match: Lost}")
NO_LOST = PIPELINE % ("", "")


def run(
    tmp_path: Path,
    yaml_text: str,
    *,
    by: tuple[tuple[str, ...], ...] = (),
    since: str | None = None,
) -> FunnelReport:
    (tmp_path / "deals.csv").write_text(DEALS)
    (tmp_path / "teams.csv").write_text(TEAMS)
    (tmp_path / "products.csv").write_text(PRODUCTS)
    (tmp_path / "funnel.yaml").write_text(yaml_text)
    return funnelcli.report(load_funnel(tmp_path / "funnel.yaml"), since=since, by=by, min_n=0)


def groups(report: FunnelReport, index: int = 0) -> dict[str, GroupResult]:
    return {" / ".join(g.key.values()): g for g in report.breakdowns[index].groups}


def sales(group: FunnelReport | GroupResult) -> SalesMetrics:
    result = group.overall if isinstance(group, FunnelReport) else group
    assert result.sales is not None
    return result.sales


def test_snapshot_stages_lost_and_sales_metrics(tmp_path: Path) -> None:
    report = run(tmp_path, MAPPED)
    # prospecting: all 6 (d5 untimed, the rest by backfill); engaging: every engage date,
    # Lost deals included (d1 d2 d3 d4 d6); won: d1 d3.
    assert [s.count for s in report.overall.stages] == [6, 5, 2]
    # lost: d2 d6; open: 6 - 2 - 2 = 2 (d4 engaging, d5 prospecting).
    # cycle: entry = engage date (prospecting has no time): d1 10 days, d3 20 → median 15.
    # average deal: (100 + 300) / 2 = 200; velocity: 2 × 200 × 0.5 ÷ 15.
    assert sales(report) == SalesMetrics(
        won_stage="won",
        won=2,
        lost=2,
        open=2,
        win_rate_closed=0.5,
        win_rate_open=2 / 6,
        cycle_n=2,
        cycle_median_days=15.0,
        average_deal_value=200.0,
        sales_velocity=2 * 200 * 0.5 / 15,
    )
    assert report.overall.stages[2].value_sum == 400.0


def test_untimed_entry_is_excluded_by_since_and_counted(tmp_path: Path) -> None:
    report = run(tmp_path, MAPPED, since="2024-01-01")
    # d5 (Prospecting, no date) has no entry time: set aside and counted.
    assert report.data_quality.ids_without_entry_time == 1
    assert report.overall.entered == 5
    assert (sales(report).open, sales(report).lost, sales(report).won) == (1, 2, 2)


def test_without_lost_only_the_open_win_rate_and_velocity_uses_it(tmp_path: Path) -> None:
    metrics = sales(run(tmp_path, NO_LOST))
    assert (metrics.lost, metrics.win_rate_closed, metrics.open) == (None, None, 4)
    assert metrics.win_rate_open == 2 / 6
    assert metrics.sales_velocity == 4 * 200 * (2 / 6) / 15


def test_sales_per_group_through_a_lookup_with_duplicate_keys(tmp_path: Path) -> None:
    report = run(tmp_path, MAPPED, by=(("office",),))
    by_office = groups(report)
    # East: d1 won, d2 lost. West: d3 won, d4 open (Bob's two lookup rows count once).
    # (none): d5 (agent Cid is not in teams.csv) and d6 (empty agent), d6 lost.
    assert {k: g.entered for k, g in by_office.items()} == {"East": 2, "West": 2, "(none)": 2}
    assert report.data_quality.rows_read == {"deals": 6}  # the join adds no rows
    assert sales(by_office["East"]).win_rate_closed == 0.5
    assert sales(by_office["West"]).win_rate_closed == 1.0
    assert sales(by_office["West"]).open == 1
    assert sales(by_office["(none)"]).win_rate_closed == 0.0
    assert sales(by_office["(none)"]).cycle_median_days is None
    assert sales(by_office["(none)"]).sales_velocity is None
    # Rows whose join value matches no key: Cid (1 row, 1 id). An empty agent is not a key.
    teams = report.data_quality.unmatched_lookups[0]
    assert (teams.lookup, teams.join) == ("teams", "agent")
    assert [(v.value, v.rows, v.ids) for v in teams.values] == [("Cid", 1, 1)]
    assert any(
        "lookup teams: 1 agent value(s) match no key" in n
        for n in report.to_dict()["data_quality"]["notes"]
    )


def test_map_reconciles_spellings_and_unmatched_values_are_reported_until_mapped(
    tmp_path: Path,
) -> None:
    unmapped = run(tmp_path, UNMAPPED, by=(("series",),))
    assert {k: g.entered for k, g in groups(unmapped).items()} == {"BASIC": 4, "(none)": 2}
    products = unmapped.data_quality.unmatched_lookups[1]
    assert [(v.value, v.rows, v.ids) for v in products.values] == [("GTXPro", 2, 2)]

    mapped = run(tmp_path, MAPPED, by=(("series",),))
    by_series = groups(mapped)
    assert {k: g.entered for k, g in by_series.items()} == {"BASIC": 4, "PRO": 2}
    assert sales(by_series["PRO"]).win_rate_closed == 1.0
    assert sales(by_series["BASIC"]).win_rate_closed == 0.0
    assert mapped.data_quality.unmatched_lookups[1].values == ()
    # --by on a funnel column keeps the raw spelling: the lookup only adds columns.
    by_product = groups(run(tmp_path, MAPPED, by=(("product",),)))
    assert set(by_product) == {"GTX Basic", "GTXPro"}


def test_lookup_columns_work_in_filter(tmp_path: Path) -> None:
    report = run(tmp_path, MAPPED + "filter: \"office = 'East'\"\n")
    assert report.overall.entered == 2
    assert report.data_quality.ids_filtered_out == 4


def test_explicit_won_stage_and_empty_cohort(tmp_path: Path) -> None:
    report = run(tmp_path, MAPPED + "won: engaging\n", since="2030-01-01")
    metrics = sales(report)
    assert metrics.won_stage == "engaging"
    assert (metrics.won, metrics.win_rate_open, metrics.win_rate_closed) == (0, None, None)
    assert (metrics.cycle_median_days, metrics.average_deal_value, metrics.sales_velocity) == (
        None,
        None,
        None,
    )


def test_win_stage_defaults_to_paid_and_a_zero_day_cycle_gives_no_velocity(
    tmp_path: Path,
) -> None:
    (tmp_path / "leads.csv").write_text(
        "id,created,paid,renewed,amount\na,2024-01-01,2024-01-01,2024-06-01,10\nb,2024-01-02,,,\n"
    )
    (tmp_path / "f.yaml").write_text(
        textwrap.dedent(
            """\
            sources: {leads: {path: leads.csv, id: id}}
            stages:
              - {name: lead, at: created}
              - {name: paid, at: paid, value: amount}
              - {name: renewed, at: renewed}
            """
        )
    )
    metrics = sales(funnelcli.report(load_funnel(tmp_path / "f.yaml")))
    assert (metrics.won_stage, metrics.won, metrics.open, metrics.lost) == ("paid", 1, 1, None)
    assert (metrics.cycle_n, metrics.cycle_median_days) == (1, 0.0)
    assert metrics.average_deal_value == 10.0
    assert metrics.sales_velocity is None  # ÷ 0 days


@pytest.mark.parametrize(
    ("yaml_text", "pattern"),
    [
        (
            "sources:\n  t: {path: t.csv, shape: lookup, key: a, join: a}\n"
            "stages: [{name: x, at: b}]\n",
            r"sources: at least one source must not be a lookup",
        ),
        (
            "sources:\n  l: {path: l.csv, id: i}\n  t: {path: t.csv, shape: lookup, key: a}\n"
            "stages: [{name: x, at: b}]\n",
            r":3: sources\.t: a lookup source needs join:",
        ),
        (
            "sources:\n  l: {path: l.csv, id: i, join: a}\nstages: [{name: x, at: b}]\n",
            r":2: sources\.l\.join: join: is for shape: lookup",
        ),
        (
            "sources:\n  l: {path: l.csv, id: i}\n"
            "  t: {path: t.csv, shape: lookup, key: a, join: a}\n"
            "stages: [{name: x, source: t, at: b}]\n",
            r"stages\[0\]\.source: source 't' is a lookup",
        ),
        (
            "sources:\n  l: {path: l.csv}\nstages: [{name: x, at: b}]\n",
            r":2: sources\.l: required key is missing: id",
        ),
        (
            "sources:\n  l: {path: l.csv, id: i}\nstages: [{name: won, at: b}]\nwon: wun\n",
            r":4: won: unknown stage 'wun' \(did you mean 'won'\?\)",
        ),
        (
            "sources:\n  l: {path: l.csv, id: i}\nstages: [{name: won, at: b}]\n"
            "lost: {match: Lost}\n",
            r":4: lost\.match: match: needs a long or snapshot source",
        ),
        (
            "sources:\n  l: {path: l.csv, id: i}\nstages: [{name: won, at: b}]\n"
            'lost: {source: x, when: "a = 1"}\n',
            r":4: lost\.source: unknown source 'x'",
        ),
        (
            "sources:\n  l: {path: l.csv, id: i}\nstages: [{name: won, at: b}]\nlost: {mach: L}\n",
            r":4: lost\.mach: unknown key 'mach' \(did you mean 'match'\?\)",
        ),
    ],
)
def test_spec_errors_name_the_key(yaml_text: str, pattern: str) -> None:
    with pytest.raises(FunnelError, match=pattern):
        parse_funnel(yaml_text, file="f.yaml")


def test_lookup_columns_that_do_not_exist_name_the_key(tmp_path: Path) -> None:
    with pytest.raises(FunnelError, match=r"sources\.teams\.key: column 'agent_name' not found"):
        run(tmp_path, MAPPED.replace("key: agent,", "key: agent_name,"))
    with pytest.raises(FunnelError, match=r"sources\.teams\.join: column 'rep' not found"):
        run(tmp_path, MAPPED.replace("join: agent}", "join: rep}"))


# --- --data DIR: one definition, many weekly export folders ----------------------------------


def _cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": "100", "NO_COLOR": "1"})
    return result.exit_code, result.stdout, result.stderr


def test_data_dir_reads_each_export_folder_with_one_definition(tmp_path: Path) -> None:
    definition = tmp_path / "defs" / "pipeline.yaml"
    definition.parent.mkdir()
    definition.write_text(MAPPED)
    for week, rows in (("week1", 3), ("week2", 6)):
        folder = tmp_path / "exports" / week
        folder.mkdir(parents=True)
        (folder / "deals.csv").write_text("".join(DEALS.splitlines(keepends=True)[: rows + 1]))
        (folder / "teams.csv").write_text(TEAMS)
        (folder / "products.csv").write_text(PRODUCTS)
    entered = {}
    for week in ("week1", "week2"):
        folder = str(tmp_path / "exports" / week)
        code, out, err = _cli("report", str(definition), "--data", folder, "-f", "json")
        assert code == 0, err
        entered[week] = json.loads(out)["overall"]["entered"]
        assert _cli("validate", str(definition), "--data", folder)[0] == 0
        code, out, _ = _cli("sql", str(definition), "--data", folder)
        assert code == 0 and "read_csv" not in out  # SQL reads views, never paths
    assert entered == {"week1": 3, "week2": 6}
    # Without --data, paths resolve against the YAML's folder: a one-line error with a hint.
    code, out, err = _cli("report", str(definition))
    assert code == 1 and out == ""
    assert "sources.deals.path: file not found" in err and "pass --data DIR" in err
    assert len(err.strip().splitlines()) == 1


def test_lookup_joined_on_the_id_and_crossed_with_a_funnel_column(tmp_path: Path) -> None:
    (tmp_path / "regions.csv").write_text("deal,region\nd1,North\nd2,North\nd3,South\nd9,West\n")
    yaml_text = MAPPED.replace(
        "stages:", "  regions: {path: regions.csv, shape: lookup, key: deal, join: id}\nstages:"
    )
    report = run(tmp_path, yaml_text, by=(("region", "office"),))
    crossed = groups(report)
    # d1 d2: North/East; d3: South/West; d4: (none)/West; d5 d6: (none)/(none).
    assert {k: g.entered for k, g in crossed.items()} == {
        "North / East": 2,
        "South / West": 1,
        "(none) / West": 1,
        "(none) / (none)": 2,
    }
    regions = report.data_quality.unmatched_lookups[2]
    # d4 d5 d6 have no region row; d9 (a region without a deal) is not a funnel row at all.
    assert [(v.value, v.rows) for v in regions.values] == [("d4", 1), ("d5", 1), ("d6", 1)]
