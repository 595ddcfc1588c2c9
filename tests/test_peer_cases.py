"""Peers' own funnel test cases, translated to funnelcli, with the peers' numbers.

Each test names the file and test it comes from. Events become a long source (one row per
event: id, stage value, time); a peer's conversion window is `window:`; its ordering mode is
`order:` as stated per test. Where a peer's rule has no funnelcli counterpart the test is not
here (see docs/semantics.md, and the closing note of issue 16).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from funnelcli.outputs.report import FunnelReport
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


def levels(report: FunnelReport) -> dict[str, int]:
    """Per person (the breakdown on the id), the stages reached: a windowFunnel level."""
    return {g.key["person"]: sum(s.count for s in g.stages) for g in report.breakdowns[0].groups}


def abc_funnel(window: str, order: str = "sequence", steps: str = "abc") -> str:
    stages = "".join(f"  - {{name: {s}, match: [{s}]}}\n" for s in steps)
    return EVENTS + "stages:\n" + stages + f"window: {window}\norder: {order}\n"


def at_second(rows: list[tuple[int, int, str]]) -> str:
    """(second, user, event) rows, a ClickHouse DateTime of small integers, as events."""
    return events_csv([(str(u), e, f"1970-01-01 00:00:{s:02d}") for s, u, e in rows])


STRICT_ORDER = [  # funnel_test_strict_order: (dt, user, event)
    *[(1, 1, "a"), (2, 1, "b"), (3, 1, "c")],
    *[(1, 2, "a"), (2, 2, "d"), (3, 2, "b"), (4, 2, "c")],
    *[(1, 3, "a"), (2, 3, "a"), (3, 3, "b"), (4, 3, "b"), (5, 3, "c"), (6, 3, "c")],
    *[(1, 4, "a"), (2, 4, "a"), (3, 4, "a"), (4, 4, "a"), (5, 4, "b"), (6, 4, "b")],
    *[(7, 4, "c"), (8, 4, "c")],
    *[(1, 5, "a"), (2, 5, "a"), (3, 5, "b"), (4, 5, "b"), (5, 5, "d"), (6, 5, "c")],
    (7, 5, "c"),
    *[(1, 6, "c"), (2, 6, "c"), (3, 6, "b"), (4, 6, "b"), (5, 6, "a"), (6, 6, "a")],
]


def test_clickhouse_window_funnel_strict_order(tmp_path: Path) -> None:
    """ClickHouse/ClickHouse tests/queries/0_stateless/00632_aggregation_window_funnel.sql
    (.reference), table funnel_test_strict_order: `windowFunnel(86400)` gives levels
    [3, 3, 3, 3, 3, 1] for users 1-6 (our `order: strict`) and `windowFunnel(86400,
    'strict_order')` [3, 1, 3, 3, 2, 1] (our `order: sequence`: an event `d` between two steps
    stops the chain, a repeat of the earlier step does not); user 7 (a, c, b) with
    `windowFunnel(10, 'strict_order')`: 1."""
    data = {"events.csv": at_second(STRICT_ORDER)}
    strict = run(tmp_path, abc_funnel("86400s", "strict"), data, by=(("person",),))
    assert levels(strict) == {"1": 3, "2": 3, "3": 3, "4": 3, "5": 3, "6": 1}
    sequence = run(tmp_path, abc_funnel("86400s"), data, by=(("person",),))
    assert levels(sequence) == {"1": 3, "2": 1, "3": 3, "4": 3, "5": 2, "6": 1}
    seven = {"events.csv": at_second([(1, 7, "a"), (2, 7, "c"), (3, 7, "b")])}
    assert levels(run(tmp_path, abc_funnel("10s"), seven, by=(("person",),))) == {"7": 1}


def test_clickhouse_window_funnel_strict_order_without_reentry(tmp_path: Path) -> None:
    """Same file, table funnel_test_allow_reentry, `windowFunnel(86400, 'strict_order')` over
    a, b, c: levels [2, 2, 3, 1, 3] (a return to step a between b and c stops the chain), and
    table funnel_test_ecommerce, `windowFunnel(600, 'strict_order')` over begin_checkout,
    view_product_detail, complete_payment: [2, 2, 3]. (The file's four-step `strict_order`
    variant gives user 3 (a, b, c, b, d) level 4: ClickHouse lets a repeat of an *earlier*
    step (b after c) pass, which `order: sequence` stops at; that is not an attempt rule, so
    it is not here. ClickHouse's `strict_order` does not re-anchor after a broken chain:
    user 2 (a, b, a, b, c) stays at 2, so these are `attempts: first`.)"""
    reentry = [
        *[(1, 1, "a"), (2, 1, "b"), (3, 1, "a"), (4, 1, "c")],
        *[(1, 2, "a"), (2, 2, "b"), (3, 2, "a"), (4, 2, "b"), (5, 2, "c")],
        *[(1, 3, "a"), (2, 3, "b"), (3, 3, "c"), (4, 3, "b"), (5, 3, "d")],
        *[(1, 4, "a"), (2, 4, "c"), (3, 4, "b")],
        *[(1, 5, "a"), (2, 5, "b"), (3, 5, "c"), (4, 5, "a"), (5, 5, "b"), (6, 5, "c")],
        (7, 5, "d"),
    ]
    report = run(
        tmp_path, abc_funnel("86400s"), {"events.csv": at_second(reentry)}, by=(("person",),)
    )
    assert levels(report) == {"1": 2, "2": 2, "3": 3, "4": 1, "5": 3}
    shop = [
        (100, 1, "begin"), (200, 1, "view"), (300, 1, "begin"), (400, 1, "pay"),
        (100, 2, "begin"), (200, 2, "view"), (250, 2, "view"), (300, 2, "begin"), (400, 2, "pay"),
        (100, 3, "begin"), (200, 3, "view"), (300, 3, "pay"),
    ]  # fmt: skip
    rows = [(str(u), e, f"1970-01-01 00:{s // 60:02d}:{s % 60:02d}") for s, u, e in shop]
    yaml_text = EVENTS + (
        "stages:\n"
        "  - {name: begin_checkout, match: [begin]}\n"
        "  - {name: view_product_detail, match: [view]}\n"
        "  - {name: complete_payment, match: [pay]}\n"
        "window: 600s\norder: sequence\n"
    )
    report = run(tmp_path, yaml_text, {"events.csv": events_csv(rows)}, by=(("person",),))
    assert levels(report) == {"1": 2, "2": 2, "3": 3}


def test_posthog_basic_strict_funnel(tmp_path: Path) -> None:
    """PostHog/posthog posthog/hogql_queries/insights/funnels/test/test_funnel_strict.py,
    `test_basic_strict_funnel`: steps must follow each other with no other event between
    (`blaah blaa` too) — our `order: sequence` over the person's events. PostHog: 7 at step 1,
    2 at step 2 (stopped_after_insightview, person7), 1 at step 3 (person7). Events of one
    person are a second apart, in the order the test creates them."""
    journeys = {
        "stopped_after_signup1": ["user signed up"],
        "stopped_after_pageview1": ["$pageview", "user signed up"],
        "stopped_after_insightview": [
            "user signed up",
            "$pageview",
            "blaah blaa",
            "insight viewed",
        ],
        "stopped_after_insightview2": [
            "insight viewed",
            "blaah blaa",
            "$pageview",
            "user signed up",
        ],
        "stopped_after_insightview3": [
            "$pageview",
            "user signed up",
            "blaah blaa",
            "$pageview",
            "insight viewed",
        ],
        "person6": ["blaah blaa", "user signed up", "blaah blaa", "$pageview"],
        "person7": ["blaah blaa", "user signed up", "$pageview", "insight viewed", "blaah blaa"],
        "stopped_after_insightview6": ["insight viewed", "$pageview"],
    }
    rows = [
        (person, event, f"2021-05-01 00:00:{second:02d}")
        for person, events in journeys.items()
        for second, event in enumerate(events)
    ]
    yaml_text = EVENTS + (
        "stages:\n"
        "  - {name: signup, match: [user signed up]}\n"
        "  - {name: pageview, match: [$pageview]}\n"
        "  - {name: insight, match: [insight viewed]}\n"
        "order: sequence\n"
    )
    report = run(tmp_path, yaml_text, {"events.csv": events_csv(rows)}, by=(("person",),))
    assert counts(report) == [7, 2, 1]
    reached = {k for k, n in levels(report).items() if n >= 2}
    assert reached == {"stopped_after_insightview", "person7"}


# PostHog's breakdown attribution cases (posthog/hogql_queries/insights/funnels/test/
# breakdown_cases.py, run by test_funnel.py for the ordered funnel): steps `sign up` → `buy`,
# a 7-day window, broken down by the event property `$browser`; PostHog's "" (no property) is
# funnelcli's "(none)". Persons 1-4 are the same in each test; person 5 only in some.
BROWSER_EVENTS = [
    ("person1", "sign up", "2020-01-01 12:00:00", "Chrome"),
    ("person1", "buy", "2020-01-01 13:00:00", ""),
    ("person2", "sign up", "2020-01-01 13:00:00", ""),
    ("person2", "buy", "2020-01-02 13:00:00", "Safari"),
    ("person3", "sign up", "2020-01-02 14:00:00", "Mac"),
    ("person3", "buy", "2020-01-02 15:00:00", ""),
    ("person4", "sign up", "2020-01-02 15:00:00", "0"),
    ("person4", "buy", "2020-01-02 16:00:00", "alakazam"),
]
PERSON5 = [
    ("person5", "sign up", "2020-01-02 15:00:00", ""),
    ("person5", "buy", "2020-01-02 16:00:00", ""),
]


def browser_breakdown(
    tmp_path: Path, attribution: str, events: list[tuple[str, str, str, str]]
) -> dict[str, list[int]]:
    data = "person,event,ts,browser\n" + "".join(",".join(e) + "\n" for e in events)
    yaml_text = (
        "sources:\n"
        "  events: {path: events.csv, shape: long, id: person, stage: event, at: ts}\n"
        "stages:\n  - {name: sign_up, match: [sign up]}\n  - {name: buy, match: [buy]}\n"
        f"window: 7d\norder: strict\nattribution: {attribution}\n"
    )
    report = run(
        tmp_path,
        yaml_text,
        {"events.csv": data},
        since="2020-01-01",
        until="2020-01-09",
        by=(("browser",),),
    )
    return {g.key["browser"]: counts(g) for g in report.breakdowns[0].groups}


def test_posthog_funnel_step_breakdown_with_first_touch_attribution(tmp_path: Path) -> None:
    """breakdown_cases.py `test_funnel_step_breakdown_with_first_touch_attribution`
    (`breakdown_attribution_type: first_touch`, PostHog's argMinIf(prop, timestamp,
    isNotNull(prop))): person2 signs up without a browser and buys on Safari → Safari;
    person5 never has one → "". PostHog: five groups of [1, 1]. funnelcli: first_known."""
    found = browser_breakdown(tmp_path, "first_known", BROWSER_EVENTS + PERSON5)
    assert found == {b: [1, 1] for b in ("(none)", "0", "Chrome", "Mac", "Safari")}


def test_posthog_funnel_step_breakdown_with_last_touch_attribution(tmp_path: Path) -> None:
    """breakdown_cases.py `test_funnel_step_breakdown_with_last_touch_attribution`
    (`last_touch`, argMaxIf(prop, timestamp, isNotNull(prop))): person4's buy says Alakazam
    (its sign up's 0 is disregarded); person1's buy has no browser, so its sign up's Chrome.
    PostHog: "", Alakazam, Chrome, Mac, Safari, each [1, 1]. funnelcli: last (the last
    reached stage's row, walking back over empty values). The test spells person4's buy
    `Alakazam`."""
    events = [e if e[3] != "alakazam" else (*e[:3], "Alakazam") for e in BROWSER_EVENTS]
    found = browser_breakdown(tmp_path, "last", events + PERSON5)
    assert found == {b: [1, 1] for b in ("(none)", "Alakazam", "Chrome", "Mac", "Safari")}


def test_posthog_funnel_step_breakdown_with_step_attribution(tmp_path: Path) -> None:
    """breakdown_cases.py `test_funnel_step_breakdown_with_step_attribution`
    (`breakdown_attribution_type: step`, value 0): the value on each person's sign-up event,
    empty included (person2 → ""). PostHog: "", 0, Chrome, Mac, each [1, 1]. funnelcli:
    stage:sign_up."""
    found = browser_breakdown(tmp_path, "stage:sign_up", BROWSER_EVENTS)
    assert found == {b: [1, 1] for b in ("(none)", "0", "Chrome", "Mac")}


def test_posthog_funnel_step_breakdown_with_step_one_attribution(tmp_path: Path) -> None:
    """breakdown_cases.py `test_funnel_step_breakdown_with_step_one_attribution` (step, value
    1): the value on the buy event; person1's and person3's buys have none. PostHog: "" [2, 2],
    Safari [1, 1], alakazam [1, 1] ("Chrome and Mac goes away, Safari comes back").
    funnelcli: stage:buy."""
    found = browser_breakdown(tmp_path, "stage:buy", BROWSER_EVENTS)
    assert found == {"(none)": [2, 2], "Safari": [1, 1], "alakazam": [1, 1]}


def exclusion_funnel(steps: list[str], items: list[tuple[str, int, int]], window: str) -> str:
    """PostHog steps and exclusion steps (event, funnel_from_step, funnel_to_step; 0-based)
    as stages and `exclude:` items with `scope: funnel` (PostHog's rule)."""
    names = [f"s{i}" for i in range(len(steps))]
    stages = "".join(
        f"  - {{name: {n}, match: ['{s}']}}\n" for n, s in zip(names, steps, strict=True)
    )
    excluded = "".join(
        f"  - {{match: ['{e}'], between: [{names[a]}, {names[b]}], scope: funnel}}\n"
        for e, a, b in items
    )
    return EVENTS + "stages:\n" + stages + f"window: {window}\nexclude:\n" + excluded


def test_posthog_funnel_exclusion_no_end_event(tmp_path: Path) -> None:
    """PostHog/posthog posthog/hogql_queries/insights/funnels/test/test_funnel.py,
    `test_funnel_exclusion_no_end_event`: a 1-day window, exclusion `x` between step 0 and 1.
    person2 has x between signup and paid; person3 has x an hour after signup and never pays
    (inside signup + window: excluded all the same); person4's x is 25 h after signup (outside
    the window). PostHog: 2 (person1, person4), 1 (person1) — our `scope: funnel`. The
    default `scope: onward` keeps person2 and person3 at signup: 4, 1."""
    rows = [
        ("person1", "user signed up", "2021-05-01 01:00:00"),
        ("person1", "paid", "2021-05-01 02:00:00"),
        ("person2", "user signed up", "2021-05-01 03:00:00"),
        ("person2", "x", "2021-05-01 03:30:00"),
        ("person2", "paid", "2021-05-01 04:00:00"),
        ("person3", "user signed up", "2021-05-01 05:00:00"),
        ("person3", "x", "2021-05-01 06:00:00"),
        ("person4", "user signed up", "2021-05-01 07:00:00"),
        ("person4", "x", "2021-05-02 08:00:00"),
    ]
    yaml_text = exclusion_funnel(["user signed up", "paid"], [("x", 0, 1)], "1d")
    files = {"events.csv": events_csv(rows)}
    report = run(tmp_path, yaml_text, files)
    assert counts(report) == [2, 1]
    assert [x.ids for x in report.data_quality.excluded] == [2]
    onward = run(tmp_path, yaml_text.replace("scope: funnel", "scope: onward"), files)
    assert counts(onward) == [4, 1]
    assert [x.ids for x in onward.data_quality.excluded] == [2]


@pytest.mark.parametrize(
    ("events", "expected"),
    [
        # 1: the 00:00 try is excluded (x at 00:01); the 00:31 try is clean and counts.
        ([("step one", 0), ("exclusion", 1), ("step one", 31)], [1, 0]),
        # 2: the 00:00 try is clean (x at 00:32 is after its 10 s); the 00:31 one is not.
        ([("step one", 0), ("step one", 31), ("exclusion", 32)], [1, 0]),
        # 3: both tries (00:00, 00:01) have x at 00:02 inside their window: none counts.
        ([("step one", 0), ("step one", 1), ("exclusion", 2)], [0, 0]),
    ],
)
def test_posthog_funnel_exclusion_multiple_possible_no_end_event(
    tmp_path: Path, events: list[tuple[str, int]], expected: list[int]
) -> None:
    """PostHog/posthog posthog/hogql_queries/insights/funnels/test/test_funnel.py,
    `test_funnel_exclusion_multiple_possible_no_end_event1`, `…2` and `…3`: steps `step one`,
    `step two`, a 10-second window, an exclusion between them; user_one tries twice. PostHog
    re-anchors after an excluded try: [1, 0], [1, 0], [0, 0] (3: "no events"). funnelcli:
    `attempts: best` with `scope: funnel` (an excluded attempt reaches no stage, so another
    attempt counts); under `attempts: first` case 1 gives [0, 0]."""
    rows = [("user_one", e, f"2021-05-01 00:00:{second:02d}") for e, second in events]
    yaml_text = exclusion_funnel(["step one", "step two"], [("exclusion", 0, 1)], "10s")
    files = {"events.csv": events_csv(rows)}
    best = yaml_text + "order: strict\nattempts: best\n"
    assert counts(run(tmp_path, best, files)) == expected
    if events[1][0] == "exclusion":
        assert counts(run(tmp_path, yaml_text + "order: strict\n", files)) == [0, 0]


FIVE_STEPS = ["user signed up", "$pageview", "insight viewed", "invite teammate", "pageview2"]
FIVE_TIMES = ["01:00", "02:00", "04:00", "05:00", "06:00"]


def five_step_rows(extra: dict[str, list[tuple[str, str]]]) -> list[tuple[str, str, str]]:
    """Each person does the five steps at FIVE_TIMES on 2021-05-01, plus its `extra` events."""
    rows = []
    for person, events in extra.items():
        timed = list(zip(FIVE_STEPS, FIVE_TIMES, strict=True)) + events
        rows += [(person, e, f"2021-05-01 {t}:00") for e, t in sorted(timed, key=lambda p: p[1])]
    return rows


def test_posthog_advanced_funnel_exclusions_between_steps(tmp_path: Path) -> None:
    """PostHog/posthog posthog/hogql_queries/insights/funnels/test/test_funnel.py,
    `test_advanced_funnel_exclusions_between_steps`: three people do all five steps with `x`
    at different places (default 14-day window); one exclusion step at a time. PostHog
    (steps 0 and 4): 0→1: 2, 2; 1→2: 2, 2; 2→3: 1, 1; 3→4: 0, 0; 1→3: 1, 1."""
    rows = five_step_rows(
        {
            "person1": [("x", "03:00"), ("x", "04:30"), ("x", "05:30")],
            "person2": [("x", "04:30"), ("x", "05:30")],
            "person3": [("x", "01:30"), ("x", "05:30")],
        }
    )
    files = {"events.csv": events_csv(rows)}
    expected = {(0, 1): 2, (1, 2): 2, (2, 3): 1, (3, 4): 0, (1, 3): 1}
    for (start, end), count in expected.items():
        yaml_text = exclusion_funnel(FIVE_STEPS, [("x", start, end)], "14d")
        found = counts(run(tmp_path, yaml_text, files))
        assert (found[0], found[4]) == (count, count), (start, end)


def test_posthog_advanced_funnel_multiple_exclusions_between_steps(tmp_path: Path) -> None:
    """PostHog/posthog posthog/hogql_queries/insights/funnels/test/test_funnel.py,
    `test_advanced_funnel_multiple_exclusions_between_steps`: two exclusion steps (`x`, `y`);
    only person4 (no x, no y) is left in every variant. PostHog: 1 at steps 0 and 4 for x 0→1
    with y 2→3, for both 0→1, and for both 0→4."""
    rows = five_step_rows(
        {
            "person1": [("x", "02:00"), ("y", "04:30")],
            "person2": [("y", "01:30"), ("y", "04:30"), ("x", "05:30")],
            "person3": [("x", "01:30"), ("x", "05:30")],
            "person4": [],
        }
    )
    # person1's x at 02:00 ties with its $pageview: PostHog creates x first (01:00 signup,
    # 02:00 x, 03:00 pageview); keep its order with the pageview an hour later.
    rows = [
        r
        if r != ("person1", "$pageview", "2021-05-01 02:00:00")
        else ("person1", "$pageview", "2021-05-01 03:00:00")
        for r in rows
    ]
    files = {"events.csv": events_csv(rows)}
    variants = [
        [("x", 0, 1), ("y", 2, 3)],
        [("x", 0, 1), ("y", 0, 1)],
        [("x", 0, 4), ("y", 0, 4)],
    ]
    for items in variants:
        found = counts(run(tmp_path, exclusion_funnel(FIVE_STEPS, items, "14d"), files))
        assert (found[0], found[4]) == (1, 1), items


def test_posthog_funnel_with_multiple_incomplete_tries(tmp_path: Path) -> None:
    """PostHog/posthog posthog/hogql_queries/insights/funnels/test/conversion_time_cases.py,
    `test_funnel_with_multiple_incomplete_tries` (ordered funnel, 1-day window): person1
    completes the funnel on May 1 (sign-up 01:00, pageview 02:00, something else 03:00), then
    tries again on May 3 (pageview after 1 h) and May 4 (after 3 h) without finishing.
    PostHog: 1 person; conversion time to step 2 is 3600 s (average and median), "disregard
    the incomplete tries". Under `attempts: best` the complete attempt is the furthest-reaching
    one; its own times are reported."""
    rows = [
        ("person1", "user signed up", "2021-05-01 01:00:00"),
        ("person1", "$pageview", "2021-05-01 02:00:00"),
        ("person1", "something else", "2021-05-01 03:00:00"),
        ("person1", "user signed up", "2021-05-03 04:00:00"),
        ("person1", "$pageview", "2021-05-03 05:00:00"),
        ("person1", "user signed up", "2021-05-04 07:00:00"),
        ("person1", "$pageview", "2021-05-04 10:00:00"),
    ]
    yaml_text = EVENTS + (
        "stages:\n"
        "  - {name: signup, match: [user signed up]}\n"
        "  - {name: pageview, match: [$pageview]}\n"
        "  - {name: other, match: [something else]}\n"
        "window: 1d\norder: strict\nattempts: best\n"
    )
    report = run(tmp_path, yaml_text, {"events.csv": events_csv(rows)})
    assert counts(report) == [1, 1, 1]
    pageview = report.overall.stages[1].time_from_previous
    assert pageview.n == 1
    assert pageview.median_days == pageview.mean_days == 3600 / 86400


def test_clickhouse_window_funnel_default_mode_is_the_longest_chain(tmp_path: Path) -> None:
    """ClickHouse/ClickHouse tests/queries/0_stateless/00632_aggregation_window_funnel.sql
    (.reference): `windowFunnel` without `strict_order` keeps the longest chain over every
    start event (its level is the furthest over every chain), which is `attempts: best` with `order:
    strict`. Table funnel_test_strict_order, `windowFunnel(86400)(dt, event='a', event='b',
    event='c')`: levels [3, 3, 3, 3, 3, 1]; `windowFunnel(86400, 'strict_order')`: [3, 1, 3,
    3, 2, 1], also under `attempts: best` with `order: sequence` (user 5's second start, a@2,
    meets the same d@5). Table funnel_test, events 1000…1008 at seconds 0…8:
    `windowFunnel(2)`, `(3)`, `(4)` over 1003…1007 give 3, 4, 5."""
    data = {"events.csv": at_second(STRICT_ORDER)}
    best = "attempts: best\n"
    strict = run(tmp_path, abc_funnel("86400s", "strict") + best, data, by=(("person",),))
    assert levels(strict) == {"1": 3, "2": 3, "3": 3, "4": 3, "5": 3, "6": 1}
    sequence = run(tmp_path, abc_funnel("86400s") + best, data, by=(("person",),))
    assert levels(sequence) == {"1": 3, "2": 1, "3": 3, "4": 3, "5": 2, "6": 1}
    events = at_second([(s, 1, str(1000 + s)) for s in range(9)])
    steps = (
        EVENTS
        + "stages:\n"
        + "".join(f"  - {{name: e{e}, match: ['{e}']}}\n" for e in range(1003, 1008))
    )
    for window, level in (("2s", 3), ("3s", 4), ("4s", 5)):
        yaml_text = steps + f"window: {window}\norder: strict\n" + best
        assert sum(counts(run(tmp_path, yaml_text, {"events.csv": events}))) == level
