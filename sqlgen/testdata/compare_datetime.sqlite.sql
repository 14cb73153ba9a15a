SELECT count(*) FROM "workorder" AS t0 WHERE (t0."scheduledon" >= ? AND t0."scheduledon" < ?)
-- $1 = string "2024-01-01T00:00:00.000Z"
-- $2 = string "2024-02-01T06:30:00.123Z"
