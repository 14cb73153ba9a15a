SELECT count(*) FROM "workorder" AS t0 WHERE ((t0."scheduledon" >= ? AND t0."scheduledon" < ?) OR (t0."scheduledon" < ?) OR (t0."scheduledon" >= ?))
-- $1 = string "2024-01-01T05:00:00.000Z"
-- $2 = string "2024-01-02T05:00:00.000Z"
-- $3 = string "2024-01-01T05:00:00.000Z"
-- $4 = string "2025-01-01T05:00:00.000Z"
