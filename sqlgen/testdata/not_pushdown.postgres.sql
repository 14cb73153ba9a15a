SELECT count(*) FROM "workorder" AS t0 WHERE (lower(t0."name" COLLATE "C.utf8") COLLATE "C" IS DISTINCT FROM $1 AND (t0."amount" IS NULL OR t0."amount" <= $2) AND ((t0."priority" IS NULL OR t0."priority" NOT IN ($3, $4)) OR (t0."name" IS NULL OR lower(t0."name" COLLATE "C.utf8") COLLATE "C" NOT LIKE $5 ESCAPE '\')))
-- $1 = string "a"
-- $2 = float64 5
-- $3 = int64 1
-- $4 = int64 2
-- $5 = string "x%"
