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
