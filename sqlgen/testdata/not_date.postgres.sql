SELECT count(*) FROM "workorder" AS t0 WHERE ((t0."scheduledon" IS NULL OR t0."scheduledon" < $1 OR t0."scheduledon" >= $2) AND (t0."scheduledon" IS NULL OR t0."scheduledon" < $3))
-- $1 = time.Time 2024-03-01T05:00:00Z
-- $2 = time.Time 2024-04-01T05:00:00Z
-- $3 = time.Time 2024-01-01T05:00:00Z
