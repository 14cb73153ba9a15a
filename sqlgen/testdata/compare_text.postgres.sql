SELECT count(*) FROM "workorder" AS t0 WHERE (lower(t0."name" COLLATE "C.utf8") COLLATE "C" = $1 AND lower(t0."name" COLLATE "C.utf8") COLLATE "C" IS DISTINCT FROM $2 AND lower(t0."name" COLLATE "C.utf8") COLLATE "C" > $3 AND lower(t0."name" COLLATE "C.utf8") COLLATE "C" <= $4)
-- $1 = string "o'brien"
-- $2 = string "x"
-- $3 = string "a"
-- $4 = string "z"
