SELECT count(*) FROM "workorder" AS t0 WHERE (t0."amount" > $1 AND t0."quantity" <= $2 AND t0."priority" = $3 AND t0."amount" IS DISTINCT FROM $4)
-- $1 = float64 10.5
-- $2 = int64 5
-- $3 = int64 2
-- $4 = float64 3
