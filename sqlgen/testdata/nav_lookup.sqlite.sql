SELECT count(*) FROM "workorder" AS t0 WHERE (EXISTS (SELECT 1 FROM "account" AS t1 WHERE t1."accountid" = t0."customerid" AND outpost_fold(t1."name") = ?) AND EXISTS (SELECT 1 FROM "account" AS t2 WHERE t2."accountid" = t0."customerid" AND EXISTS (SELECT 1 FROM "contact" AS t3 WHERE t3."contactid" = t2."primarycontactid" AND outpost_fold(t3."fullname") IS NOT ?)))
-- $1 = string "contoso"
-- $2 = string "x"
