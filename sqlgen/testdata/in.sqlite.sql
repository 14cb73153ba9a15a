SELECT count(*) FROM "workorder" AS t0 WHERE (t0."priority" IN (?, ?) AND outpost_fold(t0."name") IN (?, ?) AND (t0."name" IS NULL OR outpost_fold(t0."name") NOT IN (?, ?)))
-- $1 = int64 1
-- $2 = int64 3
-- $3 = string "a"
-- $4 = string "b"
-- $5 = string "c"
-- $6 = string "d"
