SELECT count(*) FROM "workorder" AS t0 WHERE (lower(t0."name" COLLATE "C.utf8") COLLATE "C" LIKE $1 ESCAPE '\' AND (t0."name" IS NULL OR lower(t0."name" COLLATE "C.utf8") COLLATE "C" NOT LIKE $2 ESCAPE '\'))
-- $1 = string "a%b_c\\%"
-- $2 = string "%x%"
