SELECT count(*) FROM "workorder" AS t0 WHERE (outpost_fold(t0."name") GLOB ? OR outpost_fold(t0."name") GLOB ? OR outpost_fold(t0."notes") GLOB ?)
-- $1 = string "*50%_off*"
-- $2 = string "a[*]b[?][[]c]*"
-- $3 = string "*\\"
