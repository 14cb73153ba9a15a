SELECT count(*) FROM "account" AS t0 WHERE (t0."statecode" = ? AND (EXISTS (SELECT 1 FROM "contact" AS t1 WHERE t1."parentcustomerid" = t0."accountid" AND t1."emailaddress1" IS NOT NULL) OR EXISTS (SELECT 1 FROM "contact" AS t2 WHERE t2."contactid" = t0."primarycontactid" AND outpost_fold(t2."fullname") = ?)))
-- $1 = int64 0
-- $2 = string "x"
