SELECT count(*) FROM "systemuser" AS t0 WHERE (t0."systemuserid" = $1 OR t0."parentsystemuserid" IN ($2, $3))
-- $1 = string "00000000-0000-0000-0000-0000000000a1"
-- $2 = string "00000000-0000-0000-0000-0000000000a1"
-- $3 = string "00000000-0000-0000-0000-0000000000a2"
