SELECT count(*) FROM "workorder" AS t0 WHERE (t0."notes" IS NULL AND t0."customerid" IS NOT NULL)
