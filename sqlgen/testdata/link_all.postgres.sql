SELECT count(*) FROM "workorder" AS t0 WHERE NOT EXISTS (SELECT 1 FROM "workordercontact" AS t1 JOIN "contact" AS t2 ON t2."contactid" = t1."contactid" WHERE t1."workorderid" = t0."workorderid" AND (t2."fullname" IS NULL OR lower(t2."fullname" COLLATE "C.utf8") COLLATE "C" NOT LIKE $1 ESCAPE '\'))
-- $1 = string "a%"
