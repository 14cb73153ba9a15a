SELECT count(*) FROM "workorder" AS t0 WHERE (outpost_fold(t0."name") = ? AND outpost_fold(t0."name") IS NOT ? AND outpost_fold(t0."name") > ? AND outpost_fold(t0."name") <= ?)
-- $1 = string "o'brien"
-- $2 = string "x"
-- $3 = string "a"
-- $4 = string "z"
