SELECT count(*) FROM "workorder" AS t0 WHERE (t0."completed" = $1 OR t0."completed" IS DISTINCT FROM $2 OR t0."completed" = $3)
-- $1 = bool true
-- $2 = bool false
-- $3 = bool true
