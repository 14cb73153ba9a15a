package platform

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/sqlgen"
	"github.com/outposthq/outpost/store"
)

// convertInput checks a client's column values for t and returns them as Go
// values. On create, the primary key, ownerid, statecode and statuscode may
// be set; on update only statecode and statuscode of the system columns.
// Lookups may be given by id or, as in OData, as "col@odata.bind":
// "/table(id)".
func convertInput(t *schema.Table, input map[string]any, create bool) (outpost.Row, error) {
	out := make(outpost.Row, len(input))
	keys := make([]string, 0, len(input))
	for k := range input {
		keys = append(keys, k)
	}
	sort.Strings(keys) // errors name the first bad column deterministically
	for _, k := range keys {
		v := input[k]
		name := k
		if strings.HasPrefix(k, "@odata.") {
			continue // annotations such as @odata.etag are ignored
		}
		if base, ok := strings.CutSuffix(k, "@odata.bind"); ok {
			name = base
			ref, ok := v.(string)
			if !ok {
				return nil, outpost.Invalidf("%s takes a reference such as \"/account(3f2504e0-4f89-41d3-9a0c-0305e82c3301)\"", k).WithTarget(k)
			}
			id, err := parseBind(ref)
			if err != nil {
				return nil, outpost.Invalidf("%s: %s", k, err.Error()).WithTarget(k)
			}
			v = id
		}
		c, ok := t.Column(name)
		if !ok {
			return nil, outpost.Invalidf("table %q has no column %q", t.Name, name).WithTarget(name)
		}
		if c.System {
			allowed := name == schema.ColStateCode || name == schema.ColStatusCode
			if create {
				allowed = allowed || name == t.PrimaryKey() || name == schema.ColOwnerID ||
					(name == schema.ColOwningBusinessUnit && t.Ownership == schema.OwnedByBusiness)
			}
			if !allowed {
				return nil, outpost.Invalidf("column %q of table %q is maintained by Outpost and cannot be written", name, t.Name).WithTarget(name)
			}
		}
		if c.Type == schema.File || c.Type == schema.Image {
			return nil, outpost.Invalidf("column %q of table %q holds a file: upload it with PUT /api/files/%s({id})/%s", name, t.Name, t.Name, name).WithTarget(name)
		}
		cv, err := ConvertValue(t, c, v)
		if err != nil {
			return nil, err
		}
		out[name] = cv
	}
	if create {
		if err := schema.CheckRequired(t, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func parseBind(ref string) (string, error) {
	ref = strings.TrimPrefix(ref, "/")
	open := strings.IndexByte(ref, '(')
	if open < 0 || !strings.HasSuffix(ref, ")") {
		return "", fmt.Errorf("%q is not a reference such as \"/account(3f2504e0-4f89-41d3-9a0c-0305e82c3301)\"", ref)
	}
	id := ref[open+1 : len(ref)-1]
	if !outpost.ValidID(id) {
		return "", fmt.Errorf("%q does not hold a row id", ref)
	}
	return strings.ToLower(id), nil
}

// ownerOf resolves an owner id to its type and business unit.
func (w *Writer) ownerOf(ctx context.Context, id string) (typ, bu string, err error) {
	return w.ownerFor(ctx, nil, id)
}

// ownerFor is ownerOf for a row by writes: by's own id resolves from by, a
// principal loaded with its user's business unit, without a read, unless
// the transaction changed security (a user's business unit, say) before.
func (w *Writer) ownerFor(ctx context.Context, by *security.Principal, id string) (typ, bu string, err error) {
	if by != nil && !by.Server && by.UserID != "" && id == by.UserID && !w.securityChanged {
		return "systemuser", by.BusinessUnitID, nil
	}
	d := w.p.db.Dialect
	for _, tbl := range []string{"systemuser", "team"} {
		var b *string
		query, args := sqlgen.NewBuilder(d).SQL(`SELECT businessunitid FROM `).SQL(tbl).SQL(` WHERE `).SQL(tbl).SQL(`id = `).Arg(id).Build()
		err := w.tx.QueryRowContext(ctx, query, args...).Scan(&b)
		if err == nil {
			if b != nil {
				bu = *b
			}
			return tbl, bu, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return "", "", fmt.Errorf("resolve owner %s: %w", id, err)
		}
	}
	return "", "", outpost.Invalidf("owner %s is neither a user nor a team", id).WithTarget(schema.ColOwnerID)
}

// checkedLookup returns the lookup column of t that name is, and the row id
// v sets it to, when checkLookups checks that value; nil otherwise.
func checkedLookup(t *schema.Table, name string, v any) (*schema.Column, string) {
	c, _ := t.Column(name)
	id, ok := v.(string)
	if c == nil || c.Type != schema.Lookup || !ok || c.System {
		return nil, ""
	}
	return c, id
}

// checkLookups verifies every lookup value set in row: the referenced row
// exists and by may append t's row to it (Append on t, Append To on the
// target). For an update, rowID is the row: Append must reach it (a share
// gives it with the append right). A target row by can neither read nor
// append to answers as a missing one, so lookups tell nothing about rows
// by cannot read.
func (w *Writer) checkLookups(ctx context.Context, by *security.Principal, t *schema.Table, rowID string, row outpost.Row) error {
	sch := w.Schema()
	appendChecked := false
	for name, v := range row {
		c, id := checkedLookup(t, name, v)
		if c == nil {
			continue
		}
		target := sch.MustTable(c.Target)
		exists, err := w.p.getRow(ctx, w.tx, target, id)
		if err != nil {
			return err
		}
		missing := outpost.Invalidf("column %q refers to %s, which is not a row of table %q", name, id, target.Name).WithTarget(name)
		if exists == nil {
			return missing
		}
		if by.Depth(t, security.Append) == security.None {
			return outpost.Forbiddenf("you lack the append privilege on table %q needed to set %q", t.Name, name).WithTarget(name)
		}
		if rowID != "" && !appendChecked {
			ok, err := w.matches(ctx, by, t, rowID, by.Filter(t, security.Append))
			if err != nil {
				return err
			}
			if !ok {
				return outpost.Forbiddenf("you lack the append privilege on this row of table %q needed to set %q", t.Name, name).WithTarget(name)
			}
			appendChecked = true
		}
		allowed, err := w.matches(ctx, by, target, id, by.Filter(target, security.AppendTo))
		if err != nil {
			return err
		}
		if !allowed {
			readable, err := w.matches(ctx, by, target, id, by.Filter(target, security.Read))
			if err != nil {
				return err
			}
			if !readable {
				return missing
			}
			return outpost.Forbiddenf("you lack the appendto privilege on row %s of table %q needed to set %q", id, target.Name, name).WithTarget(name)
		}
	}
	return nil
}

type writeLastKey struct{}

// WriteLast marks ctx for the last write of its transaction: nothing the
// transaction runs after it reads what it wrote. A create under it, of a
// row with a new id in an ordinary table whose owner the caller's
// privilege reaches, sends its INSERT with the COMMIT on PostgreSQL
// (store.AtCommit) and answers with the row built from the values it bound:
// one round trip fewer. The data API's one-row POST creates this way.
// Under a context from Join (a change set, whose later requests may read
// the row) it does nothing.
func WriteLast(ctx context.Context) context.Context {
	return context.WithValue(ctx, writeLastKey{}, true)
}

func isWriteLast(ctx context.Context) bool {
	b, _ := ctx.Value(writeLastKey{}).(bool)
	_, joined := ctx.Value(joinedKey{}).(*Writer)
	return b && !joined
}

// Create inserts a row into table for by and returns it as stored.
func (w *Writer) Create(ctx context.Context, by *security.Principal, table string, input map[string]any) (outpost.Row, error) {
	t, err := w.Schema().LookupTable(table)
	if err != nil {
		return nil, err
	}
	if by.Depth(t, security.Create) == security.None {
		return nil, outpost.Forbiddenf("you lack the create privilege on table %q", t.Name).WithTarget(t.Name)
	}
	if err := requireServerWrite(by, t, "created"); err != nil {
		return nil, err
	}
	row, err := convertInput(t, input, true)
	if err != nil {
		return nil, err
	}
	if err := w.checkLookups(ctx, by, t, "", row); err != nil {
		return nil, err
	}
	if err := w.checkDelegation(ctx, by, t, row); err != nil {
		return nil, err
	}
	if err := w.fillOwnership(ctx, by, t, row); err != nil {
		return nil, err
	}
	owner, _ := row[schema.ColOwnerID].(string)
	checkOwner := !createReaches(by, t, owner)
	ictx := ctx
	if named, _ := row[t.PrimaryKey()].(string); named == "" && !checkOwner && isWriteLast(ctx) && ordinaryTable(t) {
		// Nothing reads the new row before the commit and its id is new:
		// on PostgreSQL the INSERT travels with the COMMIT.
		ictx = store.AtCommit(ctx)
	}
	stored, err := w.p.insertRow(ictx, w.tx, t, row, w.version, by.UserID, w.now)
	if err != nil {
		return nil, err
	}
	id := row[t.PrimaryKey()].(string)
	if checkOwner {
		// The new row must fall inside the caller's create depth; when its
		// owner alone does not tell, the database does.
		if err := w.require(ctx, by, t, id, security.Create); err != nil {
			return nil, outpost.Forbiddenf("your create privilege on table %q does not reach rows owned by %v", t.Name, row[schema.ColOwnerID]).WithTarget(schema.ColOwnerID)
		}
	}
	w.touch(t)
	return stored, nil
}

// createReaches reports whether by's create privilege on t reaches a new
// row owned by owner without reading the row back: always for a table
// without owners.
func createReaches(by *security.Principal, t *schema.Table, owner string) bool {
	return !(t.HasOwner() || t.HasBusinessUnit()) || by.Reaches(t, security.Create, owner)
}

// checkLink runs the checks creating (priv Create) or deleting (priv
// Delete) the relationship row input of table would run, without writing:
// the security functions answer the same when a link exists already, or
// is missing, as when they change it.
func (w *Writer) checkLink(ctx context.Context, by *security.Principal, table string, input map[string]any, priv security.Privilege) error {
	t, err := w.Schema().LookupTable(table)
	if err != nil {
		return err
	}
	if by.Depth(t, priv) == security.None {
		return outpost.Forbiddenf("you lack the %s privilege on table %q", priv, t.Name).WithTarget(t.Name)
	}
	row, err := convertInput(t, input, true)
	if err != nil {
		return err
	}
	if err := w.checkLookups(ctx, by, t, "", row); err != nil {
		return err
	}
	return w.checkDelegation(ctx, by, t, row)
}

// fillOwnership sets ownerid, owneridtype and owningbusinessunit of a new row.
func (w *Writer) fillOwnership(ctx context.Context, by *security.Principal, t *schema.Table, row outpost.Row) error {
	switch t.Ownership {
	case schema.OwnedByUser:
		owner, _ := row[schema.ColOwnerID].(string)
		if owner == "" {
			if by.UserID == "" {
				return outpost.Invalidf("table %q is user owned: set ownerid to a user or team", t.Name).WithTarget(schema.ColOwnerID)
			}
			owner = by.UserID
		}
		typ, bu, err := w.ownerFor(ctx, by, owner)
		if err != nil {
			return err
		}
		if owner != by.UserID && !contains(by.TeamIDs, owner) && by.Depth(t, security.Assign) == security.None {
			return outpost.Forbiddenf("creating a row of table %q owned by someone else needs the assign privilege", t.Name).WithTarget(schema.ColOwnerID)
		}
		row[schema.ColOwnerID], row[schema.ColOwnerIDType], row[schema.ColOwningBusinessUnit] = owner, typ, bu
	case schema.OwnedByBusiness:
		if bu, ok := row["businessunitid"].(string); ok && bu != "" {
			row[schema.ColOwningBusinessUnit] = bu
		}
		if bu, _ := row[schema.ColOwningBusinessUnit].(string); bu == "" {
			if by.BusinessUnitID == "" {
				return outpost.Invalidf("table %q is business owned: set owningbusinessunit", t.Name).WithTarget(schema.ColOwningBusinessUnit)
			}
			row[schema.ColOwningBusinessUnit] = by.BusinessUnitID
		}
		if _, ok := t.Column("businessunitid"); ok {
			row["businessunitid"] = row[schema.ColOwningBusinessUnit]
		}
	}
	return nil
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// Update sets the columns of input on row id of table (PATCH: only the sent
// columns change) and returns the row as stored.
func (w *Writer) Update(ctx context.Context, by *security.Principal, table, id string, input map[string]any) (outpost.Row, error) {
	t, err := w.Schema().LookupTable(table)
	if err != nil {
		return nil, err
	}
	set, invalid := updateInput(by, t, input)
	// The row is checked in the UPDATE itself (its read and write filters
	// in the WHERE: one statement) unless something must look at it first:
	// lookups, whose checks need the row to exist, or an input error, which
	// a caller gets only for a row it may change. Otherwise, and when the
	// UPDATE finds nothing, getAllowed says which error is the caller's
	// (not found, or the privilege it lacks), the same either way.
	read, write := by.Filter(t, security.Read), by.Filter(t, security.Write)
	checked := invalid != nil || read == nil || write == nil || !outpost.ValidID(id) || setsLookups(t, set)
	if checked {
		if _, err := w.getAllowed(ctx, by, t, id, security.Write); err != nil {
			return nil, err
		}
		if invalid != nil {
			return nil, invalid
		}
		if err := w.checkLookups(ctx, by, t, id, set); err != nil {
			return nil, err
		}
	}
	if bu, ok := set["businessunitid"].(string); ok && t.Ownership == schema.OwnedByBusiness {
		set[schema.ColOwningBusinessUnit] = bu
	}
	var allowed func(b *sqlgen.Builder) error
	if !checked {
		allowed = func(b *sqlgen.Builder) error {
			if err := w.accessSQL(b, by, t, read); err != nil {
				return err
			}
			b.SQL(" AND ")
			return w.accessSQL(b, by, t, write)
		}
	}
	row, err := w.p.updateRowReturning(ctx, w.tx, t, id, set, w.version, by.UserID, w.now, allowed)
	if err != nil {
		return nil, err
	}
	if row == nil {
		if !checked {
			if _, err := w.getAllowed(ctx, by, t, id, security.Write); err != nil {
				return nil, err
			}
		}
		// It went between the check and the update.
		return nil, outpost.NotFoundf("no row of table %q has id %s", t.Name, id).WithTarget("id")
	}
	if t.Name == "systemuser" {
		if off, _ := set["isdisabled"].(bool); off {
			if err := w.revokeUserDevices(ctx, id); err != nil {
				return nil, err
			}
		}
	}
	if t.Name == "systemuser" || t.Name == "team" {
		if bu, ok := set["businessunitid"].(string); ok {
			if err := w.followOwnerBusinessUnit(ctx, id, bu); err != nil {
				return nil, err
			}
		}
	}
	w.touchColumns(t, set)
	return row, nil
}

// updateInput converts the input of an update of t, refusing what no
// caller may update through the API.
func updateInput(by *security.Principal, t *schema.Table, input map[string]any) (outpost.Row, error) {
	if err := requireServerWrite(by, t, "changed"); err != nil {
		return nil, err
	}
	set, err := convertInput(t, input, false)
	if err != nil {
		return nil, err
	}
	if t.Intersect {
		return nil, outpost.Invalidf("rows of relationship table %q cannot be updated: delete and create them", t.Name).WithTarget(t.Name)
	}
	return set, nil
}

// setsLookups reports whether set holds a lookup value checkLookups checks.
func setsLookups(t *schema.Table, set outpost.Row) bool {
	for name, v := range set {
		if c, _ := checkedLookup(t, name, v); c != nil {
			return true
		}
	}
	return false
}

// followOwnerBusinessUnit moves the rows owned by a user or team that moved
// to another business unit along with it, as Dataverse does.
func (w *Writer) followOwnerBusinessUnit(ctx context.Context, ownerID, bu string) error {
	d := w.p.db.Dialect
	for _, t := range w.Schema().Tables() {
		if !t.HasOwner() {
			continue
		}
		query, args := sqlgen.NewBuilder(d).
			SQL(`UPDATE `).Ident(t.Name).SQL(` SET owningbusinessunit = `).Arg(bu).SQL(`, versionnumber = `).Arg(w.version).
			SQL(` WHERE ownerid = `).Arg(ownerID).SQL(` AND (owningbusinessunit IS NULL OR owningbusinessunit <> `).Arg(bu).
			SQL(`)`).Build()
		res, err := w.tx.ExecContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("move rows of %s to business unit %s: %w", ownerID, bu, err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			w.touch(t)
		}
	}
	return nil
}

// Delete deletes row id of table, leaving a tombstone. Lookups that referred
// to it are cleared and relationship rows that named it are deleted.
func (w *Writer) Delete(ctx context.Context, by *security.Principal, table, id string) error {
	t, err := w.Schema().LookupTable(table)
	if err != nil {
		return err
	}
	row, err := w.getAllowed(ctx, by, t, id, security.Delete)
	if err != nil {
		return err
	}
	if err := w.checkDelegation(ctx, by, t, row); err != nil {
		return err
	}
	return w.deleteCascade(ctx, t, id)
}

func (w *Writer) deleteCascade(ctx context.Context, t *schema.Table, id string) error {
	if _, err := w.p.deleteRow(ctx, w.tx, t, id, w.version); err != nil {
		return err
	}
	if err := w.deleteFilesOf(ctx, t, []string{id}); err != nil {
		return err
	}
	w.touch(t)
	return w.clearLinksTo(ctx, t, []string{id})
}

// clearLinksTo clears the lookups to rows ids of t, which are being
// deleted, and deletes the relationship rows that name them.
func (w *Writer) clearLinksTo(ctx context.Context, t *schema.Table, ids []string) error {
	d := w.p.db.Dialect
	for _, other := range w.Schema().Tables() {
		for _, c := range other.Columns {
			if c.Type != schema.Lookup || c.Target != t.Name || c.System {
				continue
			}
			b := sqlgen.NewBuilder(d)
			if other.Intersect {
				b.SQL("SELECT ").Ident(other.PrimaryKey()).SQL(" FROM ").Ident(other.Name).SQL(" WHERE ").Ident(c.Name).SQL(" IN (").StringsArgs(ids).SQL(")")
				q, args := b.Build()
				rids, err := store.Strings(ctx, w.tx, q, args...)
				if err != nil {
					return fmt.Errorf("find %s rows of %d deleted %s rows: %w", other.Name, len(ids), t.Name, err)
				}
				for _, rid := range rids {
					if _, err := w.p.deleteRow(ctx, w.tx, other, rid, w.version); err != nil {
						return err
					}
					w.touch(other)
				}
				continue
			}
			b.SQL("UPDATE ").Ident(other.Name).SQL(" SET ").Ident(c.Name).SQL(" = NULL, versionnumber = ").Arg(w.version).
				SQL(" WHERE ").Ident(c.Name).SQL(" IN (").StringsArgs(ids).SQL(")")
			q, args := b.Build()
			res, err := w.tx.ExecContext(ctx, q, args...)
			if err != nil {
				return fmt.Errorf("clear %s.%s of %d deleted %s rows: %w", other.Name, c.Name, len(ids), t.Name, err)
			}
			if n, _ := res.RowsAffected(); n > 0 {
				w.touch(other)
			}
		}
	}
	return nil
}

// Assign makes ownerID (a user or team) the owner of row id of table.
func (w *Writer) Assign(ctx context.Context, by *security.Principal, table, id, ownerID string) (outpost.Row, error) {
	t, err := w.Schema().LookupTable(table)
	if err != nil {
		return nil, err
	}
	if !t.HasOwner() {
		return nil, outpost.Invalidf("table %q is %s owned: its rows have no owner to assign", t.Name, t.Ownership).WithTarget(t.Name)
	}
	if !outpost.ValidID(ownerID) {
		return nil, outpost.Invalidf("ownerid %q is not a user or team id", ownerID).WithTarget(schema.ColOwnerID)
	}
	if _, err := w.getAllowed(ctx, by, t, id, security.Assign); err != nil {
		return nil, err
	}
	if err := requireServerWrite(by, t, "assigned"); err != nil {
		return nil, err
	}
	typ, bu, err := w.ownerOf(ctx, ownerID)
	if err != nil {
		return nil, err
	}
	set := outpost.Row{schema.ColOwnerID: ownerID, schema.ColOwnerIDType: typ, schema.ColOwningBusinessUnit: bu}
	if err := w.p.updateRow(ctx, w.tx, t, id, set, w.version, by.UserID, w.now); err != nil {
		return nil, err
	}
	w.touch(t)
	return w.p.getRow(ctx, w.tx, t, id)
}

// Rights of a share (security.AccessRights, Dataverse's values).
const (
	ShareRead     = int64(security.ReadAccess)
	ShareWrite    = int64(security.WriteAccess)
	ShareAppend   = int64(security.AppendAccess)
	ShareAppendTo = int64(security.AppendToAccess)
	ShareDelete   = int64(security.DeleteAccess)
	ShareShare    = int64(security.ShareAccess)
	ShareAssign   = int64(security.AssignAccess)
)

// Share gives principalID (a user or team) the rights of a mask
// (security.AccessRights) on row id of table: each right lets them use
// one privilege on the row at User depth. Sharing again replaces the
// rights; rights 0 removes the share. Sharing needs the Share privilege on
// the row, and the sharer must hold every privilege the rights give on the
// row themselves: a share never gives more than its sharer has.
func (w *Writer) Share(ctx context.Context, by *security.Principal, table, id, principalID string, rights int64) error {
	t, err := w.Schema().LookupTable(table)
	if err != nil {
		return err
	}
	mask, err := security.ParseAccessRights(rights)
	if err != nil {
		return err
	}
	if !t.HasOwner() {
		return outpost.Invalidf("table %q is %s owned: only user or team owned rows can be shared", t.Name, t.Ownership).WithTarget(t.Name)
	}
	if _, err := w.getAllowed(ctx, by, t, id, security.Share); err != nil {
		return err
	}
	for _, priv := range mask.Privileges() {
		ok, err := w.matches(ctx, by, t, id, by.Filter(t, priv))
		if err != nil {
			return err
		}
		if !ok {
			return outpost.Forbiddenf("you cannot share the %s right on this row of table %q: you lack the %s privilege on it yourself", priv, t.Name, priv).WithTarget("rights")
		}
	}
	if !outpost.ValidID(principalID) {
		return outpost.Invalidf("principalid %q is not a user or team id", principalID).WithTarget("principalid")
	}
	if _, _, err := w.ownerOf(ctx, principalID); err != nil {
		return outpost.Invalidf("principal %s is neither a user nor a team", principalID).WithTarget("principalid")
	}
	d := w.p.db.Dialect
	query, args := sqlgen.NewBuilder(d).
		SQL(`DELETE FROM outpost_share WHERE objecttable = `).Arg(t.Name).SQL(` AND objectid = `).Arg(id).
		SQL(` AND principalid = `).Arg(principalID).Build()
	if _, err := w.tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("share %s %s: %w", t.Name, id, err)
	}
	if rights != 0 {
		if _, err := w.tx.ExecContext(ctx, `INSERT INTO outpost_share (objecttable, objectid, principalid, accessmask, version) VALUES (`+d.Placeholders(1, 5)+`)`,
			t.Name, id, principalID, rights, w.version); err != nil {
			return fmt.Errorf("share %s %s: %w", t.Name, id, err)
		}
	}
	// Sharing moves the row into or out of scopes without changing the row;
	// stamping it lets deltas see it.
	query, args = sqlgen.NewBuilder(d).
		SQL(`UPDATE `).Ident(t.Name).SQL(` SET versionnumber = `).Arg(w.version).SQL(` WHERE `).Ident(t.PrimaryKey()).
		SQL(` = `).Arg(id).Build()
	if _, err := w.tx.ExecContext(ctx, query, args...); err != nil {
		return fmt.Errorf("stamp shared row %s %s: %w", t.Name, id, err)
	}
	w.touch(t)
	return nil
}
