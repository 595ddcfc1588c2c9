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
  CAST(COALESCE(
    CASE
      WHEN TRIM("qualified_at") ~ '^\d{4}\-\d{1,2}\-\d{1,2}\ \d{1,2}:\d{2}:\d{2}$'
      THEN CAST(TO_TIMESTAMP(TRIM("qualified_at"), 'YYYY-MM-DD HH24:MI:SS') AS TIMESTAMP)
    END,
    CAST(CASE
      WHEN CAST(TRIM("qualified_at") AS TEXT) ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$'
      THEN CAST(TRIM("qualified_at") AS TIMESTAMPTZ)
    END AS TIMESTAMP)
  ) AS TIMESTAMP) AS "qualified_at",
  CAST(COALESCE(
    CASE
      WHEN TRIM("trial_started_at") ~ '^\d{4}\-\d{1,2}\-\d{1,2}\ \d{1,2}:\d{2}:\d{2}$'
      THEN CAST(TO_TIMESTAMP(TRIM("trial_started_at"), 'YYYY-MM-DD HH24:MI:SS') AS TIMESTAMP)
    END,
    CAST(CASE
      WHEN CAST(TRIM("trial_started_at") AS TEXT) ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$'
      THEN CAST(TRIM("trial_started_at") AS TIMESTAMPTZ)
    END AS TIMESTAMP)
  ) AS TIMESTAMP) AS "trial_started_at",
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
        NOT "qualified_at" IS NULL AND TRIM("qualified_at") <> ''
      )
      AND COALESCE(
        CASE
          WHEN TRIM("qualified_at") ~ '^\d{4}\-\d{1,2}\-\d{1,2}\ \d{1,2}:\d{2}:\d{2}$'
          THEN CAST(TO_TIMESTAMP(TRIM("qualified_at"), 'YYYY-MM-DD HH24:MI:SS') AS TIMESTAMP)
        END,
        CAST(CASE
          WHEN CAST(TRIM("qualified_at") AS TEXT) ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$'
          THEN CAST(TRIM("qualified_at") AS TIMESTAMPTZ)
        END AS TIMESTAMP)
      ) IS NULL
    )
    OR (
      (
        NOT "trial_started_at" IS NULL AND TRIM("trial_started_at") <> ''
      )
      AND COALESCE(
        CASE
          WHEN TRIM("trial_started_at") ~ '^\d{4}\-\d{1,2}\-\d{1,2}\ \d{1,2}:\d{2}:\d{2}$'
          THEN CAST(TO_TIMESTAMP(TRIM("trial_started_at"), 'YYYY-MM-DD HH24:MI:SS') AS TIMESTAMP)
        END,
        CAST(CASE
          WHEN CAST(TRIM("trial_started_at") AS TEXT) ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$'
          THEN CAST(TRIM("trial_started_at") AS TIMESTAMPTZ)
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
        CASE WHEN NOT "qualified_at" IS NULL THEN CAST("qualified_at" AS TIMESTAMP) END,
        CASE
          WHEN NOT "trial_started_at" IS NULL
          THEN CAST("trial_started_at" AS TIMESTAMP)
        END,
        CASE WHEN NOT "paid_at" IS NULL THEN CAST("paid_at" AS TIMESTAMP) END,
        CASE WHEN NOT "renewed_at" IS NULL THEN CAST("renewed_at" AS TIMESTAMP) END
      )
    ) AS "latest",
    MIN(CAST("created_at" AS TIMESTAMP)) AS "m_1",
    MIN(CAST("qualified_at" AS TIMESTAMP)) AS "m_2",
    MIN(CAST("trial_started_at" AS TIMESTAMP)) AS "m_3",
    MIN(CAST("paid_at" AS TIMESTAMP)) AS "m_4",
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
    )[1] AS "v_4",
    MIN(CAST("renewed_at" AS TIMESTAMP)) AS "m_5",
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
    )[1] AS "v_5",
    (
      ARRAY_AGG(
        CAST("segment" AS VARCHAR) ORDER BY COALESCE(
          CASE WHEN NOT "created_at" IS NULL THEN CAST("created_at" AS TIMESTAMP) END,
          CASE WHEN NOT "qualified_at" IS NULL THEN CAST("qualified_at" AS TIMESTAMP) END,
          CASE
            WHEN NOT "trial_started_at" IS NULL
            THEN CAST("trial_started_at" AS TIMESTAMP)
          END,
          CASE WHEN NOT "paid_at" IS NULL THEN CAST("paid_at" AS TIMESTAMP) END,
          CASE WHEN NOT "renewed_at" IS NULL THEN CAST("renewed_at" AS TIMESTAMP) END
        ), CAST("segment" AS VARCHAR)
      )
    )[1] AS "a_0"
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
    "agg_0"."m_3" AS "m_3",
    "agg_0"."m_4" AS "m_4",
    "agg_0"."v_4" AS "v_4",
    "agg_0"."m_5" AS "m_5",
    "agg_0"."v_5" AS "v_5",
    COALESCE("agg_0"."a_0", '(none)') AS "a_0"
  FROM "agg_0"
), "ev" AS (
  SELECT
    *,
    CAST(COALESCE("m_1", LEAST("m_1", "m_2", "m_3", "m_4", "m_5")) AS TIMESTAMP) AS "entry_at"
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
    CAST(NULL AS DOUBLE PRECISION) AS "qv_2",
    NOT CASE WHEN "m_2" <= "entry_at" + INTERVAL '18 MONTH' THEN "m_2" END IS NULL AS "qr_2"
  FROM "q_1"
), "q_3" AS (
  SELECT
    *,
    CAST(CASE WHEN "m_3" <= "entry_at" + INTERVAL '18 MONTH' THEN "m_3" END AS TIMESTAMP) AS "qt_3",
    CAST(NULL AS DOUBLE PRECISION) AS "qv_3",
    NOT CASE WHEN "m_3" <= "entry_at" + INTERVAL '18 MONTH' THEN "m_3" END IS NULL AS "qr_3"
  FROM "q_2"
), "q_4" AS (
  SELECT
    *,
    CAST(CASE WHEN "m_4" <= "entry_at" + INTERVAL '18 MONTH' THEN "m_4" END AS TIMESTAMP) AS "qt_4",
    CAST(CASE
      WHEN NOT CASE WHEN "m_4" <= "entry_at" + INTERVAL '18 MONTH' THEN "m_4" END IS NULL
      THEN "v_4"
    END AS DOUBLE PRECISION) AS "qv_4",
    NOT CASE WHEN "m_4" <= "entry_at" + INTERVAL '18 MONTH' THEN "m_4" END IS NULL AS "qr_4"
  FROM "q_3"
), "q_5" AS (
  SELECT
    *,
    CAST(CASE WHEN "m_5" <= "entry_at" + INTERVAL '18 MONTH' THEN "m_5" END AS TIMESTAMP) AS "qt_5",
    CAST(CASE
      WHEN NOT CASE WHEN "m_5" <= "entry_at" + INTERVAL '18 MONTH' THEN "m_5" END IS NULL
      THEN "v_5"
    END AS DOUBLE PRECISION) AS "qv_5",
    NOT CASE WHEN "m_5" <= "entry_at" + INTERVAL '18 MONTH' THEN "m_5" END IS NULL AS "qr_5"
  FROM "q_4"
), "per_id" AS (
  SELECT
    *,
    NOT "key" IS NULL AND (
      "qr_1" OR "qr_2" OR "qr_3" OR "qr_4" OR "qr_5"
    ) AS "r_1",
    NOT "key" IS NULL AND (
      "qr_2" OR "qr_3" OR "qr_4" OR "qr_5"
    ) AS "r_2",
    NOT "key" IS NULL AND (
      "qr_3" OR "qr_4" OR "qr_5"
    ) AS "r_3",
    NOT "key" IS NULL AND (
      "qr_4" OR "qr_5"
    ) AS "r_4",
    NOT "key" IS NULL AND "qr_5" AS "r_5",
    COALESCE("m_2" < "m_1", FALSE) AS "bw_2",
    COALESCE("m_3" < GREATEST("m_1", "m_2"), FALSE) AS "bw_3",
    COALESCE("m_4" < GREATEST("m_1", "m_2", "m_3"), FALSE) AS "bw_4",
    COALESCE("m_5" < GREATEST("m_1", "m_2", "m_3", "m_4"), FALSE) AS "bw_5",
    TRUE AS "in_period",
    TRUE AS "kept"
  FROM "q_5"
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
  "f"."g_a_0",
  "f"."grouping_id",
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
  "f"."s4_value_n",
  "f"."s4_value_median",
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
  "f"."s5_value_n",
  "f"."s5_value_median",
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
    "a_0" AS "g_a_0",
    GROUPING("a_0") AS "grouping_id",
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
    CAST(NULL AS DECIMAL(38, 6)) AS "s3_value",
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
    COUNT(*) FILTER(WHERE
      "r_4") AS "s4_count",
    SUM(CAST("qv_4" AS DECIMAL(38, 6))) AS "s4_value",
    COUNT("qv_4") AS "s4_value_n",
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
      "qv_4") AS "s4_value_median",
    COUNT(*) FILTER(WHERE
      "bw_4") AS "s4_backwards",
    CAST(SUM(
      CAST((
        DATE_PART('epoch', "qt_4") - DATE_PART('epoch', "qt_3")
      ) AS DECIMAL(38, 6))
    ) AS DOUBLE PRECISION) / (
      COUNT(DATE_PART('epoch', "qt_4") - DATE_PART('epoch', "qt_3")) * 86400
    ) AS "s4_prev_mean",
    COUNT(
      CAST((
        DATE_PART('epoch', "qt_4") - DATE_PART('epoch', "qt_3")
      ) AS DOUBLE PRECISION) / 86400
    ) AS "s4_prev_n",
    PERCENTILE_CONT(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY
      CAST((
        DATE_PART('epoch', "qt_4") - DATE_PART('epoch', "qt_3")
      ) AS DOUBLE PRECISION) / 86400) AS "s4_prev_q",
    CAST(SUM(
      CAST((
        DATE_PART('epoch', "qt_4") - DATE_PART('epoch', "qt_1")
      ) AS DECIMAL(38, 6))
    ) AS DOUBLE PRECISION) / (
      COUNT(DATE_PART('epoch', "qt_4") - DATE_PART('epoch', "qt_1")) * 86400
    ) AS "s4_entry_mean",
    COUNT(
      CAST((
        DATE_PART('epoch', "qt_4") - DATE_PART('epoch', "qt_1")
      ) AS DOUBLE PRECISION) / 86400
    ) AS "s4_entry_n",
    PERCENTILE_CONT(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY
      CAST((
        DATE_PART('epoch', "qt_4") - DATE_PART('epoch', "qt_1")
      ) AS DOUBLE PRECISION) / 86400) AS "s4_entry_q",
    COUNT(*) FILTER(WHERE
      "r_5") AS "s5_count",
    SUM(CAST("qv_5" AS DECIMAL(38, 6))) AS "s5_value",
    COUNT("qv_5") AS "s5_value_n",
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
      "qv_5") AS "s5_value_median",
    COUNT(*) FILTER(WHERE
      "bw_5") AS "s5_backwards",
    CAST(SUM(
      CAST((
        DATE_PART('epoch', "qt_5") - DATE_PART('epoch', "qt_4")
      ) AS DECIMAL(38, 6))
    ) AS DOUBLE PRECISION) / (
      COUNT(DATE_PART('epoch', "qt_5") - DATE_PART('epoch', "qt_4")) * 86400
    ) AS "s5_prev_mean",
    COUNT(
      CAST((
        DATE_PART('epoch', "qt_5") - DATE_PART('epoch', "qt_4")
      ) AS DOUBLE PRECISION) / 86400
    ) AS "s5_prev_n",
    PERCENTILE_CONT(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY
      CAST((
        DATE_PART('epoch', "qt_5") - DATE_PART('epoch', "qt_4")
      ) AS DOUBLE PRECISION) / 86400) AS "s5_prev_q",
    CAST(SUM(
      CAST((
        DATE_PART('epoch', "qt_5") - DATE_PART('epoch', "qt_1")
      ) AS DECIMAL(38, 6))
    ) AS DOUBLE PRECISION) / (
      COUNT(DATE_PART('epoch', "qt_5") - DATE_PART('epoch', "qt_1")) * 86400
    ) AS "s5_entry_mean",
    COUNT(
      CAST((
        DATE_PART('epoch', "qt_5") - DATE_PART('epoch', "qt_1")
      ) AS DOUBLE PRECISION) / 86400
    ) AS "s5_entry_n",
    PERCENTILE_CONT(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY
      CAST((
        DATE_PART('epoch', "qt_5") - DATE_PART('epoch', "qt_1")
      ) AS DOUBLE PRECISION) / 86400) AS "s5_entry_q",
    0 AS "lost_count",
    COUNT(
      CAST((
        DATE_PART('epoch', "qt_4") - DATE_PART('epoch', "entry_at")
      ) AS DOUBLE PRECISION) / 86400
    ) AS "cycle_n",
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
      CAST((
        DATE_PART('epoch', "qt_4") - DATE_PART('epoch', "entry_at")
      ) AS DOUBLE PRECISION) / 86400) AS "cycle_p50"
  FROM "scored"
  WHERE
    "r_1" AND "in_period" AND "kept"
  GROUP BY
    GROUPING SETS (
      (),
      ("a_0")
    )
) AS f
CROSS JOIN "quality";
;
