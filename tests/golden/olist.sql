WITH "agg_0" AS (
  SELECT
    CAST("mql_id" AS TEXT) AS "key",
    COUNT(*) AS "rows",
    MAX(
      CASE
        WHEN NOT "first_contact_date" IS NULL
        THEN CAST(CAST("first_contact_date" AS TIMESTAMPTZ) AS TIMESTAMP)
      END
    ) AS "latest",
    MIN(CAST(CAST("first_contact_date" AS TIMESTAMPTZ) AS TIMESTAMP)) FILTER(WHERE
      NOT "first_contact_date" IS NULL) AS "m_1"
  FROM "source_leads"
  GROUP BY
    CAST("mql_id" AS TEXT)
), "agg_1" AS (
  SELECT
    CAST("mql_id" AS TEXT) AS "key",
    COUNT(*) AS "rows",
    MAX(
      CASE
        WHEN NOT "won_date" IS NULL
        THEN CAST(CAST("won_date" AS TIMESTAMPTZ) AS TIMESTAMP)
      END
    ) AS "latest",
    MIN(CAST(CAST("won_date" AS TIMESTAMPTZ) AS TIMESTAMP)) FILTER(WHERE
      NOT "won_date" IS NULL) AS "m_2"
  FROM "source_deals"
  GROUP BY
    CAST("mql_id" AS TEXT)
), "ids" AS (
  SELECT
    COALESCE("agg_0"."key", "agg_1"."key") AS "key",
    "agg_0"."rows" AS "rows_0",
    "agg_0"."latest" AS "latest_0",
    "agg_1"."rows" AS "rows_1",
    "agg_1"."latest" AS "latest_1",
    "agg_0"."m_1" AS "m_1",
    "agg_1"."m_2" AS "m_2"
  FROM "agg_0"
  FULL OUTER JOIN "agg_1"
    ON "agg_1"."key" = "agg_0"."key"
), "ev" AS (
  SELECT
    *,
    CAST(COALESCE("m_1", LEAST("m_1", "m_2")) AS TIMESTAMP) AS "entry_at"
  FROM "ids"
), "q_1" AS (
  SELECT
    *,
    CAST(CASE WHEN TRUE THEN "m_1" END AS TIMESTAMP) AS "qt_1",
    CAST(NULL AS DOUBLE) AS "qv_1",
    NOT CASE WHEN TRUE THEN "m_1" END IS NULL AS "qr_1"
  FROM "ev"
), "q_2" AS (
  SELECT
    *,
    CAST(CASE WHEN TRUE THEN "m_2" END AS TIMESTAMP) AS "qt_2",
    CAST(NULL AS DOUBLE) AS "qv_2",
    NOT CASE WHEN TRUE THEN "m_2" END IS NULL AS "qr_2"
  FROM "q_1"
), "per_id" AS (
  SELECT
    *,
    NOT "key" IS NULL AND (
      "qr_1" OR "qr_2"
    ) AS "r_1",
    NOT "key" IS NULL AND "qr_2" AS "r_2",
    COALESCE("m_2" < "m_1", FALSE) AS "bw_2",
    TRUE AS "in_period",
    TRUE AS "kept"
  FROM "q_2"
), "scored" AS (
  SELECT
    *,
    CAST((
      SELECT
        GREATEST(MAX("latest_0"), MAX("latest_1"))
      FROM "per_id"
      WHERE
        NOT "key" IS NULL
    ) AS TIMESTAMP) AS "as_of"
  FROM "per_id"
)
SELECT
  "entered",
  "immature_ids",
  "backwards_ids",
  "first_entry",
  "last_entry",
  "s1_count",
  "s1_value",
  "s2_count",
  "s2_value",
  "s2_backwards",
  "s2_prev_n",
  LIST_EXTRACT("s2_prev_q", 1) AS "s2_prev_p50",
  LIST_EXTRACT("s2_prev_q", 2) AS "s2_prev_p90",
  "s2_entry_n",
  LIST_EXTRACT("s2_entry_q", 1) AS "s2_entry_p50",
  LIST_EXTRACT("s2_entry_q", 2) AS "s2_entry_p90",
  "rows_read_0",
  "rows_without_id_0",
  "duplicate_ids_0",
  "rows_read_1",
  "rows_without_id_1",
  "duplicate_ids_1",
  "ids_without_entry_time",
  "ids_outside_period",
  "ids_filtered_out",
  "as_of",
  "lost_count",
  "cycle_n",
  "cycle_p50"
FROM (
  SELECT
    COUNT(*) FILTER(WHERE
      "r_1" AND "in_period" AND "kept") AS "entered",
    0 AS "immature_ids",
    COUNT(*) FILTER(WHERE
      (
        "r_1" AND "in_period" AND "kept"
      ) AND "bw_2") AS "backwards_ids",
    MIN("entry_at") FILTER(WHERE
      "r_1" AND "in_period" AND "kept") AS "first_entry",
    MAX("entry_at") FILTER(WHERE
      "r_1" AND "in_period" AND "kept") AS "last_entry",
    COUNT(*) FILTER(WHERE
      (
        "r_1" AND "in_period" AND "kept"
      ) AND "r_1") AS "s1_count",
    CAST(NULL AS DECIMAL(38, 6)) AS "s1_value",
    COUNT(*) FILTER(WHERE
      (
        "r_1" AND "in_period" AND "kept"
      ) AND "r_2") AS "s2_count",
    CAST(NULL AS DECIMAL(38, 6)) AS "s2_value",
    COUNT(*) FILTER(WHERE
      (
        "r_1" AND "in_period" AND "kept"
      ) AND "bw_2") AS "s2_backwards",
    COUNT((
      EPOCH("qt_2") - EPOCH("qt_1")
    ) / 86400) FILTER(WHERE
      "r_1" AND "in_period" AND "kept") AS "s2_prev_n",
    QUANTILE_CONT((
      EPOCH("qt_2") - EPOCH("qt_1")
    ) / 86400, [0.5, 0.9]) FILTER(WHERE
      "r_1" AND "in_period" AND "kept") AS "s2_prev_q",
    COUNT((
      EPOCH("qt_2") - EPOCH("qt_1")
    ) / 86400) FILTER(WHERE
      "r_1" AND "in_period" AND "kept") AS "s2_entry_n",
    QUANTILE_CONT((
      EPOCH("qt_2") - EPOCH("qt_1")
    ) / 86400, [0.5, 0.9]) FILTER(WHERE
      "r_1" AND "in_period" AND "kept") AS "s2_entry_q",
    SUM("rows_0") AS "rows_read_0",
    SUM("rows_0") FILTER(WHERE
      "key" IS NULL) AS "rows_without_id_0",
    COUNT(*) FILTER(WHERE
      "rows_0" > 1 AND NOT "key" IS NULL) AS "duplicate_ids_0",
    SUM("rows_1") AS "rows_read_1",
    SUM("rows_1") FILTER(WHERE
      "key" IS NULL) AS "rows_without_id_1",
    COUNT(*) FILTER(WHERE
      "rows_1" > 1 AND NOT "key" IS NULL) AS "duplicate_ids_1",
    0 AS "ids_without_entry_time",
    COUNT(*) FILTER(WHERE
      "r_1" AND NOT "in_period" AND NOT "entry_at" IS NULL) AS "ids_outside_period",
    COUNT(*) FILTER(WHERE
      "r_1" AND "in_period" AND NOT "kept") AS "ids_filtered_out",
    MAX("as_of") AS "as_of",
    0 AS "lost_count",
    COUNT((
      EPOCH("qt_2") - EPOCH("entry_at")
    ) / 86400) FILTER(WHERE
      "r_1" AND "in_period" AND "kept") AS "cycle_n",
    QUANTILE_CONT((
      EPOCH("qt_2") - EPOCH("entry_at")
    ) / 86400, 0.5) FILTER(WHERE
      "r_1" AND "in_period" AND "kept") AS "cycle_p50"
  FROM "scored"
) AS f
