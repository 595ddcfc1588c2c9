"""`attempts: first | best` (docs/semantics.md, Attempts), hand-computed fixtures. Helpers come
from test_semantics.py."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner

import funnelcli
from funnelcli.cli import app
from funnelcli.errors import SpecError, UsageError
from test_semantics import counts, groups, run, stages, times

BEST = """\
    sources:
      h: {path: h.csv, shape: long, id: id, stage: stage, at: at}
    stages:
      - {name: lead, match: New}
      - {name: qualified, match: MQL}
      - {name: won, match: Won}
    window: 10d
    order: strict
    attempts: best
    """
FIRST = BEST.replace("    attempts: best\n", "")

# 1: New Jan 1, MQL Jan 20 (19 days: outside the 10-day window), recycled: New Feb 1, MQL
#    Feb 3, Won Feb 5 → first attempt reaches lead; the Feb 1 attempt reaches won.
# 2: New Jan 1, MQL Jan 5, New Mar 1 → the Jan 1 attempt (2 stages) beats Mar 1 (1).
# 3: New Jan 2, MQL Jan 4, New Jan 20, MQL Jan 21 → both reach qualified: the earliest
#    anchor (Jan 2) counts, 2 days to qualified (not 1).
# 4: New Jan 3 only.
HISTORY = """\
    id,stage,at,channel
    1,New,2025-01-01,ads
    1,MQL,2025-01-20,seo
    1,New,2025-02-01,seo
    1,MQL,2025-02-03,seo
    1,Won,2025-02-05,seo
    2,New,2025-01-01,seo
    2,MQL,2025-01-05,seo
    2,New,2025-03-01,seo
    3,New,2025-01-02,seo
    3,MQL,2025-01-04,seo
    3,New,2025-01-20,seo
    3,MQL,2025-01-21,seo
    4,New,2025-01-03,ads
    """


def test_best_counts_a_recycled_lead_whose_later_attempt_converts(tmp_path: Path) -> None:
    best = run(tmp_path, BEST, {"h.csv": HISTORY})
    assert counts(best) == [4, 3, 1]
    first = run(tmp_path, FIRST, {"h.csv": HISTORY})
    assert counts(first) == [4, 2, 0]
    # qualified from lead: 1 → 2 days (Feb 1 → Feb 3), 2 → 4, 3 → 2 (earliest anchor)
    qualified = stages(best)["qualified"]
    assert times(qualified, "prev")[:2] == (3, 2.0)
    assert qualified.time_from_previous.mean_days == pytest.approx(8 / 3)
    # won from entry: the attempt's own entry, Feb 1 → Feb 5
    assert times(stages(best)["won"], "entry")[:2] == (1, 4.0)
    assert best.period.first_entry is not None and best.period.first_entry.startswith("2025-01-01")
    assert best.period.last_entry is not None and best.period.last_entry.startswith("2025-02-01")


@pytest.mark.parametrize(
    ("attribution", "expected"),
    [
        # entry: the key's first row (lead 1's Jan 1 New, ads), not per attempt
        ("entry", {"ads": [2, 1, 1], "seo": [2, 2, 0]}),
        # first_known: the first non-empty value over the key's rows: the same here
        ("first_known", {"ads": [2, 1, 1], "seo": [2, 2, 0]}),
        # stage:lead: the row at the best attempt's anchor (lead 1's Feb 1 New, seo)
        ("stage:lead", {"ads": [1, 0, 0], "seo": [3, 3, 1]}),
        # last: the best attempt's last reached stage (lead 1's Won, seo; 4's New, ads)
        ("last", {"ads": [1, 0, 0], "seo": [3, 3, 1]}),
        # stage:qualified: 1's Feb 3 MQL (not the Jan 20 one), 2's and 3's MQL; 4 none
        ("stage:qualified", {"(none)": [1, 0, 0], "seo": [3, 3, 1]}),
    ],
)
def test_best_credits_the_best_attempts_rows(
    tmp_path: Path, attribution: str, expected: dict[str, list[int]]
) -> None:
    """attribution: under attempts: best, a stage's row is the one of the attempt that
    counts: lead 1's best attempt starts Feb 1 on a seo row, its first (Jan 1) on ads."""
    yaml_text = BEST.rstrip(" ") + f"    attribution: {attribution}\n"
    report = run(tmp_path, yaml_text, {"h.csv": HISTORY}, by=(("channel",),))
    found = groups(report, ("channel",))
    assert {k[0]: [s.count for s in g.stages] for k, g in found.items()} == expected


def test_best_ties_go_to_the_earliest_anchor(tmp_path: Path) -> None:
    # Lead 3 alone: attempts Jan 2 (qualified Jan 4) and Jan 20 (qualified Jan 21) reach the
    # same stage; Jan 2 counts: 2 days, entry Jan 2.
    data = "id,stage,at\n3,New,2025-01-02\n3,MQL,2025-01-04\n3,New,2025-01-20\n3,MQL,2025-01-21\n"
    report = run(tmp_path, BEST, {"h.csv": data})
    assert counts(report) == [1, 1, 0]
    assert times(stages(report)["qualified"], "prev")[:2] == (1, 2.0)
    assert report.period.first_entry is not None
    assert report.period.first_entry.startswith("2025-01-02")


def test_the_period_and_maturity_follow_the_best_attempts_entry(tmp_path: Path) -> None:
    # --since Jan 15: only lead 1 (best attempt Feb 1) enters; 2, 3, 4 entered Jan 1-3.
    report = run(tmp_path, BEST, {"h.csv": HISTORY}, since="2025-01-15")
    assert counts(report) == [1, 1, 1]
    assert report.data_quality.ids_outside_period == 3
    # Under first every entry is Jan 1-3: nobody.
    assert counts(run(tmp_path, FIRST, {"h.csv": HISTORY}, since="2025-01-15")) == [0, 0, 0]
    # as_of Mar 1 (the latest evidence): lead 2's best attempt is Jan 1, so none is immature
    # (lead 1's Feb 1 + 10 days is before Mar 1).
    assert run(tmp_path, BEST, {"h.csv": HISTORY}).overall.immature_ids == 0


def test_as_of_drops_later_evidence_before_attempts_are_compared(tmp_path: Path) -> None:
    # As of Feb 4: lead 1's Won (Feb 5) is not evidence yet; its Feb 1 attempt reaches
    # qualified (Feb 3), still better than Jan 1's.
    report = run(tmp_path, BEST, {"h.csv": HISTORY}, as_of="2025-02-04")
    assert counts(report) == [4, 3, 0]
    # As of Jan 25 lead 1 has one attempt (Jan 1), which reaches lead only.
    assert counts(run(tmp_path, BEST, {"h.csv": HISTORY}, as_of="2025-01-25")) == [4, 2, 0]


def test_by_keeps_the_value_as_of_the_keys_first_row(tmp_path: Path) -> None:
    # Lead 1's first row says ads (its later rows seo): it counts in ads, at won.
    report = run(tmp_path, BEST, {"h.csv": HISTORY}, by=(("channel",),))
    by_channel = groups(report, ("channel",))
    assert counts(by_channel[("ads",)]) == [2, 1, 1]
    assert counts(by_channel[("seo",)]) == [2, 2, 0]


def test_best_under_sequence_tries_the_later_attempt(tmp_path: Path) -> None:
    # a@1, d@2 (an interruption), b@3; a@4, b@5, c@6: the first attempt stops at a, the
    # second reaches c.
    yaml_text = BEST.replace("order: strict", "order: sequence").replace("    window: 10d\n", "")
    data = """\
        id,stage,at
        1,New,2025-01-01
        1,Nurture,2025-01-02
        1,MQL,2025-01-03
        1,New,2025-01-04
        1,MQL,2025-01-05
        1,Won,2025-01-06
        """
    assert counts(run(tmp_path, yaml_text, {"h.csv": data})) == [1, 1, 1]
    first = yaml_text.replace("    attempts: best\n", "")
    assert counts(run(tmp_path, first, {"h.csv": data})) == [1, 0, 0]


def test_best_with_evidence_once(tmp_path: Path) -> None:
    # qualified: [New, MQL] shares New with lead. Under once a row fills one stage: the
    # attempt at New Jan 1 takes qualified from the New Jan 12 row (outside the 10-day
    # window: no); the attempt at Jan 12 takes qualified from MQL Jan 13 and won Jan 14.
    yaml_text = BEST.replace("match: MQL", "match: [New, MQL]").replace(
        "    attempts: best\n", "    attempts: best\n    evidence: once\n"
    )
    data = """\
        id,stage,at
        1,New,2025-01-01
        1,New,2025-01-12
        1,MQL,2025-01-13
        1,Won,2025-01-14
        """
    assert counts(run(tmp_path, yaml_text, {"h.csv": data})) == [1, 1, 1]
    report = run(tmp_path, yaml_text.replace("    attempts: best\n", ""), {"h.csv": data})
    assert counts(report) == [1, 0, 0]


def test_a_wide_first_stage_has_one_attempt(tmp_path: Path) -> None:
    yaml_text = """\
        sources:
          leads: {path: leads.csv, id: lead_id}
        stages:
          - {name: lead, at: created_at}
          - {name: paid, at: paid_at}
        window: 5d
        order: strict
        attempts: best
        """
    data = "lead_id,created_at,paid_at\n1,2025-01-01,2025-01-03\n2,2025-01-01,2025-01-09\n"
    assert counts(run(tmp_path, yaml_text, {"leads.csv": data})) == [2, 1]
    text = _sql(tmp_path, yaml_text)
    assert '"attempts"' not in text and "ROW_NUMBER" not in text


def _sql(tmp_path: Path, yaml_text: str) -> str:
    (tmp_path / "funnel.yaml").write_text(textwrap.dedent(yaml_text), encoding="utf-8")
    result = CliRunner().invoke(app, ["sql", str(tmp_path / "funnel.yaml")])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_funnel_sql_shows_the_attempts(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("id,stage,at\n", encoding="utf-8")
    text = _sql(tmp_path, BEST)
    assert '"attempts" AS (' in text and '"best" AS (' in text
    assert 'ROW_NUMBER() OVER (\n        PARTITION BY "key"' in text
    assert '"attempt_rank" = 1' in text
    assert '"attempts"' not in _sql(tmp_path, FIRST)


def test_best_needs_an_order_with_a_lower_bound(tmp_path: Path) -> None:
    backfill = BEST.replace("    order: strict\n", "")
    with pytest.raises(SpecError, match=r"funnel.yaml:\d+: attempts: .*needs order: strict"):
        run(tmp_path, backfill, {"h.csv": HISTORY})
    (tmp_path / "funnel.yaml").write_text(textwrap.dedent(backfill), encoding="utf-8")
    for command in ("validate", "report"):
        result = CliRunner().invoke(app, [command, str(tmp_path / "funnel.yaml")])
        assert result.exit_code == 2, result.output
        assert "attempts: best needs order: strict or order: sequence" in result.stderr
    wrong = BEST.replace("attempts: best", "attempts: every")
    with pytest.raises(SpecError, match=r"attempts"):
        run(tmp_path, wrong, {"h.csv": HISTORY})


def test_stalled_agrees_and_trace_refuses_under_best(tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text(textwrap.dedent(HISTORY), encoding="utf-8")
    path = tmp_path / "funnel.yaml"
    path.write_text(textwrap.dedent(BEST), encoding="utf-8")
    # reached qualified and not won under best: 2 and 3 (1 won in its second attempt), their
    # 10-day windows run out (dropped, not stalled)
    dropped = funnelcli.stalled(path, stage="qualified", dropped=True)
    assert sorted(i.id for i in dropped.ids) == ["2", "3"]
    assert not funnelcli.stalled(path, stage="qualified").ids
    with pytest.raises(UsageError, match=r"trace does not explain attempts: best"):
        funnelcli.trace(path, "1")


def test_roi_and_lost_count_the_best_attempt(tmp_path: Path) -> None:
    # Lead 1 (channel ads as of its first row) wins 5000 in its Feb 1 attempt; lead 4 (ads)
    # is lost. funnel roi over Jan-Feb: ads has 2 leads and 1 customer under best, none under
    # first; the won lead is not lost, the other ads lead is.
    from datetime import datetime

    from funnelcli.commands.roi import RoiRequest, build_roi
    from funnelcli.spec import parse_funnel

    lines = [*textwrap.dedent(HISTORY).splitlines(), "4,Lost,2025-01-09,ads"]
    amounts = ["amount"] + ["5000" if ",Won," in line else "" for line in lines[1:]]
    data = "".join(f"{line},{amount}\n" for line, amount in zip(lines, amounts, strict=True))
    (tmp_path / "h.csv").write_text(data, encoding="utf-8")
    (tmp_path / "spend.csv").write_text("month,channel,amount\n2025-01,ads,1000\n", "utf-8")
    yaml_text = textwrap.dedent(BEST).replace("match: Won}", "match: Won, value: amount}") + (
        "lost: {match: Lost}\nroi:\n  spend: {path: spend.csv, month: month}\n  revenue: won\n"
    )
    period = RoiRequest(since=datetime(2025, 1, 1), until=datetime(2025, 3, 1))
    for text, customers, revenue in ((yaml_text, 1, 5000.0), (_first(yaml_text), 0, 0.0)):
        funnel = parse_funnel(text, file=str(tmp_path / "funnel.yaml"), base_dir=tmp_path)
        ads = {r.channel: r for r in build_roi(funnel, period).channels}["ads"]
        assert (ads.leads, ads.customers, ads.first_period_revenue) == (2, customers, revenue)
    (tmp_path / "funnel.yaml").write_text(yaml_text, encoding="utf-8")
    report = run(tmp_path, yaml_text, {"h.csv": data})
    sales = report.overall.sales
    assert sales is not None and (sales.won, sales.lost) == (1, 1)


def _first(yaml_text: str) -> str:
    return yaml_text.replace("attempts: best\n", "")


def test_histogram_under_best_uses_the_attempts_times(tmp_path: Path) -> None:
    # qualified from lead under best: 2, 4 and 2 days → day bins [2, 3) 2 keys, [4, 5) 1.
    (tmp_path / "h.csv").write_text(textwrap.dedent(HISTORY), encoding="utf-8")
    path = tmp_path / "funnel.yaml"
    path.write_text(textwrap.dedent(BEST), encoding="utf-8")
    found = funnelcli.report(path, histogram="qualified").histogram
    assert found is not None and found.unit == "day"
    assert [(b.start_days, b.count) for b in found.bins if b.count] == [(2.0, 2), (4.0, 1)]


def test_cohorts_place_a_key_by_its_best_attempts_entry(tmp_path: Path) -> None:
    # Lead 1's best attempt enters Feb 1: the Feb cohort has it at won; Jan has 2, 3 and 4.
    (tmp_path / "h.csv").write_text(textwrap.dedent(HISTORY), encoding="utf-8")
    (tmp_path / "funnel.yaml").write_text(textwrap.dedent(BEST), encoding="utf-8")
    result = CliRunner().invoke(app, ["cohorts", str(tmp_path / "funnel.yaml"), "-f", "csv"])
    assert result.exit_code == 0, result.output
    rows = [line.split(",") for line in result.stdout.splitlines()[1:]]
    found = {(r[0], r[5]): int(r[6]) for r in rows if r[0] in ("2025-01", "2025-02")}
    assert found == {
        ("2025-01", "lead"): 3,
        ("2025-01", "qualified"): 2,
        ("2025-01", "won"): 0,
        ("2025-02", "lead"): 1,
        ("2025-02", "qualified"): 1,
        ("2025-02", "won"): 1,
    }


def test_json_echoes_attempts_and_evidence_only_when_not_the_default(tmp_path: Path) -> None:
    import json

    import jsonschema

    from funnelcli.outputs.report import FunnelReport

    (tmp_path / "h.csv").write_text(textwrap.dedent(HISTORY), encoding="utf-8")
    for yaml_text, echo in [
        (BEST, {"attempts": "best"}),
        (
            BEST.replace("order: strict\n", "order: strict\n    evidence: once\n"),
            {"attempts": "best", "evidence": "once"},
        ),
        (FIRST, {}),
    ]:
        (tmp_path / "funnel.yaml").write_text(textwrap.dedent(yaml_text), encoding="utf-8")
        result = CliRunner().invoke(app, ["report", str(tmp_path / "funnel.yaml"), "-f", "json"])
        assert result.exit_code == 0, result.output
        document = json.loads(result.stdout)
        found = {
            k: document["funnel"][k] for k in ("attempts", "evidence") if k in document["funnel"]
        }
        assert found == echo
        jsonschema.validate(
            document, FunnelReport.schema_document(), cls=jsonschema.Draft202012Validator
        )
