SELECT count(*) FROM "workorder" AS t0 WHERE (t0."priority" IN ($1, $2) AND lower(t0."name" COLLATE "C.utf8") COLLATE "C" IN ($3, $4) AND (t0."name" IS NULL OR lower(t0."name" COLLATE "C.utf8") COLLATE "C" NOT IN ($5, $6)))
-- $1 = int64 1
-- $2 = int64 3
-- $3 = string "a"
-- $4 = string "b"
-- $5 = string "c"
-- $6 = string "d"
