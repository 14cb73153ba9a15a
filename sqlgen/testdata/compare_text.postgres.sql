SELECT count(*) FROM "workorder" AS t0 WHERE (t0."name" = $1 AND t0."name" IS DISTINCT FROM $2 AND t0."name" COLLATE "C" > $3 AND t0."name" COLLATE "C" <= $4)
-- $1 = string "O'Brien"
-- $2 = string "x"
-- $3 = string "a"
-- $4 = string "z"
