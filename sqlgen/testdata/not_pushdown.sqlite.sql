SELECT count(*) FROM "workorder" AS t0 WHERE (outpost_fold(t0."name") IS NOT ? AND (t0."amount" IS NULL OR t0."amount" <= ?) AND ((t0."priority" IS NULL OR t0."priority" NOT IN (?, ?)) OR (t0."name" IS NULL OR outpost_fold(t0."name") NOT GLOB ?)))
-- $1 = string "a"
-- $2 = float64 5
-- $3 = int64 1
-- $4 = int64 2
-- $5 = string "x*"
