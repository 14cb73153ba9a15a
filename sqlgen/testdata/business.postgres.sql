SELECT count(*) FROM "workorder" AS t0 WHERE (t0."owningbusinessunit" = $1 AND t0."owningbusinessunit" = $2)
-- $1 = string "00000000-0000-0000-0000-0000000000c1"
-- $2 = string "00000000-0000-0000-0000-0000000000c1"
