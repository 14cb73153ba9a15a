SELECT count(*) FROM "workorder" AS t0 WHERE (lower(t0."name" COLLATE "C.utf8") COLLATE "C" LIKE $1 ESCAPE '\' OR lower(t0."name" COLLATE "C.utf8") COLLATE "C" LIKE $2 ESCAPE '\' OR lower(t0."notes" COLLATE "C.utf8") COLLATE "C" LIKE $3 ESCAPE '\')
-- $1 = string "%50\\%\\_off%"
-- $2 = string "a*b?[c]%"
-- $3 = string "%\\\\"
