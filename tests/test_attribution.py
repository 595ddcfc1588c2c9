"""`attribution:` (docs/semantics.md, Breakdowns): hand-computed fixtures, one per rule.

The history below (order: strict), channel per row:

    lead  New          MQL            Won
    1     01-01 ads    01-05 (empty)  01-10 seo
    2     01-02 -      01-03 email    -
    3     01-03 ads    01-04 partner  01-05 (empty)
    4     01-04 -      -              -
    5     01-05 events -              01-06 seo   (Won without MQL: strict stops at New)
    6     01-06 b, and 01-06 a (two New rows at the same time)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from funnelcli.errors import SpecError
from test_semantics import counts, groups, run

HISTORY = """
lead_id,stage,changed_at,channel
1,New,2024-01-01,ads
1,MQL,2024-01-05,
1,Won,2024-01-10,seo
2,New,2024-01-02,
2,MQL,2024-01-03,email
3,New,2024-01-03,ads
3,MQL,2024-01-04,partner
3,Won,2024-01-05,
4,New,2024-01-04,
5,New,2024-01-05,events
5,Won,2024-01-06,seo
6,New,2024-01-06,b
6,New,2024-01-06,a
"""


def funnel(attribution: str | None, extra: str = "") -> str:
    text = (
        "sources:\n"
        "  crm: {path: history.csv, shape: long, id: lead_id, stage: stage, at: changed_at}\n"
        "stages:\n"
        "  - {name: new, match: New}\n"
        "  - {name: mql, match: MQL}\n"
        "  - {name: won, match: Won}\n"
        "order: strict\n"
    )
    if attribution is not None:
        text += f"attribution: {attribution}\n"
    return text + extra


def by_channel(tmp_path: Path, attribution: str | None, **options: object) -> dict[str, list[int]]:
    report = run(
        tmp_path,
        funnel(attribution),
        {"history.csv": HISTORY},
        by=(("channel",),),
        **options,  # type: ignore[arg-type]
    )
    return {key[0]: counts(group) for key, group in groups(report, ("channel",)).items()}


def test_entry_is_the_default_and_the_value_as_of_entry(tmp_path: Path) -> None:
    expected = {"ads": [2, 2, 2], "(none)": [2, 1, 0], "events": [1, 0, 0], "a": [1, 0, 0]}
    assert by_channel(tmp_path, None) == expected
    assert by_channel(tmp_path, "entry") == expected


def test_first_known_is_the_first_non_empty_value(tmp_path: Path) -> None:
    # lead 2 entered without a channel; its MQL row brings email
    assert by_channel(tmp_path, "first_known") == {
        "ads": [2, 2, 2],
        "email": [1, 1, 0],
        "(none)": [1, 0, 0],
        "events": [1, 0, 0],
        "a": [1, 0, 0],
    }


def test_last_is_the_last_reached_stage_walking_back_over_empty_values(tmp_path: Path) -> None:
    # 1: Won's seo; 2: MQL's email; 3: Won has none → MQL's partner; 5: strict stops at New
    assert by_channel(tmp_path, "last") == {
        "seo": [1, 1, 1],
        "email": [1, 1, 0],
        "partner": [1, 1, 1],
        "(none)": [1, 0, 0],
        "events": [1, 0, 0],
        "a": [1, 0, 0],
    }


def test_stage_takes_the_row_that_gave_the_stage_and_none_when_not_reached(
    tmp_path: Path,
) -> None:
    # mql: 1's row has no channel; 4, 5, 6 never reached mql
    assert by_channel(tmp_path, "stage:mql") == {
        "(none)": [4, 1, 1],
        "email": [1, 1, 0],
        "partner": [1, 1, 1],
    }
    # won: 3's Won row has no channel; 5's Won does not count (strict)
    assert by_channel(tmp_path, "'stage: Won'") == {"seo": [1, 1, 1], "(none)": [5, 2, 1]}


def test_as_of_hides_later_rows_from_every_attribution(tmp_path: Path) -> None:
    # as of Jan 9 lead 1 has not won: last walks back from MQL (empty) to New's ads
    assert by_channel(tmp_path, "last", as_of="2024-01-09")["ads"] == [1, 1, 0]
    assert by_channel(tmp_path, "stage:won", as_of="2024-01-09") == {"(none)": [6, 3, 1]}
    # as of Jan 2, noon: lead 2's MQL (email, Jan 3) is not seen yet
    assert by_channel(tmp_path, "first_known", as_of="2024-01-02 12:00") == {
        "ads": [1, 0, 0],
        "(none)": [1, 0, 0],
    }


def test_top_folds_the_attributed_values(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        funnel("last"),
        {"history.csv": HISTORY},
        by=(("channel",),),
    )
    assert counts(report) == [6, 3, 2]
    import funnelcli
    from funnelcli.spec import load_funnel

    folded = funnelcli.report(
        load_funnel(tmp_path / "funnel.yaml"), by=(("channel",),), top=1, min_n=0
    )
    found = {g.key["channel"]: counts(g) for g in folded.breakdowns[0].groups}
    # six values of one key each: ties by value, "(none)" first; the other five fold
    assert found == {"(none)": [1, 0, 0], "(other)": [5, 3, 2]}


def test_filter_still_reads_the_value_as_of_entry(tmp_path: Path) -> None:
    report = run(
        tmp_path,
        funnel("last", "filter: \"channel = 'ads'\"\n"),
        {"history.csv": HISTORY},
        by=(("channel",),),
    )
    found = {key[0]: counts(group) for key, group in groups(report, ("channel",)).items()}
    assert found == {"seo": [1, 1, 1], "partner": [1, 1, 1]}  # leads 1 and 3


WIDE = """
lead_id,created_at,paid_at,channel
7,2024-01-01,2024-01-20,x
7,2024-01-02,2024-01-10,y
8,2024-01-03,,z
"""
WIDE_FUNNEL = (
    "sources:\n  leads: {path: leads.csv, id: lead_id}\n"
    "stages:\n  - {name: created, at: created_at}\n  - {name: paid, at: paid_at}\n"
)


@pytest.mark.parametrize(
    ("attribution", "expected"),
    [
        ("entry", {"x": [1, 1], "z": [1, 0]}),
        ("stage:created", {"x": [1, 1], "z": [1, 0]}),
        ("stage:paid", {"y": [1, 1], "(none)": [1, 0]}),  # the row with the earliest paid_at
        ("last", {"y": [1, 1], "z": [1, 0]}),
    ],
)
def test_a_wide_export_with_a_lead_twice(
    tmp_path: Path, attribution: str, expected: dict[str, list[int]]
) -> None:
    report = run(
        tmp_path,
        WIDE_FUNNEL + f"attribution: {attribution}\n",
        {"leads.csv": WIDE},
        by=(("channel",),),
    )
    found = {key[0]: counts(group) for key, group in groups(report, ("channel",)).items()}
    assert found == expected


TWO_SOURCES = (
    "sources:\n"
    "  leads: {path: leads.csv, id: lead_id}\n"
    "  history: {path: history.csv, shape: long, id: lead_id, stage: stage, at: changed_at}\n"
    "stages:\n"
    "  - {name: created, at: created_at}\n"
    "  - {name: won, source: history, match: Won}\n"
)


def test_a_stage_whose_source_lacks_the_column_is_refused(tmp_path: Path) -> None:
    files = {
        "leads.csv": "lead_id,created_at,channel\n1,2024-01-01,ads\n",
        "history.csv": "lead_id,stage,changed_at\n1,Won,2024-01-05\n",
    }
    for attribution in ("last", "stage:won"):
        with pytest.raises(SpecError) as caught:
            run(tmp_path, TWO_SOURCES + f"attribution: {attribution}\n", files, by=(("channel",),))
        message = str(caught.value)
        assert "attribution" in message and "'channel'" in message and "'history'" in message
        assert caught.value.exit_code == 2  # a SpecConflict: two keys that do not go together
    # the stage on the leads source, and first_known, need only the leads
    report = run(tmp_path, TWO_SOURCES + "attribution: stage:created\n", files, by=(("channel",),))
    assert {k[0]: counts(g) for k, g in groups(report, ("channel",)).items()} == {"ads": [1, 1]}
    report = run(tmp_path, TWO_SOURCES + "attribution: first_known\n", files, by=(("channel",),))
    assert {k[0]: counts(g) for k, g in groups(report, ("channel",)).items()} == {"ads": [1, 1]}


def test_a_column_on_both_sources_is_read_on_each_stage_s_own(tmp_path: Path) -> None:
    files = {
        "leads.csv": "lead_id,created_at,channel\n1,2024-01-01,ads\n2,2024-01-02,seo\n",
        "history.csv": "lead_id,stage,changed_at,channel\n1,Won,2024-01-05,partner\n",
    }
    report = run(tmp_path, TWO_SOURCES + "attribution: last\n", files, by=(("channel",),))
    found = {k[0]: counts(g) for k, g in groups(report, ("channel",)).items()}
    assert found == {"partner": [1, 1], "seo": [1, 0]}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("stage:pai", "unknown stage (did you mean 'paid'?)"),
        ("latest", "expected entry, first_known, last or stage:NAME"),
        ("'stage:'", "expected entry, first_known, last or stage:NAME"),
    ],
)
def test_a_wrong_attribution_names_its_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(SpecError) as caught:
        run(
            tmp_path,
            WIDE_FUNNEL + f"attribution: {text}\n",
            {"leads.csv": WIDE},
        )
    assert "attribution" in str(caught.value) and message in str(caught.value)


# --- the per-key lists, and what refuses ----------------------------------------------------


def _write(tmp_path: Path, yaml_text: str, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (tmp_path / name).write_text(content.lstrip(), encoding="utf-8")
    path = tmp_path / "funnel.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    return path


def test_stalled_and_trace_list_the_attributed_value(tmp_path: Path) -> None:
    import funnelcli

    path = _write(tmp_path, funnel("last", "dimensions: [channel]\n"), {"history.csv": HISTORY})
    waiting = funnelcli.stalled(path, stage="mql", by=["channel"])
    assert {e.id: e.attributes["channel"] for e in waiting.ids} == {"2": "email"}
    assert funnelcli.trace(path, "3").attributes == {"channel": "partner"}  # not ads (entry)
    assert funnelcli.trace(path, "1").attributes == {"channel": "seo"}


def test_drivers_refuses_an_attribution_other_than_entry(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from funnelcli.cli import app

    path = _write(tmp_path, funnel("last", "dimensions: [channel]\n"), {"history.csv": HISTORY})
    result = CliRunner().invoke(app, ["drivers", str(path), "--stage", "won"])
    assert result.exit_code == 2
    assert "attribution: last" in result.output and "funnel drivers" in result.output


def test_roi_contracts_refuse_an_attribution_other_than_entry_in_validate_too() -> None:
    import funnelcli
    from funnelcli.spec import parse_funnel

    root = Path(__file__).resolve().parent.parent / "funnels"
    text = (root / "default.yaml").read_text(encoding="utf-8") + "attribution: first_known\n"
    loaded = parse_funnel(text, file="default.yaml", base_dir=root)
    for run_it in (funnelcli.validate, funnelcli.roi):
        with pytest.raises(SpecError, match=r"attribution: first_known: roi\.subscriptions"):
            run_it(loaded)


def test_yaml_dimensions_are_checked_where_attribution_reads_them(tmp_path: Path) -> None:
    import funnelcli

    files = {
        "leads.csv": "lead_id,created_at,channel\n1,2024-01-01,ads\n",
        "history.csv": "lead_id,stage,changed_at\n1,Won,2024-01-05\n",
    }
    path = _write(tmp_path, TWO_SOURCES + "attribution: last\ndimensions: [channel]\n", files)
    for run_it in (funnelcli.validate, funnelcli.report):
        with pytest.raises(SpecError, match="'channel' is not in source 'history'"):
            run_it(path)


def test_a_lookup_column_is_read_on_the_row_that_gave_the_stage(tmp_path: Path) -> None:
    """The owner of each history row brings its region through a lookup."""
    history = (
        "lead_id,stage,changed_at,owner\n"
        "1,New,2024-01-01,ann\n1,Won,2024-01-03,bo\n"
        "2,New,2024-01-02,bo\n2,Won,2024-01-04,cy\n"
        "3,New,2024-01-02,cy\n"
    )
    yaml_text = (
        "sources:\n"
        "  crm: {path: history.csv, shape: long, id: lead_id, stage: stage, at: changed_at}\n"
        "  owners: {path: owners.csv, shape: lookup, key: owner, join: owner}\n"
        "stages:\n  - {name: new, match: New}\n  - {name: won, match: Won}\n"
    )
    files = {"history.csv": history, "owners.csv": "owner,region\nann,north\nbo,south\n"}

    def regions(attribution: str) -> dict[str, list[int]]:
        report = run(
            tmp_path, yaml_text + f"attribution: {attribution}\n", files, by=(("region",),)
        )
        return {k[0]: counts(g) for k, g in groups(report, ("region",)).items()}

    assert regions("entry") == {"north": [1, 1], "south": [1, 1], "(none)": [1, 0]}
    # won: 1's Won row is bo's (south), 2's is cy's (no region)
    assert regions("stage:won") == {"south": [1, 1], "(none)": [2, 1]}
    assert regions("last") == {"south": [2, 2], "(none)": [1, 0]}  # 2 walks back to bo


def test_summary_groups_and_funnel_sql_show_the_attributed_value(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    import funnelcli
    from funnelcli.cli import app

    path = _write(tmp_path, funnel("last", "dimensions: [channel]\n"), {"history.csv": HISTORY})
    result = CliRunner().invoke(app, ["sql", str(path), "--by", "channel"])
    assert result.exit_code == 0 and '"a_0_by"' in result.output
    # week 2024-W01 (Jan 1-7) as of Jan 9: lead 1 has not won yet, so it walks back to ads
    summary = funnelcli.summary(path, period="week", by="channel", as_of="2024-01-09", top=10)
    found = {g.key["channel"]: g.entered_current for g in summary.groups}
    assert found == {"ads": 1, "email": 1, "partner": 1, "(none)": 1, "events": 1, "a": 1}


def test_json_echoes_the_attribution_only_when_it_is_not_entry(tmp_path: Path) -> None:
    import json

    import jsonschema
    from typer.testing import CliRunner

    import funnelcli
    from funnelcli.cli import app
    from funnelcli.outputs.report import FunnelReport

    path = _write(tmp_path, funnel("stage:mql"), {"history.csv": HISTORY})
    result = CliRunner().invoke(app, ["report", str(path), "--by", "channel", "-f", "json"])
    document = json.loads(result.output)
    assert document["funnel"]["attribution"] == "stage:mql"
    jsonschema.validate(
        document, FunnelReport.schema_document(), cls=jsonschema.Draft202012Validator
    )
    summary = funnelcli.summary(path, period="week", by="channel", as_of="2024-01-09")
    jsonschema.validate(
        summary.to_dict(), summary.schema_document(), cls=jsonschema.Draft202012Validator
    )
    assert summary.to_dict()["funnel"]["attribution"] == "stage:mql"
    path.write_text(funnel(None), encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(path), "--by", "channel", "-f", "json"])
    assert "attribution" not in json.loads(result.output)["funnel"]


@pytest.mark.parametrize(
    ("attribution", "scope", "expected"),
    [
        # lead 1's Won (seo) is excluded: last walks back from MQL (empty) to New's ads
        ("last", "onward", {"ads": [1, 1, 0], "email": [1, 1, 0], "partner": [1, 1, 1]}),
        # stage:won: lead 1's Won row does not count, so (none)
        ("stage:won", "onward", {"(none)": [6, 3, 1]}),
        # scope: funnel takes lead 1 out of every stage: it is in no group
        ("last", "funnel", {"email": [1, 1, 0], "partner": [1, 1, 1]}),
    ],
)
def test_a_stage_an_exclusion_removes_credits_no_row(
    tmp_path: Path, attribution: str, scope: str, expected: dict[str, list[int]]
) -> None:
    """exclude: with last / stage:NAME: a stage an exclusion stops the key at has no time,
    so no row of it credits the value (lead 1 is Lost on Jan 7, between MQL and Won)."""
    exclude = f"exclude:\n  - {{match: Lost, between: [mql, won], scope: {scope}}}\n"
    history = HISTORY + "1,Lost,2024-01-07,x\n"
    report = run(
        tmp_path, funnel(attribution, exclude), {"history.csv": history}, by=(("channel",),)
    )
    found = {key[0]: counts(g) for key, g in groups(report, ("channel",)).items()}
    rest = {"(none)": [1, 0, 0], "events": [1, 0, 0], "a": [1, 0, 0]}
    assert found == (expected if attribution.startswith("stage:") else {**expected, **rest})
