package sqlgen_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/schema"
)

// memDB holds the rows of the agreement test in memory and resolves links.
type memDB struct {
	s      *schema.Schema
	tables map[string][]outpost.Row
	shares [][3]string // objecttable, objectid, principalid
}

// Related implements filter.Resolver.
func (m *memDB) Related(r schema.Relationship, row outpost.Row) ([]outpost.Row, error) {
	pk := func(table string) string { return table + "id" }
	var out []outpost.Row
	switch r.Kind {
	case schema.ManyToOne:
		for _, x := range m.tables[r.Related] {
			if row[r.Column] != nil && x[pk(r.Related)] == row[r.Column] {
				out = append(out, x)
			}
		}
	case schema.OneToMany:
		for _, x := range m.tables[r.Related] {
			if x[r.Column] != nil && x[r.Column] == row[pk(r.Table)] {
				out = append(out, x)
			}
		}
	case schema.ManyToMany:
		for _, link := range m.tables[r.Intersect] {
			if link[r.IntersectColumn] != row[pk(r.Table)] {
				continue
			}
			for _, x := range m.tables[r.Related] {
				if x[pk(r.Related)] == link[r.RelatedColumn] {
					out = append(out, x)
				}
			}
		}
	}
	return out, nil
}

// agreementData builds random rows: a few users, teams and business units,
// accounts, contacts, work orders, parts, N:N pairs and shares.
func agreementData(rng *rand.Rand, now time.Time, loc *time.Location) (*memDB, map[string][]string) {
	ids := map[string][]string{}
	newIDs := func(table string, n int) []string {
		for range n {
			ids[table] = append(ids[table], outpost.NewID())
		}
		return ids[table]
	}
	pick := func(table string, nullPct int) any {
		if rng.IntN(100) < nullPct {
			return nil
		}
		list := ids[table]
		return list[rng.IntN(len(list))]
	}
	// Letters in both cases, including non-ASCII ones whose lower-case
	// forms differ (Ä ä, É é, ẞ ß, Σ σ ς, the Kelvin sign and dotted İ,
	// which lower-case to ASCII k and i).
	alphabet := []string{"a", "b", "A", "B", "%", "_", "*", "?", "[", "]", "\\", "'", "é", "É", "z", " ",
		"Ä", "ä", "ß", "ẞ", "Σ", "σ", "ς", "\u212a", "k", "İ", "i"}
	text := func() any {
		if rng.IntN(100) < 15 {
			return nil
		}
		var sb strings.Builder
		for range rng.IntN(5) {
			sb.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		return sb.String()
	}
	y, mo, d := now.In(loc).Date()
	when := func() any {
		switch rng.IntN(6) {
		case 0:
			return nil
		case 1: // a midnight boundary, or a millisecond either side
			t := time.Date(y, mo, d+rng.IntN(80)-40, 0, 0, 0, 0, loc)
			return t.Add(time.Duration(rng.IntN(3)-1) * time.Millisecond).UTC()
		case 2:
			return now.Add(time.Duration(rng.IntN(3)-1) * time.Millisecond).UTC()
		default:
			return now.Add(time.Duration(rng.Int64N(int64(800*24*time.Hour))) - 400*24*time.Hour).Truncate(time.Millisecond).UTC()
		}
	}
	maybe := func(v any) any {
		if rng.IntN(100) < 15 {
			return nil
		}
		return v
	}
	m := &memDB{tables: map[string][]outpost.Row{}}
	add := func(table string, row outpost.Row) {
		row[schema.ColVersionNumber] = int64(1)
		for k, v := range row {
			if v == nil {
				delete(row, k)
			}
		}
		m.tables[table] = append(m.tables[table], row)
	}
	for _, id := range newIDs("businessunit", 3) {
		add("businessunit", outpost.Row{"businessunitid": id, "name": "bu"})
	}
	for _, id := range newIDs("systemuser", 5) {
		add("systemuser", outpost.Row{"systemuserid": id, "fullname": text(), "domainname": "u", "businessunitid": pick("businessunit", 0)})
	}
	for _, id := range newIDs("team", 3) {
		add("team", outpost.Row{"teamid": id, "name": "t", "businessunitid": pick("businessunit", 0)})
	}
	owners := func() any {
		if rng.IntN(3) == 0 {
			return pick("team", 10)
		}
		return pick("systemuser", 10)
	}
	newIDs("contact", 40)
	for _, id := range newIDs("account", 40) {
		add("account", outpost.Row{"accountid": id, "name": text(), "primarycontactid": pick("contact", 30), "ownerid": owners()})
	}
	for _, id := range ids["contact"] {
		add("contact", outpost.Row{"contactid": id, "fullname": text(), "lastname": "x", "parentcustomerid": pick("account", 30), "ownerid": owners()})
	}
	for _, id := range newIDs("workorder", 300) {
		add("workorder", outpost.Row{
			"workorderid": id, "name": text(), "notes": text(), "customerid": pick("account", 20),
			"technicianid": pick("systemuser", 30), "ownerid": owners(), "owningbusinessunit": pick("businessunit", 10),
			"priority": maybe(int64(1 + rng.IntN(3))), "amount": maybe(float64(rng.IntN(40)) / 2),
			"quantity": maybe(int64(rng.IntN(10))), "scheduledon": when(), "createdon": when(),
			"completed": maybe(rng.IntN(2) == 0), "statecode": int64(rng.IntN(2)),
		})
	}
	for _, id := range newIDs("workorderpart", 200) {
		add("workorderpart", outpost.Row{"workorderpartid": id, "name": text(), "workorderid": pick("workorder", 10), "quantity": maybe(int64(rng.IntN(8)))})
	}
	for _, id := range newIDs("workordercontact", 300) {
		add("workordercontact", outpost.Row{"workordercontactid": id, "workorderid": pick("workorder", 0), "contactid": pick("contact", 0)})
	}
	for range 120 {
		principal := pick("systemuser", 0)
		if rng.IntN(2) == 0 {
			principal = pick("team", 0)
		}
		m.shares = append(m.shares, [3]string{"workorder", pick("workorder", 0).(string), principal.(string)})
	}
	return m, ids
}

// agreementFilters cover every operator on workorder; each also runs negated.
var agreementFilters = []string{
	"name eq 'ab'", "name ne 'a'", "name gt 'a'", "name ge 'b'", "name lt 'A%'", "name le 'é'",
	"notes eq ''", "name in ('a','b','','*')", "Microsoft.Dynamics.CRM.NotIn(PropertyName='name',PropertyValues=['a','z'])",
	"name eq null", "name ne null",
	"Microsoft.Dynamics.CRM.Like(PropertyName='name',PropertyValue='%a_')",
	"Microsoft.Dynamics.CRM.Like(PropertyName='name',PropertyValue='\\%%')",
	"Microsoft.Dynamics.CRM.Like(PropertyName='name',PropertyValue='_[%')",
	"Microsoft.Dynamics.CRM.NotLike(PropertyName='notes',PropertyValue='%\\_%')",
	"startswith(name,'a')", "startswith(name,'*')", "startswith(name,'[')", "startswith(name,'\\')",
	"Microsoft.Dynamics.CRM.NotBeginWith(PropertyName='name',PropertyValue='%')",
	"endswith(name,'?')", "endswith(name,']')", "Microsoft.Dynamics.CRM.NotEndWith(PropertyName='name',PropertyValue='_')",
	"contains(name,'é')", "contains(notes,'a b')", "contains(name,'')",
	"name eq 'AB'", "name eq 'Ä'", "name ne 'éÉ'", "name in ('ẞ','σ','K')", "name gt 'B'", "name le 'Σ'", "notes lt 'ä'",
	"startswith(name,'A')", "startswith(name,'ÄB')", "endswith(name,'É')", "contains(name,'ß')", "contains(notes,'Σ')",
	"contains(name,'\u212a')", "startswith(name,'i')", "endswith(notes,'İ')",
	"Microsoft.Dynamics.CRM.Like(PropertyName='name',PropertyValue='%Ä_')",
	"Microsoft.Dynamics.CRM.NotLike(PropertyName='notes',PropertyValue='A%')",
	"Microsoft.Dynamics.CRM.NotBeginWith(PropertyName='name',PropertyValue='É')",
	"customerid/name eq 'A'", "workorder_contact/any(c: startswith(c/fullname,'B'))",
	"amount gt 10.5", "amount eq 3", "amount le 0", "quantity ge 5", "quantity ne 3", "quantity in (1,2,3)",
	"priority eq 2", "priority lt 3", "Microsoft.Dynamics.CRM.NotIn(PropertyName='priority',PropertyValues=[1])",
	"completed eq true", "completed ne false", "completed", "completed eq null",
	"statecode eq 0", "createdon gt 2024-03-01T00:00:00Z", "scheduledon le 2024-03-15",
	"Microsoft.Dynamics.CRM.EqUserId(PropertyName='ownerid')", "Microsoft.Dynamics.CRM.NeUserId(PropertyName='ownerid')",
	"Microsoft.Dynamics.CRM.EqUserId(PropertyName='technicianid')",
	"Microsoft.Dynamics.CRM.EqUserTeams(PropertyName='ownerid')", "Microsoft.Dynamics.CRM.EqUserOrUserTeams(PropertyName='ownerid')",
	"Microsoft.Dynamics.CRM.EqUserOrUserHierarchy(PropertyName='ownerid')",
	"Microsoft.Dynamics.CRM.EqUserOrUserHierarchyAndTeams(PropertyName='ownerid')",
	"Microsoft.Dynamics.CRM.EqBusinessId(PropertyName='owningbusinessunit')",
	"Microsoft.Dynamics.CRM.NeBusinessId(PropertyName='owningbusinessunit')",
	"Microsoft.Dynamics.CRM.EqSharedWithUser(PropertyName='workorderid')",
	"customerid/name eq 'a'", "customerid/primarycontactid/fullname ne 'b'", "customerid/ownerid eq null",
	"workorder_customerid/any()", "workorderpart_workorderid/any()",
	"workorderpart_workorderid/any(p: p/quantity gt 3)", "workorderpart_workorderid/all(p: p/quantity gt 3)",
	"workorder_contact/any(c: startswith(c/fullname,'a') or c/parentcustomerid/name eq null)",
	"workorder_contact/any(c: c/parentcustomerid/contact_parentcustomerid/any(x: x/fullname eq 'b'))",
	"true", "false", "name eq 'a' or (amount gt 3 and not completed)", "not (priority eq 1 or quantity ne 2)",
}

func init() {
	for _, op := range []string{"Today", "Yesterday", "Tomorrow", "ThisWeek", "LastWeek", "NextWeek",
		"ThisMonth", "LastMonth", "NextMonth", "ThisYear", "LastYear", "NextYear"} {
		agreementFilters = append(agreementFilters, fmt.Sprintf("Microsoft.Dynamics.CRM.%s(PropertyName='scheduledon')", op))
	}
	for _, op := range []string{"LastXDays", "NextXDays", "LastXWeeks", "NextXWeeks", "LastXMonths", "NextXMonths", "LastXYears", "NextXYears"} {
		agreementFilters = append(agreementFilters, fmt.Sprintf("Microsoft.Dynamics.CRM.%s(PropertyName='scheduledon',PropertyValue=2)", op))
	}
	for _, op := range []string{"On", "OnOrBefore", "OnOrAfter"} {
		agreementFilters = append(agreementFilters, fmt.Sprintf("Microsoft.Dynamics.CRM.%s(PropertyName='createdon',PropertyValue=2024-03-10)", op))
	}
}

// TestSQLAgreesWithEval checks, for random rows and filters covering every
// operator (each also negated), that the rows the compiled SQL returns are
// exactly the rows Eval accepts, on SQLite and (when configured) PostgreSQL.
func TestSQLAgreesWithEval(t *testing.T) {
	t.Parallel()
	s := testSchema(t)
	loc := time.FixedZone("UTC-5", -5*3600)
	now := time.Date(2024, 3, 15, 20, 30, 0, 0, time.UTC) // Friday
	rng := rand.New(rand.NewPCG(1, 2))
	m, ids := agreementData(rng, now, loc)
	m.s = s
	envs := map[string]*filter.Env{
		"user": {
			UserID: ids["systemuser"][0], TeamIDs: ids["team"][:2], HierarchyUserIDs: ids["systemuser"][:3],
			BusinessUnitID: ids["businessunit"][0], Now: func() time.Time { return now }, Location: loc,
		},
		"no teams": {UserID: ids["systemuser"][1], Now: func() time.Time { return now.Add(-36 * time.Hour) }},
	}
	for _, env := range envs {
		principals := env.MatchIDs(filter.EqSharedWithUser)
		env.Shared = func(table, id string) bool {
			for _, sh := range m.shares {
				if sh[0] == table && sh[1] == id && slices.Contains(principals, sh[2]) {
					return true
				}
			}
			return false
		}
	}
	for _, db := range openDBs(t, s) {
		for table, rows := range m.tables {
			db.insert(t, s, table, rows)
		}
		for _, sh := range m.shares {
			if _, err := db.db.Exec("INSERT INTO outpost_share (objecttable, objectid, principalid, accessmask) VALUES ("+
				map[bool]string{false: "?, ?, ?, 1", true: "$1, $2, $3, 1"}[db.d.IsPostgres()]+")", sh[0], sh[1], sh[2]); err != nil {
				t.Fatal(err)
			}
		}
		for envName, env := range envs {
			for _, src := range agreementFilters {
				for _, text := range []string{src, "not (" + src + ")"} {
					e, err := filter.ParseOData(text)
					if err == nil {
						e, err = filter.Check(s, "workorder", e, filter.CheckOptions{})
					}
					if err != nil {
						t.Fatalf("%s: %v", text, err)
					}
					var want []string
					for _, row := range m.tables["workorder"] {
						ok, err := filter.Eval(s, "workorder", e, row, env, m)
						if err != nil {
							t.Fatalf("Eval(%s): %v", text, err)
						}
						if ok {
							want = append(want, row["workorderid"].(string))
						}
					}
					query, args := selectQuery(t, db.d, s, "workorder", e, env, true)
					got := queryIDs(t, db, query, args)
					slices.Sort(want)
					if diff := cmp.Diff(want, got); diff != "" {
						t.Errorf("%s, env %s, filter %s\nSQL %s %v\n(-eval +sql):\n%s", db.name, envName, text, query, formatArgs(args), diff)
					}
				}
			}
		}
	}
}

func queryIDs(t *testing.T, db *testDB, query string, args []any) []string {
	t.Helper()
	rows, err := db.db.Query(query, args...)
	if err != nil {
		t.Fatalf("%s: %s: %v", db.name, query, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}
