package filter

import (
	"fmt"
	"time"
)

// now returns the current time from env.Now (time.Now when unset),
// truncated to milliseconds, the precision datetimes are stored with.
func (env *Env) now() time.Time {
	if env != nil && env.Now != nil {
		return env.Now().Truncate(time.Millisecond)
	}
	return time.Now().Truncate(time.Millisecond)
}

func (env *Env) location() *time.Location {
	if env != nil && env.Location != nil {
		return env.Location
	}
	return time.UTC
}

// MatchIDs returns the ids a column must equal for the user-relative or
// business operator op (for a negative operator, those of its complement):
// the user for eq-userid; the user's teams for eq-userteams; the user and
// their teams for eq-useroruserteams and eq-sharedwithuser (the principals a
// row may be shared with); HierarchyUserIDs plus the user for
// eq-useroruserhierarchy, and those plus the teams for
// eq-useroruserhierarchyandteams; the business unit for eq-businessid. Empty
// ids are left out and duplicates removed; an empty result matches no row.
func (env *Env) MatchIDs(op Op) []string {
	if p, ok := op.Complement(); ok {
		op = p
	}
	if env == nil {
		return nil
	}
	var ids []string
	switch op {
	case EqUserID:
		ids = []string{env.UserID}
	case EqUserTeams:
		ids = env.TeamIDs
	case EqUserOrUserTeams, EqSharedWithUser:
		ids = append([]string{env.UserID}, env.TeamIDs...)
	case EqUserOrUserHierarchy:
		ids = append([]string{env.UserID}, env.HierarchyUserIDs...)
	case EqUserOrUserHierarchyAndTeams:
		ids = append(append([]string{env.UserID}, env.HierarchyUserIDs...), env.TeamIDs...)
	case EqBusinessID:
		ids = []string{env.BusinessUnitID}
	}
	seen := make(map[string]bool, len(ids))
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// DateRange returns the half-open range [start, end) of instants that the
// date operator op with operands values matches, computed from env's clock
// in env.Location (UTC by default). A zero start or end means the range is
// unbounded on that side. values must be checked: an int64 count for the
// x-operators, a time.Time for on, on-or-before and on-or-after.
//
// Days are calendar days in the location and weeks start on Sunday.
// today, yesterday and tomorrow are one day; this/last/next-week, -month and
// -year are whole calendar periods. last-x-days n runs from midnight n days
// ago up to now, next-x-days n from now to the end of the day n days ahead;
// weeks, months and years work alike, months and years by calendar
// arithmetic that clamps the day to the target month (one month before
// March 31, 2024 is February 29). on d is the day of d's UTC date in the
// location; on-or-before d ends with that day and on-or-after d starts with
// it. Bounds outside the years 1 to 9999 are dropped.
func DateRange(op Op, values []any, env *Env) (start, end time.Time, err error) {
	loc := env.location()
	now := env.now().In(loc)
	y, m, d := now.Date()
	// day is midnight of today moved by whole years, months (the day of the
	// month clamped to the target month's last day) and days.
	day := func(dy, dm, dd int) time.Time {
		first := time.Date(y+dy, m+time.Month(dm), 1, 0, 0, 0, 0, loc)
		last := first.AddDate(0, 1, -1).Day()
		return time.Date(first.Year(), first.Month(), min(d, last)+dd, 0, 0, 0, 0, loc)
	}
	count := func() (int, error) {
		if len(values) != 1 {
			return 0, fmt.Errorf("operator %q takes one value, got %d", op, len(values))
		}
		n, ok := values[0].(int64)
		if !ok || n < 1 || n > maxDateCount {
			return 0, fmt.Errorf("operator %q needs a whole number from 1 to %d, got %v", op, maxDateCount, values[0])
		}
		return int(n), nil
	}
	n := 0
	switch op {
	case LastXDays, NextXDays, LastXWeeks, NextXWeeks, LastXMonths, NextXMonths, LastXYears, NextXYears:
		if n, err = count(); err != nil {
			return start, end, err
		}
	}
	sunday := day(0, 0, -int(now.Weekday()))
	month := time.Date(y, m, 1, 0, 0, 0, 0, loc)
	year := time.Date(y, 1, 1, 0, 0, 0, 0, loc)
	switch op {
	case Today:
		start, end = day(0, 0, 0), day(0, 0, 1)
	case Yesterday:
		start, end = day(0, 0, -1), day(0, 0, 0)
	case Tomorrow:
		start, end = day(0, 0, 1), day(0, 0, 2)
	case LastXDays:
		start, end = day(0, 0, -n), now
	case NextXDays:
		start, end = now, day(0, 0, n+1)
	case LastXWeeks:
		start, end = day(0, 0, -7*n), now
	case NextXWeeks:
		start, end = now, day(0, 0, 7*n+1)
	case LastXMonths:
		start, end = day(0, -n, 0), now
	case NextXMonths:
		start, end = now, day(0, n, 1)
	case LastXYears:
		start, end = day(-n, 0, 0), now
	case NextXYears:
		start, end = now, day(n, 0, 1)
	case ThisWeek:
		start, end = sunday, sunday.AddDate(0, 0, 7)
	case LastWeek:
		start, end = sunday.AddDate(0, 0, -7), sunday
	case NextWeek:
		start, end = sunday.AddDate(0, 0, 7), sunday.AddDate(0, 0, 14)
	case ThisMonth:
		start, end = month, month.AddDate(0, 1, 0)
	case LastMonth:
		start, end = month.AddDate(0, -1, 0), month
	case NextMonth:
		start, end = month.AddDate(0, 1, 0), month.AddDate(0, 2, 0)
	case ThisYear:
		start, end = year, year.AddDate(1, 0, 0)
	case LastYear:
		start, end = year.AddDate(-1, 0, 0), year
	case NextYear:
		start, end = year.AddDate(1, 0, 0), year.AddDate(2, 0, 0)
	case On, OnOrBefore, OnOrAfter:
		if len(values) != 1 {
			return start, end, fmt.Errorf("operator %q takes one value, got %d", op, len(values))
		}
		t, ok := values[0].(time.Time)
		if !ok {
			return start, end, fmt.Errorf("operator %q needs a date, got %v", op, values[0])
		}
		vy, vm, vd := t.UTC().Date()
		first := time.Date(vy, vm, vd, 0, 0, 0, 0, loc)
		start, end = first, first.AddDate(0, 0, 1)
		if op == OnOrBefore {
			start = time.Time{}
		} else if op == OnOrAfter {
			end = time.Time{}
		}
	default:
		return start, end, fmt.Errorf("operator %q is not a date operator", op)
	}
	if !start.IsZero() && start.Year() < 1 {
		start = time.Time{}
	}
	if !end.IsZero() && end.Year() > 9999 {
		end = time.Time{}
	}
	return start, end, nil
}

// maxDateCount bounds the operand of the last/next-x operators.
const maxDateCount = 10000
