SELECT count(*) FROM "workorder" AS t0 WHERE ((t0."scheduledon" IS NULL OR t0."scheduledon" < ? OR t0."scheduledon" >= ?) AND (t0."scheduledon" IS NULL OR t0."scheduledon" < ?))
-- $1 = string "2024-03-01T05:00:00.000Z"
-- $2 = string "2024-04-01T05:00:00.000Z"
-- $3 = string "2024-01-01T05:00:00.000Z"
