"""The floor: the benchmark funnels written by hand as one DuckDB query each, no funnelcli.

`python benchmarks/handwritten.py wide leads.csv` computes what `funnel report` prints for
funnels/default.yaml (wide export, backfill, 18-month window, trial within 60 days of
qualified, medians and p90s, deal values, by channel); `... long stage_history.csv` does
funnels/history.yaml (one row per stage change, strict order). It prints the stage counts as
JSON so benchmarks/run.py can check the floor computes the same funnel.
"""

from __future__ import annotations

import json
import sys
import time

import duckdb

WIDE = """
WITH per_lead AS (          -- one row per lead: earliest time of each stage
    SELECT
        lead_id,
        min(created_at)       AS lead_at,
        min(qualified_at)     AS qualified_at,
        min(trial_started_at) AS trial_at,
        min(paid_at)          AS paid_at,
        min(renewed_at)       AS renewed_at,
        arg_min(deal_amount, paid_at)       AS deal_amount,
        arg_min(renewal_amount, renewed_at) AS renewal_amount,
        arg_min(channel, coalesce(created_at, qualified_at, trial_started_at, paid_at, renewed_at))
            AS channel,
        max(greatest(created_at, qualified_at, trial_started_at, paid_at, renewed_at)) AS latest
    FROM read_csv($path)
    GROUP BY lead_id
),
timed AS (                  -- stage times that count: within 18 months of entry, trial 60 days
    SELECT
        *,
        coalesce(lead_at, least(qualified_at, trial_at, paid_at, renewed_at)) AS entry_at,
        lead_at AS t1,
        CASE WHEN qualified_at <= entry_at + INTERVAL 18 MONTH THEN qualified_at END AS t2,
        CASE WHEN trial_at <= entry_at + INTERVAL 18 MONTH
              AND (t2 IS NULL OR trial_at <= t2 + INTERVAL 60 DAY) THEN trial_at END AS t3,
        CASE WHEN paid_at <= entry_at + INTERVAL 18 MONTH THEN paid_at END AS t4,
        CASE WHEN renewed_at <= entry_at + INTERVAL 18 MONTH THEN renewed_at END AS t5
    FROM per_lead
),
reached AS (                -- backfill: reaching a stage implies every earlier one
    SELECT
        *,
        t5 IS NOT NULL AS r5,
        r5 OR t4 IS NOT NULL AS r4,
        r4 OR t3 IS NOT NULL AS r3,
        r3 OR t2 IS NOT NULL AS r2,
        r2 OR t1 IS NOT NULL AS r1,
        (SELECT max(latest) FROM per_lead) AS as_of
    FROM timed
)
SELECT
    grouping(channel) AS is_total,
    coalesce(channel, '(none)') AS channel,
    count(*) FILTER (r1) AS entered,
    count(*) FILTER (r1 AND entry_at + INTERVAL 18 MONTH > as_of) AS immature,
    count(*) FILTER (r1) AS s1, count(*) FILTER (r2) AS s2, count(*) FILTER (r3) AS s3,
    count(*) FILTER (r4) AS s4, count(*) FILTER (r5) AS s5,
    sum(deal_amount) FILTER (t4 IS NOT NULL) AS paid_value,
    sum(renewal_amount) FILTER (t5 IS NOT NULL) AS renewed_value,
    quantile_cont(epoch(t2 - t1) / 86400, [0.5, 0.9]) AS qualified_days,
    quantile_cont(epoch(t3 - t2) / 86400, [0.5, 0.9]) AS trial_days,
    quantile_cont(epoch(t3 - t1) / 86400, [0.5, 0.9]) AS trial_days_from_entry,
    quantile_cont(epoch(t4 - t3) / 86400, [0.5, 0.9]) AS paid_days,
    quantile_cont(epoch(t4 - t1) / 86400, [0.5, 0.9]) AS paid_days_from_entry,
    quantile_cont(epoch(t5 - t4) / 86400, [0.5, 0.9]) AS renewed_days,
    quantile_cont(epoch(t5 - t1) / 86400, [0.5, 0.9]) AS renewed_days_from_entry
FROM reached
WHERE r1
GROUP BY GROUPING SETS ((), (channel))
"""

LONG = """
WITH per_lead AS (          -- one row per lead: the sorted times of each stage value
    SELECT
        lead_id,
        list(changed_at ORDER BY changed_at) FILTER (stage = 'New')        AS l1,
        list(changed_at ORDER BY changed_at) FILTER (stage = 'MQL')        AS l2,
        list(changed_at ORDER BY changed_at) FILTER (stage = 'Trial')      AS l3,
        list(changed_at ORDER BY changed_at) FILTER (stage = 'Closed Won') AS l4,
        list(changed_at ORDER BY changed_at) FILTER (stage = 'Renewed')    AS l5,
        arg_min(channel, CASE WHEN stage IN ('New', 'MQL', 'Trial', 'Closed Won', 'Renewed')
                              THEN changed_at END) AS channel,
        max(changed_at) FILTER (stage IN ('New', 'MQL', 'Trial', 'Closed Won', 'Renewed'))
            AS latest
    FROM read_csv($path)
    GROUP BY lead_id
),
timed AS (                  -- strict: each stage's first time after the previous stage's
    SELECT
        *,
        l1[1] AS entry_at,
        l1[1] AS t1,
        list_filter(l2, lambda e: e >= t1 AND e <= entry_at + INTERVAL 18 MONTH)[1] AS t2,
        list_filter(l3, lambda e: e >= t2 AND e <= entry_at + INTERVAL 18 MONTH
                                     AND e <= t2 + INTERVAL 60 DAY)[1] AS t3,
        list_filter(l4, lambda e: e >= t3 AND e <= entry_at + INTERVAL 18 MONTH)[1] AS t4,
        list_filter(l5, lambda e: e >= t4 AND e <= entry_at + INTERVAL 18 MONTH)[1] AS t5,
        (SELECT max(latest) FROM per_lead) AS as_of
    FROM per_lead
)
SELECT
    grouping(channel) AS is_total,
    coalesce(channel, '(none)') AS channel,
    count(*) AS entered,
    count(*) FILTER (entry_at + INTERVAL 18 MONTH > as_of) AS immature,
    count(t1) AS s1, count(t2) AS s2, count(t3) AS s3, count(t4) AS s4, count(t5) AS s5,
    quantile_cont(epoch(t2 - t1) / 86400, [0.5, 0.9]) AS qualified_days,
    quantile_cont(epoch(t3 - t2) / 86400, [0.5, 0.9]) AS trial_days,
    quantile_cont(epoch(t3 - t1) / 86400, [0.5, 0.9]) AS trial_days_from_entry,
    quantile_cont(epoch(t4 - t3) / 86400, [0.5, 0.9]) AS paid_days,
    quantile_cont(epoch(t4 - t1) / 86400, [0.5, 0.9]) AS paid_days_from_entry,
    quantile_cont(epoch(t5 - t4) / 86400, [0.5, 0.9]) AS renewed_days,
    quantile_cont(epoch(t5 - t1) / 86400, [0.5, 0.9]) AS renewed_days_from_entry
FROM timed
WHERE t1 IS NOT NULL
GROUP BY GROUPING SETS ((), (channel))
"""


def main() -> None:
    kind, path = sys.argv[1], sys.argv[2]
    started = time.perf_counter()
    connection = duckdb.connect()
    connection.execute("SET TimeZone = 'UTC'")
    cursor = connection.execute(WIDE if kind == "wide" else LONG, {"path": path})
    names = [d[0] for d in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    counts = {
        ("" if row["is_total"] else row["channel"]): [row[f"s{k}"] for k in range(1, 6)]
        for row in rows
    }
    print(json.dumps({"counts": counts, "seconds": time.perf_counter() - started}))


if __name__ == "__main__":
    main()
