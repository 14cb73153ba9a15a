SELECT count(*) FROM "workorder" AS t0 WHERE (t0."name" = ? AND t0."name" IS NOT ? AND t0."name" > ? AND t0."name" <= ?)
-- $1 = string "O'Brien"
-- $2 = string "x"
-- $3 = string "a"
-- $4 = string "z"
