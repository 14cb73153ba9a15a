SELECT count(*) FROM "workorder" AS t0 WHERE (1=1 AND 1=1)
