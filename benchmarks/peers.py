"""What a user would write instead of `funnel report`: the peers benchmarks/run.py times.

    python benchmarks/peers.py pandas  leads.csv   # pandas read_csv(parse_dates=…) + groupby
    python benchmarks/peers.py polars  leads.csv   # polars lazy scan + strptime + group_by
    python benchmarks/peers.py duckdb  leads.csv   # the minimal DuckDB query (no GROUP BY id)
    python benchmarks/peers.py parse   leads.csv   # DuckDB count(*): the parse-only limit

Each of the first three computes the same numbers from the benchmark's wide export, overall
and by channel (a missing channel is '(none)'): how many leads have each stage time, and the
median days from each stage to the next (qualified − created, trial − qualified, paid − trial,
renewed − paid, over the leads that have both). That is what an analyst writes: no window,
no backfill, no id check, no p90s or data-quality counts, so the numbers are not the report's;
run.py checks that the three agree with each other. Each prints JSON {"counts": {channel:
[5 ints]}, "medians": {channel: [4 floats or null]}}, the total under "".

pandas and polars are the `bench` extra (`pip install -e '.[bench]'`), not funnelcli's
runtime dependencies.
"""

from __future__ import annotations

import json
import math
import sys

TIMES = ["created_at", "qualified_at", "trial_started_at", "paid_at", "renewed_at"]
FORMAT = "%Y-%m-%d %H:%M:%S"
NONE = "(none)"
DAY = 86400.0


def with_pandas(path: str) -> dict[str, dict[str, list]]:
    import pandas as pd

    df = pd.read_csv(path, usecols=["channel", *TIMES], parse_dates=TIMES, date_format=FORMAT)
    df["channel"] = df["channel"].fillna(NONE)
    gaps = [f"d{i}" for i in range(1, len(TIMES))]
    for i, gap in enumerate(gaps, start=1):
        df[gap] = (df[TIMES[i]] - df[TIMES[i - 1]]).dt.total_seconds() / DAY
    by_channel = df.groupby("channel").agg(
        **{t: (t, "count") for t in TIMES}, **{g: (g, "median") for g in gaps}
    )
    total = df[TIMES].count()
    total_medians = df[gaps].median()
    counts = {"": [int(total[t]) for t in TIMES]}
    medians = {"": [_float(total_medians[g]) for g in gaps]}
    for channel, row in by_channel.iterrows():
        counts[str(channel)] = [int(row[t]) for t in TIMES]
        medians[str(channel)] = [_float(row[g]) for g in gaps]
    return {"counts": counts, "medians": medians}


def with_polars(path: str) -> dict[str, dict[str, list]]:
    import polars as pl

    gaps = [f"d{i}" for i in range(1, len(TIMES))]
    rows = (
        pl.scan_csv(path)
        .select(
            pl.col("channel").fill_null(NONE),
            *[pl.col(t).str.strptime(pl.Datetime("us"), FORMAT) for t in TIMES],
        )
        .with_columns(
            ((pl.col(TIMES[i]) - pl.col(TIMES[i - 1])).dt.total_microseconds() / 1e6 / DAY).alias(
                gap
            )
            for i, gap in enumerate(gaps, start=1)
        )
    )
    aggregates = [*[pl.col(t).count() for t in TIMES], *[pl.col(g).median() for g in gaps]]
    by_channel, total = pl.collect_all(
        [rows.group_by("channel").agg(aggregates), rows.select(aggregates)]
    )
    counts = {"": [int(total[t][0]) for t in TIMES]}
    medians = {"": [_float(total[g][0]) for g in gaps]}
    for row in by_channel.iter_rows(named=True):
        counts[row["channel"]] = [int(row[t]) for t in TIMES]
        medians[row["channel"]] = [_float(row[g]) for g in gaps]
    return {"counts": counts, "medians": medians}


DUCKDB = f"""
SELECT
    grouping(channel) AS is_total,
    coalesce(channel, '{NONE}') AS channel,
    {", ".join(f"count({t}) AS c{i}" for i, t in enumerate(TIMES))},
    {
    ", ".join(
        f"median(epoch({TIMES[i]} - {TIMES[i - 1]}) / {DAY}) AS m{i}" for i in range(1, len(TIMES))
    )
}
FROM read_csv($path)
GROUP BY ROLLUP (channel)
"""


def with_duckdb(path: str) -> dict[str, dict[str, list]]:
    import duckdb

    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    counts: dict[str, list] = {}
    medians: dict[str, list] = {}
    for row in connection.execute(DUCKDB, {"path": path}).fetchall():
        key = "" if row[0] else row[1]
        counts[key] = list(row[2 : 2 + len(TIMES)])
        medians[key] = [_float(x) for x in row[2 + len(TIMES) :]]
    return {"counts": counts, "medians": medians}


def parse_only(path: str) -> dict[str, int]:
    import duckdb

    row = duckdb.connect().execute("SELECT count(*) FROM read_csv($path)", {"path": path})
    return {"rows": int(row.fetchone()[0])}  # type: ignore[index]


def _float(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


PEERS = {"pandas": with_pandas, "polars": with_polars, "duckdb": with_duckdb, "parse": parse_only}


def main() -> None:
    kind, path = sys.argv[1], sys.argv[2]
    print(json.dumps(PEERS[kind](path)))


if __name__ == "__main__":
    main()
