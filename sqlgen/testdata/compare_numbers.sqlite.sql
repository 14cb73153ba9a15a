SELECT count(*) FROM "workorder" AS t0 WHERE (t0."amount" > ? AND t0."quantity" <= ? AND t0."priority" = ? AND t0."amount" IS NOT ?)
-- $1 = float64 10.5
-- $2 = int64 5
-- $3 = int64 2
-- $4 = float64 3
