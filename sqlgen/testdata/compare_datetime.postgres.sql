SELECT count(*) FROM "workorder" AS t0 WHERE (t0."scheduledon" >= $1 AND t0."scheduledon" < $2)
-- $1 = time.Time 2024-01-01T00:00:00Z
-- $2 = time.Time 2024-02-01T06:30:00.123Z
