WITH "agg_0" AS (
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
    MIN(CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)) FILTER(WHERE
      NOT "changed_at" IS NULL AND CAST("stage" AS TEXT) IN ('New')) AS "m_1",
    MIN(CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)) FILTER(WHERE
      NOT "changed_at" IS NULL AND CAST("stage" AS TEXT) IN ('MQL')) AS "m_2",
    MIN(CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)) FILTER(WHERE
      NOT "changed_at" IS NULL AND CAST("stage" AS TEXT) IN ('Trial')) AS "m_3",
    MIN(CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)) FILTER(WHERE
      NOT "changed_at" IS NULL AND CAST("stage" AS TEXT) IN ('Closed Won')) AS "m_4",
    MIN(CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)) FILTER(WHERE
      NOT "changed_at" IS NULL AND CAST("stage" AS TEXT) IN ('Renewed')) AS "m_5"
  FROM "source_history"
  GROUP BY
    CAST("lead_id" AS TEXT)
), "ids" AS (
  SELECT
    "agg_0"."key" AS "key",
    "agg_0"."rows" AS "rows_0",
    "agg_0"."latest" AS "latest_0",
    "agg_0"."m_1" AS "m_1",
    "agg_0"."m_2" AS "m_2",
    "agg_0"."m_3" AS "m_3",
    "agg_0"."m_4" AS "m_4",
    "agg_0"."m_5" AS "m_5"
  FROM "agg_0"
), "ev" AS (
  SELECT
    *,
    CAST(LEAST("m_1", "m_2", "m_3", "m_4", "m_5") AS TIMESTAMP) AS "entry_at"
  FROM "ids"
), "found" AS (
  SELECT
    *,
    CAST(CASE
      WHEN "m_1" >= "entry_at" AND "m_1" <= "entry_at" + INTERVAL '18' MONTH
      THEN "m_1"
    END AS TIMESTAMP) AS "of_1",
    CAST(CASE
      WHEN "m_2" >= "entry_at" AND "m_2" <= "entry_at" + INTERVAL '18' MONTH
      THEN "m_2"
    END AS TIMESTAMP) AS "of_2",
    CAST(CASE
      WHEN "m_3" >= "entry_at" AND "m_3" <= "entry_at" + INTERVAL '18' MONTH
      THEN "m_3"
    END AS TIMESTAMP) AS "of_3",
    CAST(CASE
      WHEN "m_4" >= "entry_at" AND "m_4" <= "entry_at" + INTERVAL '18' MONTH
      THEN "m_4"
    END AS TIMESTAMP) AS "of_4",
    CAST(CASE
      WHEN "m_5" >= "entry_at" AND "m_5" <= "entry_at" + INTERVAL '18' MONTH
      THEN "m_5"
    END AS TIMESTAMP) AS "of_5",
    CASE
      WHEN NOT CASE
        WHEN "m_1" >= "entry_at" AND "m_1" <= "entry_at" + INTERVAL '18' MONTH
        THEN "m_1"
      END IS NULL
      THEN 1
      ELSE 0
    END + CASE
      WHEN NOT CASE
        WHEN "m_2" >= "entry_at" AND "m_2" <= "entry_at" + INTERVAL '18' MONTH
        THEN "m_2"
      END IS NULL
      THEN 1
      ELSE 0
    END + CASE
      WHEN NOT CASE
        WHEN "m_3" >= "entry_at" AND "m_3" <= "entry_at" + INTERVAL '18' MONTH
        THEN "m_3"
      END IS NULL
      THEN 1
      ELSE 0
    END + CASE
      WHEN NOT CASE
        WHEN "m_4" >= "entry_at" AND "m_4" <= "entry_at" + INTERVAL '18' MONTH
        THEN "m_4"
      END IS NULL
      THEN 1
      ELSE 0
    END + CASE
      WHEN NOT CASE
        WHEN "m_5" >= "entry_at" AND "m_5" <= "entry_at" + INTERVAL '18' MONTH
        THEN "m_5"
      END IS NULL
      THEN 1
      ELSE 0
    END AS "done"
  FROM "ev"
), "ranked" AS (
  SELECT
    *,
    CASE
      WHEN NOT "of_1" IS NULL
      THEN CASE WHEN "of_1" <= "of_1" THEN 1 ELSE 0 END + CASE WHEN "of_2" <= "of_1" THEN 1 ELSE 0 END + CASE WHEN "of_3" <= "of_1" THEN 1 ELSE 0 END + CASE WHEN "of_4" <= "of_1" THEN 1 ELSE 0 END + CASE WHEN "of_5" <= "of_1" THEN 1 ELSE 0 END
    END AS "rank_1",
    CASE
      WHEN NOT "of_2" IS NULL
      THEN CASE WHEN "of_1" <= "of_2" THEN 1 ELSE 0 END + CASE WHEN "of_2" <= "of_2" THEN 1 ELSE 0 END + CASE WHEN "of_3" <= "of_2" THEN 1 ELSE 0 END + CASE WHEN "of_4" <= "of_2" THEN 1 ELSE 0 END + CASE WHEN "of_5" <= "of_2" THEN 1 ELSE 0 END
    END AS "rank_2",
    CASE
      WHEN NOT "of_3" IS NULL
      THEN CASE WHEN "of_1" <= "of_3" THEN 1 ELSE 0 END + CASE WHEN "of_2" <= "of_3" THEN 1 ELSE 0 END + CASE WHEN "of_3" <= "of_3" THEN 1 ELSE 0 END + CASE WHEN "of_4" <= "of_3" THEN 1 ELSE 0 END + CASE WHEN "of_5" <= "of_3" THEN 1 ELSE 0 END
    END AS "rank_3",
    CASE
      WHEN NOT "of_4" IS NULL
      THEN CASE WHEN "of_1" <= "of_4" THEN 1 ELSE 0 END + CASE WHEN "of_2" <= "of_4" THEN 1 ELSE 0 END + CASE WHEN "of_3" <= "of_4" THEN 1 ELSE 0 END + CASE WHEN "of_4" <= "of_4" THEN 1 ELSE 0 END + CASE WHEN "of_5" <= "of_4" THEN 1 ELSE 0 END
    END AS "rank_4",
    CASE
      WHEN NOT "of_5" IS NULL
      THEN CASE WHEN "of_1" <= "of_5" THEN 1 ELSE 0 END + CASE WHEN "of_2" <= "of_5" THEN 1 ELSE 0 END + CASE WHEN "of_3" <= "of_5" THEN 1 ELSE 0 END + CASE WHEN "of_4" <= "of_5" THEN 1 ELSE 0 END + CASE WHEN "of_5" <= "of_5" THEN 1 ELSE 0 END
    END AS "rank_5"
  FROM "found"
), "stages_done" AS (
  SELECT
    *,
    CAST(LEAST(
      CASE WHEN "rank_1" >= 1 THEN "of_1" END,
      CASE WHEN "rank_2" >= 1 THEN "of_2" END,
      CASE WHEN "rank_3" >= 1 THEN "of_3" END,
      CASE WHEN "rank_4" >= 1 THEN "of_4" END,
      CASE WHEN "rank_5" >= 1 THEN "of_5" END
    ) AS TIMESTAMP) AS "qt_1",
    CAST(NULL AS DOUBLE) AS "qv_1",
    "done" >= 1 AS "qr_1",
    CAST(LEAST(
      CASE WHEN "rank_1" >= 2 THEN "of_1" END,
      CASE WHEN "rank_2" >= 2 THEN "of_2" END,
      CASE WHEN "rank_3" >= 2 THEN "of_3" END,
      CASE WHEN "rank_4" >= 2 THEN "of_4" END,
      CASE WHEN "rank_5" >= 2 THEN "of_5" END
    ) AS TIMESTAMP) AS "qt_2",
    CAST(NULL AS DOUBLE) AS "qv_2",
    "done" >= 2 AS "qr_2",
    CAST(LEAST(
      CASE WHEN "rank_1" >= 3 THEN "of_1" END,
      CASE WHEN "rank_2" >= 3 THEN "of_2" END,
      CASE WHEN "rank_3" >= 3 THEN "of_3" END,
      CASE WHEN "rank_4" >= 3 THEN "of_4" END,
      CASE WHEN "rank_5" >= 3 THEN "of_5" END
    ) AS TIMESTAMP) AS "qt_3",
    CAST(NULL AS DOUBLE) AS "qv_3",
    "done" >= 3 AS "qr_3",
    CAST(LEAST(
      CASE WHEN "rank_1" >= 4 THEN "of_1" END,
      CASE WHEN "rank_2" >= 4 THEN "of_2" END,
      CASE WHEN "rank_3" >= 4 THEN "of_3" END,
      CASE WHEN "rank_4" >= 4 THEN "of_4" END,
      CASE WHEN "rank_5" >= 4 THEN "of_5" END
    ) AS TIMESTAMP) AS "qt_4",
    CAST(NULL AS DOUBLE) AS "qv_4",
    "done" >= 4 AS "qr_4",
    CAST(LEAST(
      CASE WHEN "rank_1" >= 5 THEN "of_1" END,
      CASE WHEN "rank_2" >= 5 THEN "of_2" END,
      CASE WHEN "rank_3" >= 5 THEN "of_3" END,
      CASE WHEN "rank_4" >= 5 THEN "of_4" END,
      CASE WHEN "rank_5" >= 5 THEN "of_5" END
    ) AS TIMESTAMP) AS "qt_5",
    CAST(NULL AS DOUBLE) AS "qv_5",
    "done" >= 5 AS "qr_5"
  FROM "ranked"
), "per_id" AS (
  SELECT
    *,
    NOT "key" IS NULL AND "qr_1" AS "r_1",
    NOT "key" IS NULL AND "qr_2" AS "r_2",
    NOT "key" IS NULL AND "qr_3" AS "r_3",
    NOT "key" IS NULL AND "qr_4" AS "r_4",
    NOT "key" IS NULL AND "qr_5" AS "r_5",
    FALSE AS "bw_2",
    FALSE AS "bw_3",
    FALSE AS "bw_4",
    FALSE AS "bw_5",
    TRUE AS "in_period",
    TRUE AS "kept"
  FROM "stages_done"
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
    SUM("rows_0") AS "rows_read_0",
    SUM("rows_0") FILTER(WHERE
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
  "f"."s1_value",
  "f"."s2_count",
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
    CAST(NULL AS DECIMAL(38, 6)) AS "s1_value",
    COUNT(*) FILTER(WHERE
      "r_2") AS "s2_count",
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
