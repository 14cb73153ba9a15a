SELECT count(*) FROM "workorder" AS t0 WHERE (EXISTS (SELECT 1 FROM "workorderpart" AS t1 WHERE t1."workorderid" = t0."workorderid" AND t1."quantity" > $1) AND NOT EXISTS (SELECT 1 FROM "workorderpart" AS t2 WHERE t2."workorderid" = t0."workorderid"))
-- $1 = int64 3
