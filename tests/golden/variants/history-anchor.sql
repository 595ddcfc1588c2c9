SELECT
  CAST((
    SELECT
      MAX(
        GREATEST(
          CASE
            WHEN NOT "changed_at" IS NULL AND CAST("stage" AS VARCHAR) IN ('New')
            THEN CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)
          END,
          CASE
            WHEN NOT "changed_at" IS NULL AND CAST("stage" AS VARCHAR) IN ('MQL')
            THEN CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)
          END,
          CASE
            WHEN NOT "changed_at" IS NULL AND CAST("stage" AS VARCHAR) IN ('Trial')
            THEN CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)
          END,
          CASE
            WHEN NOT "changed_at" IS NULL AND CAST("stage" AS VARCHAR) IN ('Closed Won')
            THEN CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)
          END,
          CASE
            WHEN NOT "changed_at" IS NULL AND CAST("stage" AS VARCHAR) IN ('Renewed')
            THEN CAST(CAST("changed_at" AS TIMESTAMPTZ) AS TIMESTAMP)
          END
        )
      )
    FROM "source_history"
    WHERE
      NOT CAST("lead_id" AS VARCHAR) IS NULL
  ) AS TIMESTAMP) AS "as_of"
