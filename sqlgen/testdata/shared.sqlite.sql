SELECT count(*) FROM "workorder" AS t0 WHERE (t0."workorderid" IN (SELECT objectid FROM "outpost_share" WHERE objecttable = ? AND principalid IN (?, ?, ?)) OR (t0."workorderid" IS NULL OR t0."workorderid" NOT IN (SELECT objectid FROM "outpost_share" WHERE objecttable = ? AND objectid IS NOT NULL AND principalid IN (?, ?, ?))))
-- $1 = string "workorder"
-- $2 = string "00000000-0000-0000-0000-0000000000a1"
-- $3 = string "00000000-0000-0000-0000-0000000000b1"
-- $4 = string "00000000-0000-0000-0000-0000000000b2"
-- $5 = string "workorder"
-- $6 = string "00000000-0000-0000-0000-0000000000a1"
-- $7 = string "00000000-0000-0000-0000-0000000000b1"
-- $8 = string "00000000-0000-0000-0000-0000000000b2"
