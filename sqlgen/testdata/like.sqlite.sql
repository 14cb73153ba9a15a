SELECT count(*) FROM "workorder" AS t0 WHERE (outpost_fold(t0."name") GLOB ? AND (t0."name" IS NULL OR outpost_fold(t0."name") NOT GLOB ?))
-- $1 = string "a*b?c%"
-- $2 = string "*x*"
