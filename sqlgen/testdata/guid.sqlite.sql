SELECT count(*) FROM "workorder" AS t0 WHERE (t0."customerid" = ? OR t0."workorderid" = ?)
-- $1 = string "6f1c2a9e-0b1d-4c8e-9a51-3f0e2d4b7c10"
-- $2 = string "6f1c2a9e-0b1d-4c8e-9a51-3f0e2d4b7c11"
