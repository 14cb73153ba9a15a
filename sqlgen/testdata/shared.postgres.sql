SELECT count(*) FROM "workorder" AS t0 WHERE (t0."workorderid" IN (SELECT objectid FROM "outpost_share" WHERE objecttable = $1 AND principalid IN ($2, $3, $4)) OR (t0."workorderid" IS NULL OR t0."workorderid" NOT IN (SELECT objectid FROM "outpost_share" WHERE objecttable = $5 AND objectid IS NOT NULL AND principalid IN ($6, $7, $8))))
-- $1 = string "workorder"
-- $2 = string "00000000-0000-0000-0000-0000000000a1"
-- $3 = string "00000000-0000-0000-0000-0000000000b1"
-- $4 = string "00000000-0000-0000-0000-0000000000b2"
-- $5 = string "workorder"
-- $6 = string "00000000-0000-0000-0000-0000000000a1"
-- $7 = string "00000000-0000-0000-0000-0000000000b1"
-- $8 = string "00000000-0000-0000-0000-0000000000b2"
