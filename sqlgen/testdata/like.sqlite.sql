SELECT count(*) FROM "workorder" AS t0 WHERE (t0."name" GLOB ? AND (t0."name" IS NULL OR t0."name" NOT GLOB ?))
-- $1 = string "a*b?c%"
-- $2 = string "*x*"
