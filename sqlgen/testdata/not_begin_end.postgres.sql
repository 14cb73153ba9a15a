SELECT count(*) FROM "workorder" AS t0 WHERE ((t0."name" IS NULL OR lower(t0."name" COLLATE "C.utf8") COLLATE "C" NOT LIKE $1 ESCAPE '\') AND (t0."name" IS NULL OR lower(t0."name" COLLATE "C.utf8") COLLATE "C" NOT LIKE $2 ESCAPE '\'))
-- $1 = string "a%"
-- $2 = string "%z"
