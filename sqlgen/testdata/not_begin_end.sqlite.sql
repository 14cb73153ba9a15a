SELECT count(*) FROM "workorder" AS t0 WHERE ((t0."name" IS NULL OR outpost_fold(t0."name") NOT GLOB ?) AND (t0."name" IS NULL OR outpost_fold(t0."name") NOT GLOB ?))
-- $1 = string "a*"
-- $2 = string "*z"
