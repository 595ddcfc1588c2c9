SET TIME ZONE 'UTC';

CREATE TEMPORARY TABLE "source_leads_text" ("lead_id" TEXT, "account_id" TEXT, "company" TEXT, "created_at" TEXT, "channel" TEXT, "segment" TEXT, "owner" TEXT, "country" TEXT, "qualified_at" TEXT, "trial_started_at" TEXT, "paid_at" TEXT, "deal_amount" TEXT, "renewed_at" TEXT, "renewal_amount" TEXT);

\copy "source_leads_text" FROM '<repo>/sample_data/leads.csv' WITH (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '"', ESCAPE '"', ENCODING 'UTF8')

CREATE TEMPORARY VIEW "source_leads" AS
SELECT
  "lead_id" AS "lead_id",
  "account_id" AS "account_id",
  "company" AS "company",
  CAST(COALESCE(
    CASE
      WHEN TRIM("created_at") ~ '^\d{4}\-\d{1,2}\-\d{1,2}\ \d{1,2}:\d{2}:\d{2}$'
      THEN CAST(TO_TIMESTAMP(TRIM("created_at"), 'YYYY-MM-DD HH24:MI:SS') AS TIMESTAMP)
    END,
    CAST(CASE
      WHEN CAST(TRIM("created_at") AS TEXT) ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$'
      THEN CAST(TRIM("created_at") AS TIMESTAMPTZ)
    END AS TIMESTAMP)
  ) AS TIMESTAMP) AS "created_at",
  "channel" AS "channel",
  "segment" AS "segment",
  "owner" AS "owner",
  "country" AS "country",
  CAST("qualified_at" AS TIMESTAMP) AS "qualified_at",
  CAST("trial_started_at" AS TIMESTAMP) AS "trial_started_at",
  CAST(COALESCE(
    CASE
      WHEN TRIM("paid_at") ~ '^\d{4}\-\d{1,2}\-\d{1,2}\ \d{1,2}:\d{2}:\d{2}$'
      THEN CAST(TO_TIMESTAMP(TRIM("paid_at"), 'YYYY-MM-DD HH24:MI:SS') AS TIMESTAMP)
    END,
    CAST(CASE
      WHEN CAST(TRIM("paid_at") AS TEXT) ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$'
      THEN CAST(TRIM("paid_at") AS TIMESTAMPTZ)
    END AS TIMESTAMP)
  ) AS TIMESTAMP) AS "paid_at",
  CAST("deal_amount" AS DOUBLE PRECISION) AS "deal_amount",
  CAST(COALESCE(
    CASE
      WHEN TRIM("renewed_at") ~ '^\d{4}\-\d{1,2}\-\d{1,2}\ \d{1,2}:\d{2}:\d{2}$'
      THEN CAST(TO_TIMESTAMP(TRIM("renewed_at"), 'YYYY-MM-DD HH24:MI:SS') AS TIMESTAMP)
    END,
    CAST(CASE
      WHEN CAST(TRIM("renewed_at") AS TEXT) ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$'
      THEN CAST(TRIM("renewed_at") AS TIMESTAMPTZ)
    END AS TIMESTAMP)
  ) AS TIMESTAMP) AS "renewed_at",
  CAST("renewal_amount" AS DOUBLE PRECISION) AS "renewal_amount"
FROM "source_leads_text"
WHERE
  NOT (
    (
      (
        NOT "created_at" IS NULL AND TRIM("created_at") <> ''
      )
      AND COALESCE(
        CASE
          WHEN TRIM("created_at") ~ '^\d{4}\-\d{1,2}\-\d{1,2}\ \d{1,2}:\d{2}:\d{2}$'
          THEN CAST(TO_TIMESTAMP(TRIM("created_at"), 'YYYY-MM-DD HH24:MI:SS') AS TIMESTAMP)
        END,
        CAST(CASE
          WHEN CAST(TRIM("created_at") AS TEXT) ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$'
          THEN CAST(TRIM("created_at") AS TIMESTAMPTZ)
        END AS TIMESTAMP)
      ) IS NULL
    )
    OR (
      (
        NOT "paid_at" IS NULL AND TRIM("paid_at") <> ''
      )
      AND COALESCE(
        CASE
          WHEN TRIM("paid_at") ~ '^\d{4}\-\d{1,2}\-\d{1,2}\ \d{1,2}:\d{2}:\d{2}$'
          THEN CAST(TO_TIMESTAMP(TRIM("paid_at"), 'YYYY-MM-DD HH24:MI:SS') AS TIMESTAMP)
        END,
        CAST(CASE
          WHEN CAST(TRIM("paid_at") AS TEXT) ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$'
          THEN CAST(TRIM("paid_at") AS TIMESTAMPTZ)
        END AS TIMESTAMP)
      ) IS NULL
    )
    OR (
      (
        NOT "renewed_at" IS NULL AND TRIM("renewed_at") <> ''
      )
      AND COALESCE(
        CASE
          WHEN TRIM("renewed_at") ~ '^\d{4}\-\d{1,2}\-\d{1,2}\ \d{1,2}:\d{2}:\d{2}$'
          THEN CAST(TO_TIMESTAMP(TRIM("renewed_at"), 'YYYY-MM-DD HH24:MI:SS') AS TIMESTAMP)
        END,
        CAST(CASE
          WHEN CAST(TRIM("renewed_at") AS TEXT) ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$'
          THEN CAST(TRIM("renewed_at") AS TIMESTAMPTZ)
        END AS TIMESTAMP)
      ) IS NULL
    )
  );

WITH "agg_0" AS (
  SELECT
    CAST("account_id" AS VARCHAR) AS "key",
    COUNT(*) AS "rows",
    MAX(
      GREATEST(
        CASE WHEN NOT "created_at" IS NULL THEN CAST("created_at" AS TIMESTAMP) END,
        CASE WHEN NOT "paid_at" IS NULL THEN CAST("paid_at" AS TIMESTAMP) END,
        CASE WHEN NOT "renewed_at" IS NULL THEN CAST("renewed_at" AS TIMESTAMP) END
      )
    ) AS "latest",
    MIN(CAST("created_at" AS TIMESTAMP)) AS "m_1",
    MIN(CAST("paid_at" AS TIMESTAMP)) AS "m_2",
    (
      ARRAY_AGG(
        CAST(CASE
          WHEN CAST("deal_amount" AS TEXT) ~ '^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$'
          THEN CAST("deal_amount" AS DECIMAL(38, 6))
        END AS DOUBLE PRECISION) ORDER BY CAST("paid_at" AS TIMESTAMP), CAST(CASE
          WHEN CAST("deal_amount" AS TEXT) ~ '^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$'
          THEN CAST("deal_amount" AS DECIMAL(38, 6))
        END AS DOUBLE PRECISION)
      ) FILTER(WHERE
        NOT "paid_at" IS NULL)
    )[1] AS "v_2",
    MIN(CAST("renewed_at" AS TIMESTAMP)) AS "m_3",
    (
      ARRAY_AGG(
        CAST(CASE
          WHEN CAST("renewal_amount" AS TEXT) ~ '^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$'
          THEN CAST("renewal_amount" AS DECIMAL(38, 6))
        END AS DOUBLE PRECISION) ORDER BY CAST("renewed_at" AS TIMESTAMP), CAST(CASE
          WHEN CAST("renewal_amount" AS TEXT) ~ '^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$'
          THEN CAST("renewal_amount" AS DECIMAL(38, 6))
        END AS DOUBLE PRECISION)
      ) FILTER(WHERE
        NOT "renewed_at" IS NULL)
    )[1] AS "v_3"
  FROM "source_leads"
  GROUP BY
    CAST("account_id" AS VARCHAR)
), "ids" AS (
  SELECT
    "agg_0"."key" AS "key",
    "agg_0"."rows" AS "rows_0",
    "agg_0"."latest" AS "latest_0",
    "agg_0"."m_1" AS "m_1",
    "agg_0"."m_2" AS "m_2",
    "agg_0"."v_2" AS "v_2",
    "agg_0"."m_3" AS "m_3",
    "agg_0"."v_3" AS "v_3"
  FROM "agg_0"
), "ev" AS (
  SELECT
    *,
    CAST(COALESCE("m_1", LEAST("m_1", "m_2", "m_3")) AS TIMESTAMP) AS "entry_at"
  FROM "ids"
), "q_1" AS (
  SELECT
    *,
    CAST(CASE WHEN TRUE THEN "m_1" END AS TIMESTAMP) AS "qt_1",
    CAST(NULL AS DOUBLE PRECISION) AS "qv_1",
    NOT CASE WHEN TRUE THEN "m_1" END IS NULL AS "qr_1"
  FROM "ev"
), "q_2" AS (
  SELECT
    *,
    CAST(CASE WHEN "m_2" <= "entry_at" + INTERVAL '18 MONTH' THEN "m_2" END AS TIMESTAMP) AS "qt_2",
    CAST(CASE
      WHEN NOT CASE WHEN "m_2" <= "entry_at" + INTERVAL '18 MONTH' THEN "m_2" END IS NULL
      THEN "v_2"
    END AS DOUBLE PRECISION) AS "qv_2",
    NOT CASE WHEN "m_2" <= "entry_at" + INTERVAL '18 MONTH' THEN "m_2" END IS NULL AS "qr_2"
  FROM "q_1"
), "q_3" AS (
  SELECT
    *,
    CAST(CASE WHEN "m_3" <= "entry_at" + INTERVAL '18 MONTH' THEN "m_3" END AS TIMESTAMP) AS "qt_3",
    CAST(CASE
      WHEN NOT CASE WHEN "m_3" <= "entry_at" + INTERVAL '18 MONTH' THEN "m_3" END IS NULL
      THEN "v_3"
    END AS DOUBLE PRECISION) AS "qv_3",
    NOT CASE WHEN "m_3" <= "entry_at" + INTERVAL '18 MONTH' THEN "m_3" END IS NULL AS "qr_3"
  FROM "q_2"
), "per_id" AS (
  SELECT
    *,
    NOT "key" IS NULL AND (
      "qr_1" OR "qr_2" OR "qr_3"
    ) AS "r_1",
    NOT "key" IS NULL AND (
      "qr_2" OR "qr_3"
    ) AS "r_2",
    NOT "key" IS NULL AND "qr_3" AS "r_3",
    COALESCE("m_2" < "m_1", FALSE) AS "bw_2",
    COALESCE("m_3" < GREATEST("m_1", "m_2"), FALSE) AS "bw_3",
    TRUE AS "in_period",
    TRUE AS "kept"
  FROM "q_3"
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
      "entry_at" + INTERVAL '18 MONTH' > CAST((
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
  "f"."s2_value_n",
  "f"."s2_value_median",
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
  "f"."s3_value_n",
  "f"."s3_value_median",
  "f"."s3_backwards",
  "f"."s3_prev_mean",
  "f"."s3_prev_n",
  "f"."s3_prev_q"[1] AS "s3_prev_p50",
  "f"."s3_prev_q"[2] AS "s3_prev_p90",
  "f"."s3_entry_mean",
  "f"."s3_entry_n",
  "f"."s3_entry_q"[1] AS "s3_entry_p50",
  "f"."s3_entry_q"[2] AS "s3_entry_p90",
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
      "bw_2" OR "bw_3") AS "backwards_ids",
    MIN("entry_at") AS "first_entry",
    MAX("entry_at") AS "last_entry",
    COUNT(*) FILTER(WHERE
      "r_1") AS "s1_count",
    CAST(NULL AS DECIMAL(38, 6)) AS "s1_value",
    COUNT(*) FILTER(WHERE
      "r_2") AS "s2_count",
    SUM(CAST("qv_2" AS DECIMAL(38, 6))) AS "s2_value",
    COUNT("qv_2") AS "s2_value_n",
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
      "qv_2") AS "s2_value_median",
    COUNT(*) FILTER(WHERE
      "bw_2") AS "s2_backwards",
    CAST(SUM(
      CAST((
        DATE_PART('epoch', "qt_2") - DATE_PART('epoch', "qt_1")
      ) AS DECIMAL(38, 6))
    ) AS DOUBLE PRECISION) / (
      COUNT(DATE_PART('epoch', "qt_2") - DATE_PART('epoch', "qt_1")) * 86400
    ) AS "s2_prev_mean",
    COUNT(
      CAST((
        DATE_PART('epoch', "qt_2") - DATE_PART('epoch', "qt_1")
      ) AS DOUBLE PRECISION) / 86400
    ) AS "s2_prev_n",
    PERCENTILE_CONT(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY
      CAST((
        DATE_PART('epoch', "qt_2") - DATE_PART('epoch', "qt_1")
      ) AS DOUBLE PRECISION) / 86400) AS "s2_prev_q",
    CAST(SUM(
      CAST((
        DATE_PART('epoch', "qt_2") - DATE_PART('epoch', "qt_1")
      ) AS DECIMAL(38, 6))
    ) AS DOUBLE PRECISION) / (
      COUNT(DATE_PART('epoch', "qt_2") - DATE_PART('epoch', "qt_1")) * 86400
    ) AS "s2_entry_mean",
    COUNT(
      CAST((
        DATE_PART('epoch', "qt_2") - DATE_PART('epoch', "qt_1")
      ) AS DOUBLE PRECISION) / 86400
    ) AS "s2_entry_n",
    PERCENTILE_CONT(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY
      CAST((
        DATE_PART('epoch', "qt_2") - DATE_PART('epoch', "qt_1")
      ) AS DOUBLE PRECISION) / 86400) AS "s2_entry_q",
    COUNT(*) FILTER(WHERE
      "r_3") AS "s3_count",
    SUM(CAST("qv_3" AS DECIMAL(38, 6))) AS "s3_value",
    COUNT("qv_3") AS "s3_value_n",
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
      "qv_3") AS "s3_value_median",
    COUNT(*) FILTER(WHERE
      "bw_3") AS "s3_backwards",
    CAST(SUM(
      CAST((
        DATE_PART('epoch', "qt_3") - DATE_PART('epoch', "qt_2")
      ) AS DECIMAL(38, 6))
    ) AS DOUBLE PRECISION) / (
      COUNT(DATE_PART('epoch', "qt_3") - DATE_PART('epoch', "qt_2")) * 86400
    ) AS "s3_prev_mean",
    COUNT(
      CAST((
        DATE_PART('epoch', "qt_3") - DATE_PART('epoch', "qt_2")
      ) AS DOUBLE PRECISION) / 86400
    ) AS "s3_prev_n",
    PERCENTILE_CONT(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY
      CAST((
        DATE_PART('epoch', "qt_3") - DATE_PART('epoch', "qt_2")
      ) AS DOUBLE PRECISION) / 86400) AS "s3_prev_q",
    CAST(SUM(
      CAST((
        DATE_PART('epoch', "qt_3") - DATE_PART('epoch', "qt_1")
      ) AS DECIMAL(38, 6))
    ) AS DOUBLE PRECISION) / (
      COUNT(DATE_PART('epoch', "qt_3") - DATE_PART('epoch', "qt_1")) * 86400
    ) AS "s3_entry_mean",
    COUNT(
      CAST((
        DATE_PART('epoch', "qt_3") - DATE_PART('epoch', "qt_1")
      ) AS DOUBLE PRECISION) / 86400
    ) AS "s3_entry_n",
    PERCENTILE_CONT(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY
      CAST((
        DATE_PART('epoch', "qt_3") - DATE_PART('epoch', "qt_1")
      ) AS DOUBLE PRECISION) / 86400) AS "s3_entry_q",
    0 AS "lost_count",
    COUNT(
      CAST((
        DATE_PART('epoch', "qt_2") - DATE_PART('epoch', "entry_at")
      ) AS DOUBLE PRECISION) / 86400
    ) AS "cycle_n",
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
      CAST((
        DATE_PART('epoch', "qt_2") - DATE_PART('epoch', "entry_at")
      ) AS DOUBLE PRECISION) / 86400) AS "cycle_p50"
  FROM "scored"
  WHERE
    "r_1" AND "in_period" AND "kept"
) AS f
CROSS JOIN "quality";
;
