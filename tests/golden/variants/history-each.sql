WITH RECURSIVE "agg_0" AS (
  SELECT
    CAST("lead_id" AS TEXT) AS "key",
    COUNT(*) AS "rows",
    MAX(
      GREATEST(
        CASE
          WHEN NOT "changed_at" IS NULL AND CAST("stage" AS TEXT) IN ('New')
          THEN CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)
        END,
        CASE
          WHEN NOT "changed_at" IS NULL AND CAST("stage" AS TEXT) IN ('MQL')
          THEN CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)
        END,
        CASE
          WHEN NOT "changed_at" IS NULL AND CAST("stage" AS TEXT) IN ('Trial')
          THEN CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)
        END,
        CASE
          WHEN NOT "changed_at" IS NULL AND CAST("stage" AS TEXT) IN ('Closed Won')
          THEN CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)
        END,
        CASE
          WHEN NOT "changed_at" IS NULL AND CAST("stage" AS TEXT) IN ('Renewed')
          THEN CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)
        END
      )
    ) AS "latest",
    LIST_SORT(
      ARRAY_AGG(CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)) FILTER(WHERE
        NOT "changed_at" IS NULL AND CAST("stage" AS TEXT) IN ('New'))
    ) AS "l_1",
    LIST_SORT(
      ARRAY_AGG(CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)) FILTER(WHERE
        NOT "changed_at" IS NULL AND CAST("stage" AS TEXT) IN ('MQL'))
    ) AS "l_2",
    LIST_SORT(
      ARRAY_AGG(CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)) FILTER(WHERE
        NOT "changed_at" IS NULL AND CAST("stage" AS TEXT) IN ('Trial'))
    ) AS "l_3",
    LIST_SORT(
      ARRAY_AGG(CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)) FILTER(WHERE
        NOT "changed_at" IS NULL AND CAST("stage" AS TEXT) IN ('Closed Won'))
    ) AS "l_4",
    LIST_SORT(
      ARRAY_AGG(CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)) FILTER(WHERE
        NOT "changed_at" IS NULL AND CAST("stage" AS TEXT) IN ('Renewed'))
    ) AS "l_5"
  FROM "source_history"
  GROUP BY
    CAST("lead_id" AS TEXT)
), "ids" AS (
  SELECT
    "agg_0"."key" AS "key",
    "agg_0"."rows" AS "rows_0",
    "agg_0"."latest" AS "latest_0",
    "agg_0"."l_1" AS "l_1",
    "agg_0"."l_2" AS "l_2",
    "agg_0"."l_3" AS "l_3",
    "agg_0"."l_4" AS "l_4",
    "agg_0"."l_5" AS "l_5"
  FROM "agg_0"
), "attempts" AS (
  SELECT DISTINCT
    CAST("lead_id" AS TEXT) AS "key",
    CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP) AS "entry_at"
  FROM "source_history"
  WHERE
    NOT "changed_at" IS NULL AND CAST("stage" AS TEXT) IN ('New')
), "ev" AS (
  SELECT
    "ids".*,
    CAST("attempts"."entry_at" AS TIMESTAMP) AS "entry_at"
  FROM "ids"
  LEFT JOIN "attempts"
    ON "attempts"."key" = "ids"."key"
), "q_1" AS (
  SELECT
    *,
    CAST(LIST_FILTER("l_1", LAMBDA e : e >= "entry_at")[1] AS TIMESTAMP) AS "qt_1",
    CAST(NULL AS DOUBLE) AS "qv_1",
    NOT LIST_FILTER("l_1", LAMBDA e : e >= "entry_at")[1] IS NULL AS "qr_1"
  FROM "ev"
), "q_2" AS (
  SELECT
    *,
    CAST(CASE
      WHEN "qr_1"
      THEN LIST_FILTER(
        "l_2",
        LAMBDA e : e <= "entry_at" + INTERVAL '18' MONTH AND (
          "qt_1" IS NULL OR e >= "qt_1"
        )
      )[1]
    END AS TIMESTAMP) AS "qt_2",
    CAST(NULL AS DOUBLE) AS "qv_2",
    "qr_1"
    AND NOT LIST_FILTER(
      "l_2",
      LAMBDA e : e <= "entry_at" + INTERVAL '18' MONTH AND (
        "qt_1" IS NULL OR e >= "qt_1"
      )
    )[1] IS NULL AS "qr_2"
  FROM "q_1"
), "q_3" AS (
  SELECT
    *,
    CAST(CASE
      WHEN "qr_2"
      THEN LIST_FILTER(
        "l_3",
        LAMBDA e : e <= "entry_at" + INTERVAL '18' MONTH
        AND (
          "qt_2" IS NULL OR e <= "qt_2" + INTERVAL '5184000' SECOND
        )
        AND (
          COALESCE("qt_2", "qt_1") IS NULL OR e >= COALESCE("qt_2", "qt_1")
        )
      )[1]
    END AS TIMESTAMP) AS "qt_3",
    CAST(NULL AS DOUBLE) AS "qv_3",
    "qr_2"
    AND NOT LIST_FILTER(
      "l_3",
      LAMBDA e : e <= "entry_at" + INTERVAL '18' MONTH
      AND (
        "qt_2" IS NULL OR e <= "qt_2" + INTERVAL '5184000' SECOND
      )
      AND (
        COALESCE("qt_2", "qt_1") IS NULL OR e >= COALESCE("qt_2", "qt_1")
      )
    )[1] IS NULL AS "qr_3"
  FROM "q_2"
), "q_4" AS (
  SELECT
    *,
    CAST(CASE
      WHEN "qr_3"
      THEN LIST_FILTER(
        "l_4",
        LAMBDA e : e <= "entry_at" + INTERVAL '18' MONTH
        AND (
          COALESCE("qt_3", "qt_2", "qt_1") IS NULL OR e >= COALESCE("qt_3", "qt_2", "qt_1")
        )
      )[1]
    END AS TIMESTAMP) AS "qt_4",
    CAST(NULL AS DOUBLE) AS "qv_4",
    "qr_3"
    AND NOT LIST_FILTER(
      "l_4",
      LAMBDA e : e <= "entry_at" + INTERVAL '18' MONTH
      AND (
        COALESCE("qt_3", "qt_2", "qt_1") IS NULL OR e >= COALESCE("qt_3", "qt_2", "qt_1")
      )
    )[1] IS NULL AS "qr_4"
  FROM "q_3"
), "q_5" AS (
  SELECT
    *,
    CAST(CASE
      WHEN "qr_4"
      THEN LIST_FILTER(
        "l_5",
        LAMBDA e : e <= "entry_at" + INTERVAL '18' MONTH
        AND (
          COALESCE("qt_4", "qt_3", "qt_2", "qt_1") IS NULL
          OR e >= COALESCE("qt_4", "qt_3", "qt_2", "qt_1")
        )
      )[1]
    END AS TIMESTAMP) AS "qt_5",
    CAST(NULL AS DOUBLE) AS "qv_5",
    "qr_4"
    AND NOT LIST_FILTER(
      "l_5",
      LAMBDA e : e <= "entry_at" + INTERVAL '18' MONTH
      AND (
        COALESCE("qt_4", "qt_3", "qt_2", "qt_1") IS NULL
        OR e >= COALESCE("qt_4", "qt_3", "qt_2", "qt_1")
      )
    )[1] IS NULL AS "qr_5"
  FROM "q_4"
), "attempt_ends" AS (
  SELECT
    "key",
    "entry_at",
    CAST(COALESCE(CASE WHEN "qr_5" THEN "qt_5" END, "entry_at" + INTERVAL '18' MONTH) AS TIMESTAMP) AS "end_at"
  FROM "q_5"
  WHERE
    NOT "entry_at" IS NULL
), "attempt_next" AS (
  SELECT
    "e"."key",
    "e"."entry_at",
    MIN("a"."entry_at") AS "next_at"
  FROM "attempt_ends" AS e
  LEFT JOIN "attempt_ends" AS a
    ON "a"."key" = "e"."key" AND "a"."entry_at" > "e"."end_at"
  GROUP BY
    "e"."key",
    "e"."entry_at"
), "attempt_chain" AS (
  SELECT
    "key",
    MIN("entry_at") AS "entry_at",
    TRUE AS "first_attempt"
  FROM "attempt_ends"
  GROUP BY
    "key"
  UNION ALL
  SELECT
    "n"."key",
    "n"."next_at" AS "entry_at",
    FALSE AS "first_attempt"
  FROM "attempt_chain" AS c
  JOIN "attempt_next" AS n
    ON "n"."key" = "c"."key" AND "n"."entry_at" = "c"."entry_at"
  WHERE
    NOT "n"."next_at" IS NULL
), "each" AS (
  SELECT
    "q_5".*,
    COALESCE("attempt_chain"."first_attempt", TRUE) AS "first_attempt"
  FROM "q_5"
  LEFT JOIN "attempt_chain"
    ON "attempt_chain"."key" = "q_5"."key"
    AND "attempt_chain"."entry_at" = "q_5"."entry_at"
  WHERE
    "q_5"."entry_at" IS NULL OR NOT "attempt_chain"."key" IS NULL
), "per_id" AS (
  SELECT
    *,
    NOT "key" IS NULL AND "qr_1" AS "r_1",
    NOT "key" IS NULL AND "qr_2" AS "r_2",
    NOT "key" IS NULL AND "qr_3" AS "r_3",
    NOT "key" IS NULL AND "qr_4" AS "r_4",
    NOT "key" IS NULL AND "qr_5" AS "r_5",
    COALESCE("l_2"[1] < "l_1"[1], FALSE) AS "bw_2",
    COALESCE("l_3"[1] < GREATEST("l_1"[1], "l_2"[1]), FALSE) AS "bw_3",
    COALESCE("l_4"[1] < GREATEST("l_1"[1], "l_2"[1], "l_3"[1]), FALSE) AS "bw_4",
    COALESCE("l_5"[1] < GREATEST("l_1"[1], "l_2"[1], "l_3"[1], "l_4"[1]), FALSE) AS "bw_5",
    TRUE AS "in_period",
    TRUE AS "kept"
  FROM "each"
), "scored" AS (
  SELECT
    *,
    CAST((
      SELECT
        MAX("latest_0")
      FROM "per_id"
      WHERE
        NOT "key" IS NULL
    ) AS TIMESTAMP) AS "as_of",
    COALESCE(
      "entry_at" + INTERVAL '18' MONTH > CAST((
        SELECT
          MAX("latest_0")
        FROM "per_id"
        WHERE
          NOT "key" IS NULL
      ) AS TIMESTAMP),
      FALSE
    ) AS "immature"
  FROM "per_id"
), "quality" AS (
  SELECT
    SUM(CASE WHEN "first_attempt" THEN "rows_0" ELSE 0 END) AS "rows_read_0",
    SUM(CASE WHEN "first_attempt" THEN "rows_0" ELSE 0 END) FILTER(WHERE
      "key" IS NULL) AS "rows_without_id_0",
    0 AS "ids_without_entry_time",
    COUNT(*) FILTER(WHERE
      "r_1" AND NOT "in_period" AND NOT "entry_at" IS NULL) AS "ids_outside_period",
    COUNT(*) FILTER(WHERE
      "r_1" AND "in_period" AND NOT "kept") AS "ids_filtered_out",
    MAX("as_of") AS "as_of"
  FROM "scored"
)
SELECT
  "f"."entered",
  "f"."immature_ids",
  "f"."backwards_ids",
  "f"."first_entry",
  "f"."last_entry",
  "f"."s1_count",
  "f"."s1_ids",
  "f"."s1_value",
  "f"."s2_count",
  "f"."s2_ids",
  "f"."s2_value",
  "f"."s2_backwards",
  "f"."s2_prev_mean",
  "f"."s2_prev_n",
  "f"."s2_prev_q"[1] AS "s2_prev_p50",
  "f"."s2_prev_q"[2] AS "s2_prev_p90",
  "f"."s2_entry_mean",
  "f"."s2_entry_n",
  "f"."s2_entry_q"[1] AS "s2_entry_p50",
  "f"."s2_entry_q"[2] AS "s2_entry_p90",
  "f"."s3_count",
  "f"."s3_ids",
  "f"."s3_value",
  "f"."s3_backwards",
  "f"."s3_prev_mean",
  "f"."s3_prev_n",
  "f"."s3_prev_q"[1] AS "s3_prev_p50",
  "f"."s3_prev_q"[2] AS "s3_prev_p90",
  "f"."s3_entry_mean",
  "f"."s3_entry_n",
  "f"."s3_entry_q"[1] AS "s3_entry_p50",
  "f"."s3_entry_q"[2] AS "s3_entry_p90",
  "f"."s4_count",
  "f"."s4_ids",
  "f"."s4_value",
  "f"."s4_backwards",
  "f"."s4_prev_mean",
  "f"."s4_prev_n",
  "f"."s4_prev_q"[1] AS "s4_prev_p50",
  "f"."s4_prev_q"[2] AS "s4_prev_p90",
  "f"."s4_entry_mean",
  "f"."s4_entry_n",
  "f"."s4_entry_q"[1] AS "s4_entry_p50",
  "f"."s4_entry_q"[2] AS "s4_entry_p90",
  "f"."s5_count",
  "f"."s5_ids",
  "f"."s5_value",
  "f"."s5_backwards",
  "f"."s5_prev_mean",
  "f"."s5_prev_n",
  "f"."s5_prev_q"[1] AS "s5_prev_p50",
  "f"."s5_prev_q"[2] AS "s5_prev_p90",
  "f"."s5_entry_mean",
  "f"."s5_entry_n",
  "f"."s5_entry_q"[1] AS "s5_entry_p50",
  "f"."s5_entry_q"[2] AS "s5_entry_p90",
  "f"."lost_count",
  "f"."cycle_n",
  "f"."cycle_p50",
  "quality"."rows_read_0",
  "quality"."rows_without_id_0",
  "quality"."ids_without_entry_time",
  "quality"."ids_outside_period",
  "quality"."ids_filtered_out",
  "quality"."as_of"
FROM (
  SELECT
    COUNT(*) AS "entered",
    COUNT(*) FILTER(WHERE
      "immature") AS "immature_ids",
    COUNT(*) FILTER(WHERE
      "bw_2" OR "bw_3" OR "bw_4" OR "bw_5") AS "backwards_ids",
    MIN("entry_at") AS "first_entry",
    MAX("entry_at") AS "last_entry",
    COUNT(*) FILTER(WHERE
      "r_1") AS "s1_count",
    COUNT(DISTINCT CASE WHEN "r_1" THEN "key" END) AS "s1_ids",
    CAST(NULL AS DECIMAL(38, 6)) AS "s1_value",
    COUNT(*) FILTER(WHERE
      "r_2") AS "s2_count",
    COUNT(DISTINCT CASE WHEN "r_2" THEN "key" END) AS "s2_ids",
    CAST(NULL AS DECIMAL(38, 6)) AS "s2_value",
    COUNT(*) FILTER(WHERE
      "bw_2") AS "s2_backwards",
    CAST(SUM(CAST((
      EPOCH("qt_2") - EPOCH("qt_1")
    ) AS DECIMAL(38, 6))) AS DOUBLE) / (
      COUNT(EPOCH("qt_2") - EPOCH("qt_1")) * 86400
    ) AS "s2_prev_mean",
    COUNT((
      EPOCH("qt_2") - EPOCH("qt_1")
    ) / 86400) AS "s2_prev_n",
    QUANTILE_CONT((
      EPOCH("qt_2") - EPOCH("qt_1")
    ) / 86400, [0.5, 0.9]) AS "s2_prev_q",
    CAST(SUM(CAST((
      EPOCH("qt_2") - EPOCH("qt_1")
    ) AS DECIMAL(38, 6))) AS DOUBLE) / (
      COUNT(EPOCH("qt_2") - EPOCH("qt_1")) * 86400
    ) AS "s2_entry_mean",
    COUNT((
      EPOCH("qt_2") - EPOCH("qt_1")
    ) / 86400) AS "s2_entry_n",
    QUANTILE_CONT((
      EPOCH("qt_2") - EPOCH("qt_1")
    ) / 86400, [0.5, 0.9]) AS "s2_entry_q",
    COUNT(*) FILTER(WHERE
      "r_3") AS "s3_count",
    COUNT(DISTINCT CASE WHEN "r_3" THEN "key" END) AS "s3_ids",
    CAST(NULL AS DECIMAL(38, 6)) AS "s3_value",
    COUNT(*) FILTER(WHERE
      "bw_3") AS "s3_backwards",
    CAST(SUM(CAST((
      EPOCH("qt_3") - EPOCH("qt_2")
    ) AS DECIMAL(38, 6))) AS DOUBLE) / (
      COUNT(EPOCH("qt_3") - EPOCH("qt_2")) * 86400
    ) AS "s3_prev_mean",
    COUNT((
      EPOCH("qt_3") - EPOCH("qt_2")
    ) / 86400) AS "s3_prev_n",
    QUANTILE_CONT((
      EPOCH("qt_3") - EPOCH("qt_2")
    ) / 86400, [0.5, 0.9]) AS "s3_prev_q",
    CAST(SUM(CAST((
      EPOCH("qt_3") - EPOCH("qt_1")
    ) AS DECIMAL(38, 6))) AS DOUBLE) / (
      COUNT(EPOCH("qt_3") - EPOCH("qt_1")) * 86400
    ) AS "s3_entry_mean",
    COUNT((
      EPOCH("qt_3") - EPOCH("qt_1")
    ) / 86400) AS "s3_entry_n",
    QUANTILE_CONT((
      EPOCH("qt_3") - EPOCH("qt_1")
    ) / 86400, [0.5, 0.9]) AS "s3_entry_q",
    COUNT(*) FILTER(WHERE
      "r_4") AS "s4_count",
    COUNT(DISTINCT CASE WHEN "r_4" THEN "key" END) AS "s4_ids",
    CAST(NULL AS DECIMAL(38, 6)) AS "s4_value",
    COUNT(*) FILTER(WHERE
      "bw_4") AS "s4_backwards",
    CAST(SUM(CAST((
      EPOCH("qt_4") - EPOCH("qt_3")
    ) AS DECIMAL(38, 6))) AS DOUBLE) / (
      COUNT(EPOCH("qt_4") - EPOCH("qt_3")) * 86400
    ) AS "s4_prev_mean",
    COUNT((
      EPOCH("qt_4") - EPOCH("qt_3")
    ) / 86400) AS "s4_prev_n",
    QUANTILE_CONT((
      EPOCH("qt_4") - EPOCH("qt_3")
    ) / 86400, [0.5, 0.9]) AS "s4_prev_q",
    CAST(SUM(CAST((
      EPOCH("qt_4") - EPOCH("qt_1")
    ) AS DECIMAL(38, 6))) AS DOUBLE) / (
      COUNT(EPOCH("qt_4") - EPOCH("qt_1")) * 86400
    ) AS "s4_entry_mean",
    COUNT((
      EPOCH("qt_4") - EPOCH("qt_1")
    ) / 86400) AS "s4_entry_n",
    QUANTILE_CONT((
      EPOCH("qt_4") - EPOCH("qt_1")
    ) / 86400, [0.5, 0.9]) AS "s4_entry_q",
    COUNT(*) FILTER(WHERE
      "r_5") AS "s5_count",
    COUNT(DISTINCT CASE WHEN "r_5" THEN "key" END) AS "s5_ids",
    CAST(NULL AS DECIMAL(38, 6)) AS "s5_value",
    COUNT(*) FILTER(WHERE
      "bw_5") AS "s5_backwards",
    CAST(SUM(CAST((
      EPOCH("qt_5") - EPOCH("qt_4")
    ) AS DECIMAL(38, 6))) AS DOUBLE) / (
      COUNT(EPOCH("qt_5") - EPOCH("qt_4")) * 86400
    ) AS "s5_prev_mean",
    COUNT((
      EPOCH("qt_5") - EPOCH("qt_4")
    ) / 86400) AS "s5_prev_n",
    QUANTILE_CONT((
      EPOCH("qt_5") - EPOCH("qt_4")
    ) / 86400, [0.5, 0.9]) AS "s5_prev_q",
    CAST(SUM(CAST((
      EPOCH("qt_5") - EPOCH("qt_1")
    ) AS DECIMAL(38, 6))) AS DOUBLE) / (
      COUNT(EPOCH("qt_5") - EPOCH("qt_1")) * 86400
    ) AS "s5_entry_mean",
    COUNT((
      EPOCH("qt_5") - EPOCH("qt_1")
    ) / 86400) AS "s5_entry_n",
    QUANTILE_CONT((
      EPOCH("qt_5") - EPOCH("qt_1")
    ) / 86400, [0.5, 0.9]) AS "s5_entry_q",
    0 AS "lost_count",
    COUNT((
      EPOCH("qt_4") - EPOCH("entry_at")
    ) / 86400) AS "cycle_n",
    QUANTILE_CONT((
      EPOCH("qt_4") - EPOCH("entry_at")
    ) / 86400, 0.5) AS "cycle_p50"
  FROM "scored"
  WHERE
    "r_1" AND "in_period" AND "kept"
) AS f
CROSS JOIN "quality"
