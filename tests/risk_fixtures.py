"""Hand-made usage, touches and contracts for `funnel risk` tests (tests/test_risk*.py).

Weeks are counted back from the as-of date E: week b holds the days [E − 7(b+1), E − 7b), so
week 0 is the 7 days before E. A weekly total is written as one row on its week's first day
(the other days have no row: zero usage for counts, nothing for levels).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path

from funnelcli.spec import Funnel, parse_funnel

E = date(2025, 4, 1)
LEADS = "lead_id,account_id,created_at,segment\n" + "".join(
    f"L{i},{account},2024-01-0{i},{segment}\n"
    for i, (account, segment) in enumerate(
        [("A", "SMB"), ("B", "SMB"), ("C", "Enterprise"), ("D", "SMB")], start=1
    )
)
YAML = """\
name: riskfix
sources:
  leads: {path: leads.csv, id: lead_id, account: account_id}
stages:
  - {name: lead, at: created_at}
risk:
  usage:
    path: usage.csv
    metrics: {logins: count, exports: count, seats: level}
  touches: {path: touches.csv}
  contracts: {path: contracts.csv}
  signals:
    drop: {metrics: [logins]}
    spike: {metrics: [exports]}
    contraction: {metrics: [seats]}
"""


def week_start(b: int, as_of: date = E) -> date:
    return as_of - timedelta(days=7 * (b + 1))


def weekly(values: Mapping[int, float | str]) -> dict[date, float | str]:
    """Week b → its total, as rows on the weeks' first days."""
    return {week_start(b): v for b, v in values.items()}


def write_case(
    folder: Path,
    usage: Mapping[str, Mapping[date, Mapping[str, float | str]]],
    contracts: Sequence[tuple[str, date, date, str]],
    touches: Sequence[tuple[str, str]] = (),
    yaml: str = YAML,
    columns: Sequence[str] = ("logins", "exports", "seats"),
) -> Funnel:
    """Write leads, usage (account → day → metric → value), contracts and touches; the
    funnel over them."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "leads.csv").write_text(LEADS, encoding="utf-8")
    lines = ["account_id,date," + ",".join(columns)]
    for account, days in usage.items():
        for day in sorted(days):
            values = days[day]
            lines.append(
                f"{account},{day.isoformat()}," + ",".join(str(values.get(c, "")) for c in columns)
            )
    (folder / "usage.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    rows = ["contract_id,account_id,start_date,end_date,amount"]
    rows += [
        f'C{i},{a},{s.isoformat()},{e.isoformat()},"{amount}"'
        for i, (a, s, e, amount) in enumerate(contracts, start=1)
    ]
    (folder / "contracts.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    touch_rows = ["account_id,touched_at"] + [f"{a},{t}" for a, t in touches]
    (folder / "touches.csv").write_text("\n".join(touch_rows) + "\n", encoding="utf-8")
    (folder / "risk.yaml").write_text(yaml, encoding="utf-8")
    return parse_funnel(yaml, file=str(folder / "risk.yaml"), base_dir=folder)


def merge(*parts: Mapping[date, Mapping[str, float | str]]) -> dict[date, dict[str, float | str]]:
    out: dict[date, dict[str, float | str]] = {}
    for part in parts:
        for day, values in part.items():
            out.setdefault(day, {}).update(values)
    return out


def metric(name: str, values: Mapping[int, float | str]) -> dict[date, dict[str, float | str]]:
    return {day: {name: v} for day, v in weekly(values).items()}


STEADY = metric("logins", dict.fromkeys(range(16), 10))
BASELINE_A = [10, 12, 8, 10, 11, 9, 10, 10, 12, 8, 10, 10]  # weeks 4..15: median 10, MAD 0.5


def list_case(folder: Path) -> Funnel:
    """The accounts of tests/test_risk.py, each made to fire (or just miss) one signal."""
    long_ago, far = E - timedelta(days=335), E + timedelta(days=200)
    usage = {
        # drop: recent 4/week vs median 10 (MAD 0.5, scale floored at 1): −60%, z = −6
        "A": metric("logins", {**{b: 4 for b in range(4)}, **dict(enumerate(BASELINE_A, 4))}),
        # drop at exactly the threshold: 6 vs 10 is −40%, z = −4
        "B": metric("logins", {**{b: 6 for b in range(4)}, **{b: 10 for b in range(4, 16)}}),
        # just short: 6.25 vs 10 is −37.5%
        "C": metric("logins", {0: 7, 1: 6, 2: 6, 3: 6, **{b: 10 for b in range(4, 16)}}),
        # spike at exactly z = 4: exports 5 last week vs 1 a week (MAD 0), 5×
        "D": merge(STEADY, metric("exports", {0: 5, **{b: 1 for b in range(1, 13)}})),
        "E": STEADY,  # silence: touches 100, 80 and 60 days ago, none since
        "F": STEADY,  # a recent touch: not silent
        # contraction: 20 seats in its first 4 whole weeks (week 15: two rows, 18 and 22),
        # 12 in the last 4 weeks: −40%
        "G": merge(
            STEADY,
            metric("seats", {**{b: 12 for b in range(4)}, **{b: 20 for b in range(4, 15)}}),
            {week_start(15): {"seats": 18}, week_start(15) + timedelta(days=1): {"seats": 22}},
        ),
        "H": metric("logins", dict.fromkeys(range(5), 10)),  # 5 weeks: not enough history
        "X": STEADY,  # usage without any contract
    }
    contracts = [
        ("A", long_ago, E + timedelta(days=30), "¥12,000"),  # renewal in 30 days: × 1.2
        *[(a, long_ago, far, "18,000") for a in "BCDEFGH"],
        ("Y", long_ago, far, "18,000"),  # a contract, no usage
        ("Z", long_ago, E - timedelta(days=10), "5,000"),  # ended before E: not running
    ]
    touches = [("E", f"{(E - timedelta(days=d)).isoformat()} 10:00:00") for d in (100, 80, 60)] + [
        ("F", f"{(E - timedelta(days=d)).isoformat()} 09:00:00") for d in (100, 30)
    ]
    return write_case(folder, usage, contracts, touches)
