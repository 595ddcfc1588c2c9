"""Peers' own funnel test cases, translated to funnelcli, with the peers' numbers.

Each test names the file and test it comes from. Events become a long source (one row per
event: id, stage value, time); a peer's conversion window is `window:`; its ordering mode is
`order:` as stated per test. Where a peer's rule has no funnelcli counterpart the test is not
here (see docs/semantics.md, and the closing note of issue 16).
"""

from __future__ import annotations

from pathlib import Path

from test_semantics import counts, run

EVENTS = "sources:\n  events: {path: events.csv, shape: long, id: person, stage: event, at: ts}\n"


def events_csv(rows: list[tuple[str, str, str]]) -> str:
    return "person,event,ts\n" + "".join(f"{p},{e},{t}\n" for p, e, t in rows)


def test_posthog_funnel_conversion_window_seconds(tmp_path: Path) -> None:
    """PostHog/posthog posthog/hogql_queries/insights/funnels/test/test_funnel.py,
    `test_funnel_conversion_window_seconds`: a 15-second window; 10 users convert after 10 s,
    15 after 20 s; nobody does step three. PostHog: counts 25, 10, 0."""
    rows = []
    for i in range(10):
        rows += [(f"user_{i}", "step one", "2021-05-01 00:00:00")]
        rows += [(f"user_{i}", "step two", "2021-05-01 00:00:10")]
    for i in range(10, 25):
        rows += [(f"user_{i}", "step one", "2021-05-01 00:00:00")]
        rows += [(f"user_{i}", "step two", "2021-05-01 00:00:20")]
    yaml_text = EVENTS + (
        "stages:\n"
        "  - {name: one, match: [step one]}\n"
        "  - {name: two, match: [step two]}\n"
        "  - {name: three, match: [step three]}\n"
        "window: 15s\n"
        "order: strict\n"
    )
    report = run(
        tmp_path,
        yaml_text,
        {"events.csv": events_csv(rows)},
        since="2021-05-01 00:00:00",
        until="2021-05-14 00:00:00",
    )
    assert counts(report) == [25, 10, 0]


def test_posthog_advanced_funnel_with_repeat_steps(tmp_path: Path) -> None:
    """PostHog/posthog posthog/hogql_queries/insights/funnels/test/test_funnel.py,
    `test_advanced_funnel_with_repeat_steps`: a sign-up then the same `$pageview` event as
    steps 2-5; one event fills one step (`evidence: once`). PostHog: 5, 4, 3, 2, 1. The
    events of one person are a second apart, in the order the test creates them."""
    journeys = {
        "stopped_after_signup1": ["user signed up"],
        "stopped_after_pageview1": ["user signed up", "$pageview"],
        "stopped_after_pageview2": ["user signed up", "$pageview", "blaah blaa", "$pageview"],
        "stopped_after_pageview3": [
            "user signed up",
            "$pageview",
            "blaah blaa",
            "$pageview",
            "$pageview",
            "blaah blaa",
        ],
        "stopped_after_pageview4": ["user signed up", *["$pageview"] * 4],
    }
    rows = [
        (person, event, f"2021-05-01 00:00:{second:02d}")
        for person, events in journeys.items()
        for second, event in enumerate(events)
    ]
    stages = "".join(f"  - {{name: pageview{i}, match: [$pageview]}}\n" for i in range(1, 5))
    yaml_text = EVENTS + "stages:\n  - {name: signup, match: [user signed up]}\n" + stages
    once = yaml_text + "order: strict\nevidence: once\n"
    report = run(tmp_path, once, {"events.csv": events_csv(rows)})
    assert counts(report) == [5, 4, 3, 2, 1]
    # evidence: shared (the default): one pageview is evidence for all four pageview stages
    shared = run(tmp_path, yaml_text + "order: strict\n", {"events.csv": events_csv(rows)})
    assert counts(shared) == [5, 4, 4, 4, 4]


def test_clickhouse_window_funnel_strict_once(tmp_path: Path) -> None:
    """ClickHouse/ClickHouse tests/queries/0_stateless/00632_aggregation_window_funnel.sql
    (.reference): `windowFunnel(200, 'strict_once')(event_ts, result='failure',
    result='failure', result='success')` over funnel_test2 gives uid 123 → 3, 234 → 2,
    345 → 1 (levels: the last step reached). Times are seconds; `window: 200s`."""
    data = [
        (234, "failure", 100),
        (345, "success", 200),
        (345, "failure", 210),
        (345, "success", 230),
        (234, "failure", 250),
        (123, "failure", 180),
        (123, "failure", 220),
        (123, "success", 250),
    ]
    rows = [
        (str(uid), result, f"2021-05-01 00:{ts // 60:02d}:{ts % 60:02d}")
        for uid, result, ts in data
    ]
    yaml_text = EVENTS + (
        "stages:\n"
        "  - {name: first_failure, match: [failure]}\n"
        "  - {name: second_failure, match: [failure]}\n"
        "  - {name: success, match: [success]}\n"
        "window: 200s\n"
        "order: strict\n"
        "evidence: once\n"
    )
    report = run(tmp_path, yaml_text, {"events.csv": events_csv(rows)}, by=(("person",),))
    # levels 3, 2, 1 → counts per stage: 3 reach level ≥ 1, 2 reach ≥ 2, 1 reaches 3
    assert counts(report) == [3, 2, 1]
    levels = {g.key["person"]: sum(s.count for s in g.stages) for g in report.breakdowns[0].groups}
    assert levels == {"123": 3, "234": 2, "345": 1}
    # ClickHouse's `windowFunnel(10000, 'strict_once')(timestamp, event = 1004, event = 1004,
    # event = 1004)` over one 1004 event: level 1 (funnel_test_strict_increase)
    one = events_csv([("1", "1004", "2021-05-01 00:00:02")])
    three = EVENTS + "".join(
        ["stages:\n"] + [f"  - {{name: s{i}, match: ['1004']}}\n" for i in range(3)]
    )
    assert counts(run(tmp_path, three + "evidence: once\n", {"events.csv": one})) == [1, 0, 0]
    assert counts(run(tmp_path, three, {"events.csv": one})) == [1, 1, 1]
