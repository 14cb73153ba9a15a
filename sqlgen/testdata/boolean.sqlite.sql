SELECT count(*) FROM "workorder" AS t0 WHERE (t0."completed" = ? OR t0."completed" IS NOT ? OR t0."completed" = ?)
-- $1 = int64 1
-- $2 = int64 0
-- $3 = int64 1
