SELECT count(*) FROM "workorder" AS t0 WHERE (t0."name" LIKE $1 ESCAPE '\' OR t0."name" LIKE $2 ESCAPE '\' OR t0."notes" LIKE $3 ESCAPE '\')
-- $1 = string "%50\\%\\_off%"
-- $2 = string "a*b?[c]%"
-- $3 = string "%\\\\"
