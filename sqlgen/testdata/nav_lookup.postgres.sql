SELECT count(*) FROM "workorder" AS t0 WHERE (EXISTS (SELECT 1 FROM "account" AS t1 WHERE t1."accountid" = t0."customerid" AND lower(t1."name" COLLATE "C.utf8") COLLATE "C" = $1) AND EXISTS (SELECT 1 FROM "account" AS t2 WHERE t2."accountid" = t0."customerid" AND EXISTS (SELECT 1 FROM "contact" AS t3 WHERE t3."contactid" = t2."primarycontactid" AND lower(t3."fullname" COLLATE "C.utf8") COLLATE "C" IS DISTINCT FROM $2)))
-- $1 = string "contoso"
-- $2 = string "x"
