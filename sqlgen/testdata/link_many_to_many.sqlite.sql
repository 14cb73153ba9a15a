SELECT count(*) FROM "workorder" AS t0 WHERE EXISTS (SELECT 1 FROM "workordercontact" AS t1 JOIN "contact" AS t2 ON t2."contactid" = t1."contactid" WHERE t1."workorderid" = t0."workorderid" AND (outpost_fold(t2."fullname") = ? AND EXISTS (SELECT 1 FROM "account" AS t3 WHERE t3."accountid" = t2."parentcustomerid" AND outpost_fold(t3."name") = ?)))
-- $1 = string "x"
-- $2 = string "y"
