"""`funnel risk` against a hand-written DuckDB query of the same signals (docs/risk.md).

    python benchmarks/risk.py --accounts 20000 --days 730   # the issue's figure (14.6M rows)
    python benchmarks/risk.py --accounts 2000 --runs 3      # quicker
    python benchmarks/run.py --risk-accounts 20000          # the same, from run.py

Generates seeded usage (one row per account and day: logins, active_users, exports, api_calls,
seats), touches and contracts with DuckDB itself into the cache folder (reused when there),
checks that the hand-written query and `funnel risk` agree on the accounts per level and per
signal, times both as separate processes (benchmarks/run.py's measure) and writes its section
of benchmarks/RESULTS.md between the `risk` markers. Tests never assert timings.
"""

# ruff: noqa: E501  (the SQL reads better unwrapped)
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
from run import MIB, Timing, funnel_command, machine, measure, run_once  # benchmarks/run.py

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
START = date(2024, 1, 1)
BEGIN, END = "<!-- risk benchmark: benchmarks/risk.py writes this section -->", "<!-- /risk -->"

YAML = """\
name: risk-benchmark
sources:
  leads: {path: leads.csv, id: lead_id, account: account_id}
stages:
  - {name: lead, at: created_at}
risk:
  usage: {path: usage.csv}
  touches: {path: touches.csv}
  contracts: {path: contracts.csv}
"""

# The generated data: every account from START for `days` days; an account whose number ends in
# 7 fades out over its last 70 days, one ending in 3 pulls an export burst in its last week,
# one ending in 5 loses half its seats 60 days before the end; contracts of a year (the last one
# running past the end), touches every 9–16 days except the fading accounts' last 100 days.
_USAGE = """
COPY (
  WITH a AS (SELECT range AS n, printf('A%06d', range) AS account FROM range({accounts})),
  d AS (SELECT range AS i, DATE '{start}' + CAST(range AS INTEGER) AS day FROM range({days}))
  SELECT account AS account_id, day AS date,
         CAST(round((5 + hash(n, i, {seed}) % 20) * f) AS INTEGER) AS logins,
         CAST(round((2 + hash(n, i, {seed} + 1) % 8) * f) AS INTEGER) AS active_users,
         CASE WHEN n % 10 = 3 AND i >= {days} - 7 THEN 15 + hash(n, i) % 10
              ELSE CAST(hash(n, i, {seed} + 2) % 9 = 0 AS INTEGER) END AS exports,
         CAST((50 + hash(n, i, {seed} + 3) % 100) * f AS INTEGER) AS api_calls,
         CASE WHEN n % 10 = 5 AND i >= {days} - 60 THEN 10 ELSE 20 END AS seats
  FROM a, d,
       LATERAL (SELECT CASE WHEN n % 10 = 7 AND i >= {days} - 70
                            THEN greatest(0.1, 1 - ({days} - 70 - i) * -1.0 / 70) ELSE 1 END AS f)
  ORDER BY account_id, date
) TO '{path}' (HEADER)
"""
_TOUCHES = """
COPY (
  SELECT printf('A%06d', a.range) AS account_id,
         CAST(DATE '{start}' + CAST(t.range AS INTEGER) AS TIMESTAMP) + INTERVAL 10 HOUR AS touched_at
  FROM range({accounts}) AS a, range(0, {days}) AS t
  WHERE (t.range + a.range) % (9 + a.range % 8) = 0
    AND NOT (a.range % 10 = 7 AND t.range >= {days} - 100)
) TO '{path}' (HEADER)
"""
_CONTRACTS = """
COPY (
  SELECT printf('C%08d', a.range * 10 + y.range) AS contract_id, printf('A%06d', a.range) AS account_id,
         DATE '{start}' + CAST(y.range * 365 AS INTEGER) AS start_date,
         DATE '{start}' + CAST((y.range + 1) * 365 + a.range % 200 AS INTEGER) AS end_date,
         1000 + a.range % 50 * 100 AS amount
  FROM range({accounts}) AS a, range(0, {years}) AS y
) TO '{path}' (HEADER)
"""

# The floor: the same signals, written by hand (lists instead of window functions).
HANDWRITTEN = """
WITH u AS (SELECT * FROM read_csv($usage)),
wk AS (
  SELECT account_id AS account, (date_diff('day', date, $e) - 1) // 7 AS b, min(date) AS d0,
         sum(logins) AS logins, sum(active_users) AS active_users, sum(exports) AS exports,
         sum(api_calls) AS api_calls, avg(seats) AS seats
  FROM u WHERE date < $e GROUP BY ALL
),
c AS (
  SELECT account_id AS account, arg_max(start_date, start_date) AS start,
         arg_max(end_date, start_date) AS "end", arg_max(amount, start_date) AS amount
  FROM read_csv($contracts) WHERE start_date < $e AND end_date >= $e GROUP BY 1
),
s AS (
  SELECT c.*, f.first_day, date_diff('day', f.first_day, $e) // 7 AS hw
  FROM c JOIN (SELECT account, min(d0) AS first_day FROM wk GROUP BY 1) AS f USING (account)
),
lists AS (
  SELECT s.account, s.hw, s.start, s.first_day,
    list(coalesce(w.logins, 0) ORDER BY g.b) FILTER (g.b < 4) AS lo_r,
    list(coalesce(w.logins, 0) ORDER BY g.b) FILTER (g.b BETWEEN 4 AND 15 AND g.b < s.hw) AS lo_b,
    list(coalesce(w.active_users, 0) ORDER BY g.b) FILTER (g.b < 4) AS au_r,
    list(coalesce(w.active_users, 0) ORDER BY g.b) FILTER (g.b BETWEEN 4 AND 15 AND g.b < s.hw) AS au_b,
    list(coalesce(w.exports, 0) ORDER BY g.b) FILTER (g.b < 1) AS ex_r,
    list(coalesce(w.exports, 0) ORDER BY g.b) FILTER (g.b BETWEEN 1 AND 12 AND g.b < s.hw) AS ex_b,
    list(coalesce(w.api_calls, 0) ORDER BY g.b) FILTER (g.b < 1) AS ap_r,
    list(coalesce(w.api_calls, 0) ORDER BY g.b) FILTER (g.b BETWEEN 1 AND 12 AND g.b < s.hw) AS ap_b
  FROM s CROSS JOIN range(16) AS g(b)
  LEFT JOIN wk AS w ON w.account = s.account AND w.b = g.b
  GROUP BY ALL
),
stats AS (
  SELECT *,
    list_transform([[lo_r, lo_b], [au_r, au_b]], lambda p: {'r': list_avg(p[1]), 'm': list_median(p[2]),
      'mad': list_median(list_transform(p[2], lambda x: abs(x - list_median(p[2]))))}) AS drops,
    list_transform([[ex_r, ex_b], [ap_r, ap_b]], lambda p: {'r': list_avg(p[1]), 'm': list_median(p[2]),
      'mad': list_median(list_transform(p[2], lambda x: abs(x - list_median(p[2]))))}) AS spikes
  FROM lists
),
seats AS (
  SELECT s.account,
    avg(w.seats) FILTER (w.b > date_diff('day', greatest(s.start, s.first_day), $e) // 7 - 5
                         AND w.b <= date_diff('day', greatest(s.start, s.first_day), $e) // 7 - 1) AS at_start,
    avg(w.seats) FILTER (w.b < 4) AS now
  FROM s JOIN wk AS w USING (account)
  WHERE date_diff('day', greatest(s.start, s.first_day), $e) // 7 >= 8
  GROUP BY 1
),
t AS (
  SELECT account_id AS account, max(touched_at) AS last_touch,
         count(*) FILTER (touched_at >= $at - INTERVAL 225 DAY AND touched_at < $at - INTERVAL 45 DAY) AS before
  FROM read_csv($touches) WHERE touched_at <= $at GROUP BY 1
),
flags AS (
  SELECT st.account, st.hw >= 8 AS enough,
    len(list_filter(st.drops, lambda x: x.r / nullif(x.m, 0) - 1 <= -0.4
                              AND (x.r - x.m) / greatest(1.4826 * x.mad, 1) <= -2)) > 0 AS drop_flag,
    len(list_filter(st.spikes, lambda x: x.r >= 3 * x.m
                              AND (x.r - x.m) / greatest(1.4826 * x.mad, 1) >= 4)) > 0 AS spike_flag,
    coalesce(t.last_touch < $at - INTERVAL 45 DAY AND t.before >= 2, false) AS silence_flag,
    coalesce(se.now / se.at_start - 1 <= -0.25, false) AS contraction_flag,
    date_diff('day', $e, s."end") <= 90 AS renewal_flag
  FROM stats AS st JOIN s USING (account)
  LEFT JOIN t USING (account) LEFT JOIN seats AS se USING (account)
),
scored AS (
  SELECT *, CASE WHEN enough THEN least(100, round(
    (drop_flag::INT * 45 + spike_flag::INT * 30 + silence_flag::INT * 20 + contraction_flag::INT * 25)
    * CASE WHEN renewal_flag AND (drop_flag OR spike_flag OR silence_flag OR contraction_flag)
           THEN 1.2 ELSE 1 END)) END AS score
  FROM flags
)
SELECT count(*) FILTER (score >= 60) AS high,
       count(*) FILTER (score >= 30 AND score < 60) AS medium,
       count(*) FILTER (score < 30) AS low,
       count(*) FILTER (enough AND drop_flag) AS drop,
       count(*) FILTER (enough AND spike_flag) AS spike,
       count(*) FILTER (enough AND silence_flag) AS silence,
       count(*) FILTER (enough AND contraction_flag) AS contraction
FROM scored
"""


def generate(folder: Path, accounts: int, days: int, seed: int) -> Path:
    data = folder / f"risk-{accounts}x{days}-seed-{seed}"
    if (data / "usage.csv").is_file():
        return data
    data.mkdir(parents=True, exist_ok=True)
    print(f"Generating {accounts:,} accounts × {days} days into {data} …", flush=True)
    started = time.perf_counter()
    values = {"accounts": accounts, "days": days, "start": START.isoformat(), "seed": seed}
    with duckdb.connect() as db:
        db.execute(_USAGE.format(**values, path=data / "usage.part"))
        db.execute(_TOUCHES.format(**values, path=data / "touches.csv"))
        db.execute(_CONTRACTS.format(**values, years=days // 365 + 1, path=data / "contracts.csv"))
    (data / "leads.csv").write_text(
        "lead_id,account_id,created_at\nL1,A000000,2024-01-01\n", encoding="utf-8"
    )
    (data / "risk.yaml").write_text(YAML, encoding="utf-8")
    os.replace(data / "usage.part", data / "usage.csv")
    print(f"  done in {time.perf_counter() - started:.1f} s", flush=True)
    return data


def handwritten(data: Path, as_of: date) -> dict[str, int]:
    with duckdb.connect() as db:
        row = db.execute(
            HANDWRITTEN,
            {
                "usage": str(data / "usage.csv"),
                "contracts": str(data / "contracts.csv"),
                "touches": str(data / "touches.csv"),
                "e": as_of,
                "at": datetime(as_of.year, as_of.month, as_of.day),
            },
        ).fetchone()
    assert row is not None
    names = ("high", "medium", "low", "drop", "spike", "silence", "contraction")
    return dict(zip(names, (int(v) for v in row), strict=True))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--floor":  # the child the timing runs
        counts = handwritten(Path(sys.argv[2]), date.fromisoformat(sys.argv[3]))
        print(json.dumps(counts))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--data", type=Path, default=Path.home() / ".cache" / "funnelcli-bench")
    parser.add_argument("--output", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT / "src"), env.get("PYTHONPATH")) if p)
    data = generate(args.data, args.accounts, args.days, args.seed)
    as_of = START + timedelta(days=args.days)
    yaml = str(data / "risk.yaml")
    floor_cmd = [sys.executable, str(Path(__file__).resolve()), "--floor", str(data), str(as_of)]
    _, _, floor_out, _ = run_once(floor_cmd, env)
    _, _, ours_out, _ = run_once(
        [*funnel_command(), "risk", yaml, "-f", "json", "--top", "20"], env
    )
    floor = json.loads(floor_out)
    totals = json.loads(ours_out)["totals"]
    ours = {level: totals["levels"][level]["accounts"] for level in ("high", "medium", "low")}
    ours |= {name: totals["signals"][name] for name in ("drop", "spike", "silence", "contraction")}
    if ours != floor:
        raise SystemExit(f"the hand-written query and funnel risk disagree:\n{floor}\n{ours}")
    print(f"  agree: {ours}", flush=True)
    timings = [
        Timing("hand-written DuckDB query", floor_cmd),
        Timing(
            "funnel risk --top 20",
            [*funnel_command(), "risk", yaml, "--top", "20"],
            floor="hand-written DuckDB query",
        ),
        Timing(
            "funnel risk -f json",
            [*funnel_command(), "risk", yaml, "-f", "json"],
            floor="hand-written DuckDB query",
        ),
    ]
    measure(timings, args.runs, env)  # taking turns, run by run
    size = (data / "usage.csv").stat().st_size
    rows = args.accounts * args.days
    floor_t = timings[0]
    lines = [
        BEGIN,
        f"## funnel risk: {args.accounts:,} accounts × {args.days} days ({rows:,} usage rows)",
        "",
        f"`python benchmarks/risk.py --accounts {args.accounts} --days {args.days} "
        f"--runs {args.runs}`: usage.csv {size / MIB:,.0f} MiB generated by DuckDB (seeded; "
        f"in {args.data}, never committed); as of {as_of}. The hand-written query "
        "(benchmarks/risk.py, lists instead of window functions) and `funnel risk` agree on "
        f"the accounts per level and per signal ({ours}). Whole-process wall time, "
        f"{args.runs} run(s) after a warm-up, and CPU time (user + system): on a busy machine "
        "compare the CPU columns.",
        "",
        *[f"- {line}" for line in machine()],
        "",
        "| command | median s | min s | CPU s | peak RSS MiB | median ÷ floor | CPU ÷ floor |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for t in timings:
        ratio = f"{t.median / floor_t.median:.2f}×" if t.floor else ""
        cpu = f"{t.best_cpu / floor_t.best_cpu:.2f}×" if t.floor else ""
        lines.append(
            f"| {t.name} | {t.median:.2f} | {t.best:.2f} | {t.best_cpu:.2f} | "
            f"{t.peak / MIB:.0f} | {ratio} | {cpu} |"
        )
    lines.append(END)
    section = "\n".join(lines)
    text = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
    if BEGIN in text and END in text:
        text = text[: text.index(BEGIN)] + section + text[text.index(END) + len(END) :]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    args.output.write_text(text, encoding="utf-8")
    print(f"Wrote {args.output}")


if __name__ == "__main__":
    main()
