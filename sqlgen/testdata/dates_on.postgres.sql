SELECT count(*) FROM "workorder" AS t0 WHERE ((t0."scheduledon" >= $1 AND t0."scheduledon" < $2) OR (t0."scheduledon" < $3) OR (t0."scheduledon" >= $4))
-- $1 = time.Time 2024-01-01T05:00:00Z
-- $2 = time.Time 2024-01-02T05:00:00Z
-- $3 = time.Time 2024-01-01T05:00:00Z
-- $4 = time.Time 2025-01-01T05:00:00Z
