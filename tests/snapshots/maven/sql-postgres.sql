SET TIME ZONE 'UTC';

CREATE TEMPORARY TABLE "source_pipeline_text" ("opportunity_id" TEXT, "sales_agent" TEXT, "product" TEXT, "account" TEXT, "deal_stage" TEXT, "engage_date" TEXT, "close_date" TEXT, "close_value" TEXT);

\copy "source_pipeline_text" FROM '<datasets>/maven_crm_pipeline/sales_pipeline.csv' WITH (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '"', ESCAPE '"', ENCODING 'UTF8')

CREATE TEMPORARY VIEW "source_pipeline" AS
SELECT
  "opportunity_id" AS "opportunity_id",
  "sales_agent" AS "sales_agent",
  "product" AS "product",
  "account" AS "account",
  "deal_stage" AS "deal_stage",
  CAST(COALESCE(
    CASE
      WHEN TRIM("engage_date") ~ '^\d{4}\-\d{1,2}\-\d{1,2}$'
      THEN CAST(TO_TIMESTAMP(TRIM("engage_date"), 'YYYY-MM-DD') AS TIMESTAMP)
    END,
    CAST(CASE
      WHEN CAST(TRIM("engage_date") AS TEXT) ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$'
      THEN CAST(TRIM("engage_date") AS TIMESTAMPTZ)
    END AS TIMESTAMP)
  ) AS TIMESTAMP) AS "engage_date",
  CAST(COALESCE(
    CASE
      WHEN TRIM("close_date") ~ '^\d{4}\-\d{1,2}\-\d{1,2}$'
      THEN CAST(TO_TIMESTAMP(TRIM("close_date"), 'YYYY-MM-DD') AS TIMESTAMP)
    END,
    CAST(CASE
      WHEN CAST(TRIM("close_date") AS TEXT) ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$'
      THEN CAST(TRIM("close_date") AS TIMESTAMPTZ)
    END AS TIMESTAMP)
  ) AS TIMESTAMP) AS "close_date",
  CAST("close_value" AS BIGINT) AS "close_value"
FROM "source_pipeline_text"
WHERE
  NOT (
    (
      (
        NOT "engage_date" IS NULL AND TRIM("engage_date") <> ''
      )
      AND COALESCE(
        CASE
          WHEN TRIM("engage_date") ~ '^\d{4}\-\d{1,2}\-\d{1,2}$'
          THEN CAST(TO_TIMESTAMP(TRIM("engage_date"), 'YYYY-MM-DD') AS TIMESTAMP)
        END,
        CAST(CASE
          WHEN CAST(TRIM("engage_date") AS TEXT) ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$'
          THEN CAST(TRIM("engage_date") AS TIMESTAMPTZ)
        END AS TIMESTAMP)
      ) IS NULL
    )
    OR (
      (
        NOT "close_date" IS NULL AND TRIM("close_date") <> ''
      )
      AND COALESCE(
        CASE
          WHEN TRIM("close_date") ~ '^\d{4}\-\d{1,2}\-\d{1,2}$'
          THEN CAST(TO_TIMESTAMP(TRIM("close_date"), 'YYYY-MM-DD') AS TIMESTAMP)
        END,
        CAST(CASE
          WHEN CAST(TRIM("close_date") AS TEXT) ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$'
          THEN CAST(TRIM("close_date") AS TIMESTAMPTZ)
        END AS TIMESTAMP)
      ) IS NULL
    )
  );

CREATE TEMPORARY TABLE "source_teams_text" ("sales_agent" TEXT, "manager" TEXT, "regional_office" TEXT);

\copy "source_teams_text" FROM '<datasets>/maven_crm_pipeline/sales_teams.csv' WITH (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '"', ESCAPE '"', ENCODING 'UTF8')

CREATE TEMPORARY VIEW "source_teams" AS
SELECT
  "sales_agent" AS "sales_agent",
  "manager" AS "manager",
  "regional_office" AS "regional_office"
FROM "source_teams_text";

CREATE TEMPORARY TABLE "source_products_text" ("product" TEXT, "series" TEXT, "sales_price" TEXT);

\copy "source_products_text" FROM '<datasets>/maven_crm_pipeline/products.csv' WITH (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '"', ESCAPE '"', ENCODING 'UTF8')

CREATE TEMPORARY VIEW "source_products" AS
SELECT
  "product" AS "product",
  "series" AS "series",
  CAST("sales_price" AS BIGINT) AS "sales_price"
FROM "source_products_text";

WITH "agg_0" AS (
  SELECT
    CAST("opportunity_id" AS VARCHAR) AS "key",
    COUNT(*) AS "rows",
    MAX(
      GREATEST(
        CASE WHEN NOT "engage_date" IS NULL THEN CAST("engage_date" AS TIMESTAMP) END,
        CASE
          WHEN NOT "close_date" IS NULL AND CAST("deal_stage" AS VARCHAR) IN ('Won')
          THEN CAST("close_date" AS TIMESTAMP)
        END
      )
    ) AS "latest",
    BOOL_OR(CAST("deal_stage" AS VARCHAR) IN ('Prospecting')) AS "u_1",
    MIN(CAST("engage_date" AS TIMESTAMP)) AS "m_2",
    MIN(CAST("close_date" AS TIMESTAMP)) FILTER(WHERE
      NOT "close_date" IS NULL AND CAST("deal_stage" AS VARCHAR) IN ('Won')) AS "m_3",
    (
      ARRAY_AGG(
        CAST("close_value" AS DOUBLE PRECISION) ORDER BY CAST("close_date" AS TIMESTAMP), CAST("close_value" AS DOUBLE PRECISION)
      ) FILTER(WHERE
        NOT "close_date" IS NULL AND CAST("deal_stage" AS VARCHAR) IN ('Won'))
    )[1] AS "v_3",
    BOOL_OR(CAST("deal_stage" AS VARCHAR) IN ('Lost')) AS "lost_u",
    (
      ARRAY_AGG(
        "a_0" ORDER BY COALESCE(
          CASE WHEN NOT "engage_date" IS NULL THEN CAST("engage_date" AS TIMESTAMP) END,
          CASE
            WHEN NOT "close_date" IS NULL AND CAST("deal_stage" AS VARCHAR) IN ('Won')
            THEN CAST("close_date" AS TIMESTAMP)
          END
        ), "a_0"
      )
    )[1] AS "a_0"
  FROM (
    SELECT
      "b".*,
      "lk_0"."a_0" AS "a_0"
    FROM (
      SELECT
        *
      FROM "source_pipeline"
    ) AS b
    LEFT JOIN (
      SELECT
        CAST("sales_agent" AS VARCHAR) AS "__lookup_key",
        MIN(CAST("regional_office" AS VARCHAR)) AS "a_0"
      FROM "source_teams"
      WHERE
        NOT "sales_agent" IS NULL
      GROUP BY
        CAST("sales_agent" AS VARCHAR)
    ) AS lk_0
      ON CAST("b"."sales_agent" AS VARCHAR) = "lk_0"."__lookup_key"
  ) AS s
  GROUP BY
    CAST("opportunity_id" AS VARCHAR)
), "ids" AS (
  SELECT
    "agg_0"."key" AS "key",
    "agg_0"."rows" AS "rows_0",
    "agg_0"."latest" AS "latest_0",
    "agg_0"."u_1" AS "u_1",
    "agg_0"."m_2" AS "m_2",
    "agg_0"."m_3" AS "m_3",
    "agg_0"."v_3" AS "v_3",
    "agg_0"."lost_u" AS "lost_u",
    COALESCE("agg_0"."a_0", '(none)') AS "a_0"
  FROM "agg_0"
), "ev" AS (
  SELECT
    *,
    CAST(LEAST("m_2", "m_3") AS TIMESTAMP) AS "entry_at"
  FROM "ids"
), "q_1" AS (
  SELECT
    *,
    CAST(NULL AS TIMESTAMP) AS "qt_1",
    CAST(NULL AS DOUBLE PRECISION) AS "qv_1",
    COALESCE("u_1", FALSE) AS "qr_1"
  FROM "ev"
), "q_2" AS (
  SELECT
    *,
    CAST(CASE WHEN TRUE THEN "m_2" END AS TIMESTAMP) AS "qt_2",
    CAST(NULL AS DOUBLE PRECISION) AS "qv_2",
    NOT CASE WHEN TRUE THEN "m_2" END IS NULL AS "qr_2"
  FROM "q_1"
), "q_3" AS (
  SELECT
    *,
    CAST(CASE WHEN TRUE THEN "m_3" END AS TIMESTAMP) AS "qt_3",
    CAST(CASE WHEN NOT CASE WHEN TRUE THEN "m_3" END IS NULL THEN "v_3" END AS DOUBLE PRECISION) AS "qv_3",
    NOT CASE WHEN TRUE THEN "m_3" END IS NULL AS "qr_3"
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
    FALSE AS "bw_2",
    COALESCE("m_3" < "m_2", FALSE) AS "bw_3",
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
    ) AS TIMESTAMP) AS "as_of"
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
    "a_0" AS "g_a_0",
    GROUPING("a_0") AS "grouping_id",
    COUNT(*) AS "entered",
    0 AS "immature_ids",
    COUNT(*) FILTER(WHERE
      "bw_2" OR "bw_3") AS "backwards_ids",
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
    COUNT(*) FILTER(WHERE
      COALESCE("lost_u", FALSE) AND NOT "r_3") AS "lost_count",
    COUNT(
      CAST((
        DATE_PART('epoch', "qt_3") - DATE_PART('epoch', "entry_at")
      ) AS DOUBLE PRECISION) / 86400
    ) AS "cycle_n",
    PERCENTILE_CONT(0.5) WITHIN GROUP (ORDER BY
      CAST((
        DATE_PART('epoch', "qt_3") - DATE_PART('epoch', "entry_at")
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
