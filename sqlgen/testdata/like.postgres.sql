SELECT count(*) FROM "workorder" AS t0 WHERE (t0."name" LIKE $1 ESCAPE '\' AND (t0."name" IS NULL OR t0."name" NOT LIKE $2 ESCAPE '\'))
-- $1 = string "a%b_c\\%"
-- $2 = string "%x%"
