SELECT
  CAST((
    SELECT
      MAX(
        GREATEST(
          CASE
            WHEN NOT "created_at" IS NULL
            THEN CAST(CAST("created_at" AS TIMESTAMPTZ) AS TIMESTAMP)
          END,
          CASE
            WHEN NOT "qualified_at" IS NULL
            THEN CAST(CAST("qualified_at" AS TIMESTAMPTZ) AS TIMESTAMP)
          END,
          CASE
            WHEN NOT "trial_started_at" IS NULL
            THEN CAST(CAST("trial_started_at" AS TIMESTAMPTZ) AS TIMESTAMP)
          END,
          CASE
            WHEN NOT "paid_at" IS NULL
            THEN CAST(CAST("paid_at" AS TIMESTAMPTZ) AS TIMESTAMP)
          END,
          CASE
            WHEN NOT "renewed_at" IS NULL
            THEN CAST(CAST("renewed_at" AS TIMESTAMPTZ) AS TIMESTAMP)
          END
        )
      )
    FROM "source_leads"
    WHERE
      NOT CAST("account_id" AS VARCHAR) IS NULL
  ) AS TIMESTAMP) AS "as_of"
