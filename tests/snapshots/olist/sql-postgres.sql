SET TIME ZONE 'UTC';

CREATE TEMPORARY TABLE "source_leads_text" ("mql_id" TEXT, "first_contact_date" TEXT, "landing_page_id" TEXT, "origin" TEXT);

\copy "source_leads_text" FROM '<datasets>/olist_marketing_funnel/olist_marketing_qualified_leads_dataset.csv' WITH (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '"', ESCAPE '"', ENCODING 'UTF8')

CREATE TEMPORARY VIEW "source_leads" AS
SELECT
  "mql_id" AS "mql_id",
  CAST(COALESCE(
    CASE
      WHEN TRIM("first_contact_date") ~ '^\d{4}\-\d{1,2}\-\d{1,2}$'
      THEN CAST(TO_TIMESTAMP(TRIM("first_contact_date"), 'YYYY-MM-DD') AS TIMESTAMP)
    END,
    CAST(CASE
      WHEN CAST(TRIM("first_contact_date") AS TEXT) ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$'
      THEN CAST(TRIM("first_contact_date") AS TIMESTAMPTZ)
    END AS TIMESTAMP)
  ) AS TIMESTAMP) AS "first_contact_date",
  "landing_page_id" AS "landing_page_id",
  "origin" AS "origin"
FROM "source_leads_text"
WHERE
  NOT (
    (
      (
        NOT "first_contact_date" IS NULL AND TRIM("first_contact_date") <> ''
      )
      AND COALESCE(
        CASE
          WHEN TRIM("first_contact_date") ~ '^\d{4}\-\d{1,2}\-\d{1,2}$'
          THEN CAST(TO_TIMESTAMP(TRIM("first_contact_date"), 'YYYY-MM-DD') AS TIMESTAMP)
        END,
        CAST(CASE
          WHEN CAST(TRIM("first_contact_date") AS TEXT) ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$'
          THEN CAST(TRIM("first_contact_date") AS TIMESTAMPTZ)
        END AS TIMESTAMP)
      ) IS NULL
    )
  );

CREATE TEMPORARY TABLE "source_deals_text" ("mql_id" TEXT, "seller_id" TEXT, "sdr_id" TEXT, "sr_id" TEXT, "won_date" TEXT, "business_segment" TEXT, "lead_type" TEXT, "lead_behaviour_profile" TEXT, "has_company" TEXT, "has_gtin" TEXT, "average_stock" TEXT, "business_type" TEXT, "declared_product_catalog_size" TEXT, "declared_monthly_revenue" TEXT);

\copy "source_deals_text" FROM '<datasets>/olist_marketing_funnel/olist_closed_deals_dataset.csv' WITH (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '"', ESCAPE '"', ENCODING 'UTF8')

CREATE TEMPORARY VIEW "source_deals" AS
SELECT
  "mql_id" AS "mql_id",
  "seller_id" AS "seller_id",
  "sdr_id" AS "sdr_id",
  "sr_id" AS "sr_id",
  CAST(COALESCE(
    CASE
      WHEN TRIM("won_date") ~ '^\d{4}\-\d{1,2}\-\d{1,2}\ \d{1,2}:\d{2}:\d{2}$'
      THEN CAST(TO_TIMESTAMP(TRIM("won_date"), 'YYYY-MM-DD HH24:MI:SS') AS TIMESTAMP)
    END,
    CAST(CASE
      WHEN CAST(TRIM("won_date") AS TEXT) ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$'
      THEN CAST(TRIM("won_date") AS TIMESTAMPTZ)
    END AS TIMESTAMP)
  ) AS TIMESTAMP) AS "won_date",
  "business_segment" AS "business_segment",
  "lead_type" AS "lead_type",
  "lead_behaviour_profile" AS "lead_behaviour_profile",
  CAST("has_company" AS BOOLEAN) AS "has_company",
  CAST("has_gtin" AS BOOLEAN) AS "has_gtin",
  "average_stock" AS "average_stock",
  "business_type" AS "business_type",
  CAST("declared_product_catalog_size" AS DOUBLE PRECISION) AS "declared_product_catalog_size",
  CAST("declared_monthly_revenue" AS DOUBLE PRECISION) AS "declared_monthly_revenue"
FROM "source_deals_text"
WHERE
  NOT (
    (
      (
        NOT "won_date" IS NULL AND TRIM("won_date") <> ''
      )
      AND COALESCE(
        CASE
          WHEN TRIM("won_date") ~ '^\d{4}\-\d{1,2}\-\d{1,2}\ \d{1,2}:\d{2}:\d{2}$'
          THEN CAST(TO_TIMESTAMP(TRIM("won_date"), 'YYYY-MM-DD HH24:MI:SS') AS TIMESTAMP)
        END,
        CAST(CASE
          WHEN CAST(TRIM("won_date") AS TEXT) ~ '^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?(\s*(Z|z|UTC|[+-]\d{2}(:?\d{2})?))?$'
          THEN CAST(TRIM("won_date") AS TIMESTAMPTZ)
        END AS TIMESTAMP)
      ) IS NULL
    )
  );

WITH "agg_0" AS (
  SELECT
    CAST("mql_id" AS VARCHAR) AS "key",
    COUNT(*) AS "rows",
    MAX(
      CASE
        WHEN NOT "first_contact_date" IS NULL
        THEN CAST("first_contact_date" AS TIMESTAMP)
      END
    ) AS "latest",
    MIN(CAST("first_contact_date" AS TIMESTAMP)) AS "m_1",
    (
      ARRAY_AGG(
        CAST("origin" AS VARCHAR) ORDER BY CASE
          WHEN NOT "first_contact_date" IS NULL
          THEN CAST("first_contact_date" AS TIMESTAMP)
        END, CAST("origin" AS VARCHAR)
      )
    )[1] AS "a_0"
  FROM "source_leads"
  GROUP BY
    CAST("mql_id" AS VARCHAR)
), "agg_1" AS (
  SELECT
    CAST("mql_id" AS VARCHAR) AS "key",
    COUNT(*) AS "rows",
    MAX(CASE WHEN NOT "won_date" IS NULL THEN CAST("won_date" AS TIMESTAMP) END) AS "latest",
    MIN(CAST("won_date" AS TIMESTAMP)) AS "m_2"
  FROM "source_deals"
  GROUP BY
    CAST("mql_id" AS VARCHAR)
), "ids" AS (
  SELECT
    COALESCE("agg_0"."key", "agg_1"."key") AS "key",
    "agg_0"."rows" AS "rows_0",
    "agg_0"."latest" AS "latest_0",
    "agg_1"."rows" AS "rows_1",
    "agg_1"."latest" AS "latest_1",
    "agg_0"."m_1" AS "m_1",
    "agg_1"."m_2" AS "m_2",
    COALESCE("agg_0"."a_0", '(none)') AS "a_0"
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
    CAST(NULL AS DOUBLE PRECISION) AS "qv_1",
    NOT CASE WHEN TRUE THEN "m_1" END IS NULL AS "qr_1"
  FROM "ev"
), "q_2" AS (
  SELECT
    *,
    CAST(CASE WHEN TRUE THEN "m_2" END AS TIMESTAMP) AS "qt_2",
    CAST(NULL AS DOUBLE PRECISION) AS "qv_2",
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
), "quality" AS (
  SELECT
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
  "f"."lost_count",
  "f"."cycle_n",
  "f"."cycle_p50",
  "quality"."rows_read_0",
  "quality"."rows_without_id_0",
  "quality"."duplicate_ids_0",
  "quality"."rows_read_1",
  "quality"."rows_without_id_1",
  "quality"."duplicate_ids_1",
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
      "bw_2") AS "backwards_ids",
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
  GROUP BY
    GROUPING SETS (
      (),
      ("a_0")
    )
) AS f
CROSS JOIN "quality";
;
