SELECT count(*) FROM "workorder" AS t0 WHERE EXISTS (SELECT 1 FROM "workordercontact" AS t1 JOIN "contact" AS t2 ON t2."contactid" = t1."contactid" WHERE t1."workorderid" = t0."workorderid" AND (lower(t2."fullname" COLLATE "C.utf8") COLLATE "C" = $1 AND EXISTS (SELECT 1 FROM "account" AS t3 WHERE t3."accountid" = t2."parentcustomerid" AND lower(t3."name" COLLATE "C.utf8") COLLATE "C" = $2)))
-- $1 = string "x"
-- $2 = string "y"
