// Package schema is Outpost's metadata model: tables, typed columns,
// ownership types, relationships and the offline flags, plus the built-in
// tables every environment starts with. It validates metadata changes; it
// knows no SQL.
package schema

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/outposthq/outpost"
)

// Type is a column's data type.
type Type string

// The column types of contract §1. ID is the primary key type (a UUID).
const (
	ID       Type = "uniqueidentifier"
	Text     Type = "text"
	Memo     Type = "memo"
	Integer  Type = "integer"
	Decimal  Type = "decimal"
	Money    Type = "money"
	Boolean  Type = "boolean"
	DateTime Type = "datetime"
	Choice   Type = "choice"
	Lookup   Type = "lookup"
	Owner    Type = "owner"
	File     Type = "file"
	Image    Type = "image"
)

// Types lists every column type a maker may create, in documentation order.
var Types = []Type{Text, Memo, Integer, Decimal, Money, Boolean, DateTime, Choice, Lookup, Owner, File, Image}

// Valid reports whether t is a known type.
func (t Type) Valid() bool {
	if t == ID {
		return true
	}
	for _, x := range Types {
		if x == t {
			return true
		}
	}
	return false
}

// IsReference reports whether values of t are row ids (lookup, owner, primary key).
func (t Type) IsReference() bool { return t == ID || t == Lookup || t == Owner }

// IsString reports whether values of t are strings in Go.
func (t Type) IsString() bool {
	switch t {
	case Text, Memo, ID, Lookup, Owner, File, Image:
		return true
	}
	return false
}

// IsNumeric reports whether t holds numbers.
func (t Type) IsNumeric() bool {
	switch t {
	case Integer, Decimal, Money, Choice:
		return true
	}
	return false
}

// Ownership is a table's ownership type. It decides which system columns a
// table has, which privilege depths apply, and which offline rules are offered.
type Ownership string

// The ownership types.
const (
	OwnedByUser         Ownership = "user" // user or team owned
	OwnedByOrganization Ownership = "organization"
	OwnedByBusiness     Ownership = "business"
	OwnedByNone         Ownership = "none"
)

// Valid reports whether o is a known ownership type.
func (o Ownership) Valid() bool {
	switch o {
	case OwnedByUser, OwnedByOrganization, OwnedByBusiness, OwnedByNone:
		return true
	}
	return false
}

// Option is one value of a choice column.
type Option struct {
	Value int64  `json:"value"`
	Label string `json:"label"`
}

// Column is one typed column of a table.
type Column struct {
	Name        string   `json:"name"`
	DisplayName string   `json:"displayName,omitempty"`
	Type        Type     `json:"type"`
	Required    bool     `json:"required,omitempty"`
	MaxLength   int      `json:"maxLength,omitempty"` // text and memo; 0 means the type's default
	Target      string   `json:"target,omitempty"`    // lookup: the referenced table
	Options     []Option `json:"options,omitempty"`   // choice: the allowed values
	System      bool     `json:"system,omitempty"`    // maintained by Outpost; not writable by clients
	ReadOnly    bool     `json:"readOnly,omitempty"`  // writable only on create (or never, for system columns)
}

// Default maximum lengths of text columns.
const (
	DefaultTextLength = 100
	MaxTextLength     = 4000
	DefaultMemoLength = 2000
	MaxMemoLength     = 1048576
)

// Limit returns the maximum length in characters of a text or memo value.
func (c *Column) Limit() int {
	if c.MaxLength > 0 {
		return c.MaxLength
	}
	if c.Type == Memo {
		return DefaultMemoLength
	}
	return DefaultTextLength
}

// HasOption reports whether v is one of the choice column's values.
func (c *Column) HasOption(v int64) bool {
	for _, o := range c.Options {
		if o.Value == v {
			return true
		}
	}
	return false
}

// Table is one table's metadata.
type Table struct {
	Name        string    `json:"name"`
	DisplayName string    `json:"displayName,omitempty"`
	PluralName  string    `json:"pluralName,omitempty"`
	Ownership   Ownership `json:"ownership"`
	PrimaryName string    `json:"primaryName"` // the primary name column
	Columns     []Column  `json:"columns"`
	// Offline is "Can be taken offline". Turning it on also turns on change
	// tracking, and neither can be turned off again.
	Offline        bool `json:"offline"`
	ChangeTracking bool `json:"changeTracking"`
	// NeverOffline marks tables that can never be taken offline (the profile
	// tables, for instance).
	NeverOffline bool `json:"neverOffline,omitempty"`
	BuiltIn      bool `json:"builtIn,omitempty"`
	// Intersect marks the hidden table of an N:N relationship.
	Intersect bool `json:"intersect,omitempty"`
}

// PrimaryKey returns the primary key column name: the table name plus "id".
func (t *Table) PrimaryKey() string { return t.Name + "id" }

// Column returns the named column.
func (t *Table) Column(name string) (*Column, bool) {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i], true
		}
	}
	return nil, false
}

// ColumnNames returns the names of all columns in definition order.
func (t *Table) ColumnNames() []string {
	names := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		names[i] = c.Name
	}
	return names
}

// HasOwner reports whether rows of t have an owner (user or team owned).
func (t *Table) HasOwner() bool { return t.Ownership == OwnedByUser }

// HasBusinessUnit reports whether rows of t carry owningbusinessunit.
func (t *Table) HasBusinessUnit() bool {
	return t.Ownership == OwnedByUser || t.Ownership == OwnedByBusiness
}

// RelKind is a relationship's cardinality seen from its Table.
type RelKind string

// The relationship kinds.
const (
	ManyToOne  RelKind = "N:1"
	OneToMany  RelKind = "1:N"
	ManyToMany RelKind = "N:N"
)

// Relationship links two tables. N:1 and 1:N come from a lookup column (the
// 1:N is the N:1 seen from the referenced table and shares its name, except for a
// self-referencing lookup: see ReferencedName); N:N goes
// through an intersect table holding one lookup to each side.
type Relationship struct {
	Name string  `json:"name"`
	Kind RelKind `json:"kind"`
	// Table is the table the relationship is seen from; Related the other end.
	Table   string `json:"table"`
	Related string `json:"related"`
	// Column is the lookup column: on Table for N:1, on Related for 1:N.
	Column string `json:"column,omitempty"`
	// Intersect, IntersectColumn and RelatedColumn describe N:N: the
	// intersect table, its column referencing Table and the one referencing Related.
	Intersect       string `json:"intersect,omitempty"`
	IntersectColumn string `json:"intersectColumn,omitempty"`
	RelatedColumn   string `json:"relatedColumn,omitempty"`
}

// ManyToManyDef is a declared N:N relationship between two tables.
type ManyToManyDef struct {
	Name      string `json:"name"`
	Table1    string `json:"table1"`
	Table2    string `json:"table2"`
	Intersect string `json:"intersect"`
}

// Schema is a consistent set of tables and N:N relationships. It is
// immutable: changes produce a new Schema through With* methods.
type Schema struct {
	tables map[string]*Table
	nn     []ManyToManyDef
	// rels caches Relationships per table: a Schema never changes, and
	// plans and filter checks ask for relationships on every sync request.
	rels sync.Map // table name -> []Relationship
}

// New builds a Schema from tables and N:N definitions and validates it.
func New(tables []*Table, nn []ManyToManyDef) (*Schema, error) {
	s := &Schema{tables: make(map[string]*Table, len(tables)), nn: nn}
	for _, t := range tables {
		if _, dup := s.tables[t.Name]; dup {
			return nil, outpost.Conflictf("table %q is defined twice", t.Name).WithTarget(t.Name)
		}
		s.tables[t.Name] = t
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	return s, nil
}

// Table returns the named table.
func (s *Schema) Table(name string) (*Table, bool) {
	t, ok := s.tables[name]
	return t, ok
}

// MustTable returns the named table and panics if it does not exist; for
// built-in tables whose presence is an invariant.
func (s *Schema) MustTable(name string) *Table {
	t, ok := s.tables[name]
	if !ok {
		panic("schema: missing table " + name)
	}
	return t
}

// LookupTable returns the named table or a CodeNotFound error naming it.
func (s *Schema) LookupTable(name string) (*Table, error) {
	t, ok := s.tables[name]
	if !ok {
		return nil, outpost.NotFoundf("table %q does not exist", name).WithTarget(name)
	}
	return t, nil
}

// Tables returns every table sorted by name.
func (s *Schema) Tables() []*Table {
	out := make([]*Table, 0, len(s.tables))
	for _, t := range s.tables {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ManyToMany returns the declared N:N relationships.
func (s *Schema) ManyToMany() []ManyToManyDef { return append([]ManyToManyDef(nil), s.nn...) }

// Relationships returns every relationship seen from table, sorted by kind and name.
func (s *Schema) Relationships(table string) []Relationship {
	return slices.Clone(s.relationships(table))
}

// relationships is Relationships without the copy; callers must not modify it.
func (s *Schema) relationships(table string) []Relationship {
	if v, ok := s.rels.Load(table); ok {
		return v.([]Relationship)
	}
	var out []Relationship
	for _, t := range s.Tables() {
		for _, c := range t.Columns {
			if c.Type != Lookup || c.Target == "" {
				continue
			}
			name := RelationshipName(t.Name, c.Name)
			if t.Name == table {
				out = append(out, Relationship{Name: name, Kind: ManyToOne, Table: table, Related: c.Target, Column: c.Name})
			}
			if c.Target == table {
				if t.Name == table {
					// A self-referencing lookup is seen from both ends in
					// one table: the 1:N end gets its own name.
					name = ReferencedName(name)
				}
				out = append(out, Relationship{Name: name, Kind: OneToMany, Table: table, Related: t.Name, Column: c.Name})
			}
		}
	}
	for _, d := range s.nn {
		c1, c2 := intersectColumns(d)
		if d.Table1 == table {
			out = append(out, Relationship{Name: d.Name, Kind: ManyToMany, Table: table, Related: d.Table2, Intersect: d.Intersect, IntersectColumn: c1, RelatedColumn: c2})
		}
		if d.Table2 == table && d.Table1 != d.Table2 {
			out = append(out, Relationship{Name: d.Name, Kind: ManyToMany, Table: table, Related: d.Table1, Intersect: d.Intersect, IntersectColumn: c2, RelatedColumn: c1})
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Name < out[j].Name
	})
	s.rels.Store(table, out)
	return out
}

// Relationship returns the relationship named name seen from table. Names
// are unique per table: a self-referencing lookup (account.parentaccountid)
// is the N:1 account_parentaccountid and the 1:N
// referenced_account_parentaccountid (ReferencedName).
func (s *Schema) Relationship(table, name string) (Relationship, bool) {
	for _, r := range s.relationships(table) {
		if r.Name == name {
			return r, true
		}
	}
	return Relationship{}, false
}

// ReferencedName is the name of the 1:N end of the self-referencing
// relationship name, as Dataverse prefixes the referenced end's navigation
// property: "referenced_account_parentaccountid".
func ReferencedName(name string) string { return "referenced_" + name }

// RelationshipName is the name of the N:1 relationship of a lookup column:
// "table_column", as in "workorder_customerid".
func RelationshipName(table, column string) string { return table + "_" + column }

// WithTable returns a new Schema with t added or replaced.
func (s *Schema) WithTable(t *Table) (*Schema, error) {
	tables := make([]*Table, 0, len(s.tables)+1)
	for _, x := range s.tables {
		if x.Name != t.Name {
			tables = append(tables, x)
		}
	}
	tables = append(tables, t)
	return New(tables, s.nn)
}

// WithManyToMany returns a new Schema with the N:N relationship d and its
// intersect table added.
func (s *Schema) WithManyToMany(d ManyToManyDef) (*Schema, error) {
	for _, x := range s.nn {
		if x.Name == d.Name {
			return nil, outpost.Conflictf("relationship %q already exists", d.Name).WithTarget(d.Name)
		}
	}
	if _, exists := s.tables[d.Intersect]; exists {
		return nil, outpost.Conflictf("table %q already exists; choose another intersect name", d.Intersect).WithTarget("intersect")
	}
	for _, name := range []string{d.Table1, d.Table2} {
		if _, ok := s.tables[name]; !ok {
			return nil, outpost.NotFoundf("table %q does not exist", name).WithTarget(name)
		}
	}
	tables := make([]*Table, 0, len(s.tables)+1)
	for _, x := range s.tables {
		tables = append(tables, x)
	}
	tables = append(tables, IntersectTable(d))
	return New(tables, append(append([]ManyToManyDef(nil), s.nn...), d))
}

// intersectColumns names the intersect table's lookups to Table1 and Table2;
// a self-referencing N:N calls the second one "related<table>id".
func intersectColumns(d ManyToManyDef) (c1, c2 string) {
	c1, c2 = d.Table1+"id", d.Table2+"id"
	if c1 == c2 {
		c2 = "related" + c2
	}
	return c1, c2
}

// IntersectTable returns the hidden table that holds the pairs of an N:N relationship.
func IntersectTable(d ManyToManyDef) *Table {
	c1, c2 := intersectColumns(d)
	t := &Table{
		Name: d.Intersect, Ownership: OwnedByNone, Intersect: true, PrimaryName: c1,
		Columns: []Column{
			{Name: c1, Type: Lookup, Target: d.Table1, Required: true},
			{Name: c2, Type: Lookup, Target: d.Table2, Required: true},
		},
	}
	return WithSystemColumns(t)
}

func (s *Schema) validate() error {
	for _, t := range s.tables {
		if err := ValidateTable(t); err != nil {
			return err
		}
		for _, c := range t.Columns {
			if c.Type == Lookup && c.Target != "" {
				if _, ok := s.tables[c.Target]; !ok {
					return outpost.Invalidf("column %q of table %q looks up table %q, which does not exist", c.Name, t.Name, c.Target).WithTarget(t.Name + "." + c.Name)
				}
			}
		}
	}
	return nil
}

// ValidName reports whether name is a valid table or column name: 2 to 50
// characters, lowercase letters, digits and underscores, starting with a letter.
func ValidName(name string) bool {
	if len(name) < 2 || len(name) > 50 {
		return false
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z':
		case (r >= '0' && r <= '9' || r == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

const nameRule = "2 to 50 characters: lowercase letters, digits and underscores, starting with a letter"

// ValidateTable checks one table's own definition.
func ValidateTable(t *Table) error {
	if !ValidName(t.Name) {
		return outpost.Invalidf("table name %q is not valid: use %s", t.Name, nameRule).WithTarget("name")
	}
	if !t.Ownership.Valid() {
		return outpost.Invalidf("table %q: ownership %q is not valid: use user, organization, business or none", t.Name, t.Ownership).WithTarget("ownership")
	}
	seen := map[string]bool{}
	for _, c := range t.Columns {
		if err := ValidateColumn(t.Name, &c); err != nil {
			return err
		}
		if seen[c.Name] {
			return outpost.Conflictf("table %q: column %q is defined twice", t.Name, c.Name).WithTarget(c.Name)
		}
		seen[c.Name] = true
	}
	if _, ok := t.Column(t.PrimaryKey()); !ok {
		return outpost.Invalidf("table %q has no primary key column %q", t.Name, t.PrimaryKey()).WithTarget(t.Name)
	}
	if pn, ok := t.Column(t.PrimaryName); !ok || (pn.Type != Text && pn.Type != ID && pn.Type != Lookup) {
		return outpost.Invalidf("table %q: primary name column %q must be a text column of the table", t.Name, t.PrimaryName).WithTarget("primaryName")
	}
	if t.Offline && !t.ChangeTracking {
		return outpost.Invalidf("table %q: offline tables need change tracking", t.Name).WithTarget("changeTracking")
	}
	if t.Offline && t.NeverOffline {
		return outpost.Invalidf("table %q can never be taken offline", t.Name).WithTarget("offline")
	}
	return nil
}

// ValidateColumn checks one column's definition.
func ValidateColumn(table string, c *Column) error {
	target := c.Name
	if !ValidName(c.Name) {
		return outpost.Invalidf("table %q: column name %q is not valid: use %s", table, c.Name, nameRule).WithTarget("columns")
	}
	if !c.Type.Valid() {
		names := make([]string, len(Types))
		for i, t := range Types {
			names[i] = string(t)
		}
		return outpost.Invalidf("column %q: type %q is not valid: use one of %s", c.Name, c.Type, strings.Join(names, ", ")).WithTarget(target)
	}
	if c.Type == Lookup && c.Target == "" {
		return outpost.Invalidf("lookup column %q needs a target table", c.Name).WithTarget(target)
	}
	if c.Type != Lookup && c.Target != "" {
		return outpost.Invalidf("column %q: only lookup columns have a target table", c.Name).WithTarget(target)
	}
	if c.Type == Choice && len(c.Options) == 0 {
		return outpost.Invalidf("choice column %q needs at least one option", c.Name).WithTarget(target)
	}
	if c.Type != Choice && len(c.Options) > 0 {
		return outpost.Invalidf("column %q: only choice columns have options", c.Name).WithTarget(target)
	}
	switch c.Type {
	case Text:
		if c.MaxLength < 0 || c.MaxLength > MaxTextLength {
			return outpost.Invalidf("text column %q: maxLength must be between 1 and %d, got %d", c.Name, MaxTextLength, c.MaxLength).WithTarget(target)
		}
	case Memo:
		if c.MaxLength < 0 || c.MaxLength > MaxMemoLength {
			return outpost.Invalidf("memo column %q: maxLength must be between 1 and %d, got %d", c.Name, MaxMemoLength, c.MaxLength).WithTarget(target)
		}
	default:
		if c.MaxLength != 0 {
			return outpost.Invalidf("column %q: maxLength applies to text and memo columns only", c.Name).WithTarget(target)
		}
	}
	seen := map[int64]bool{}
	for _, o := range c.Options {
		if seen[o.Value] {
			return outpost.Invalidf("choice column %q: option value %d is defined twice", c.Name, o.Value).WithTarget(target)
		}
		seen[o.Value] = true
	}
	return nil
}

// Describe returns a one-line description of a relationship for messages,
// such as "workorder.customerid -> account (N:1)".
func (r Relationship) Describe() string {
	switch r.Kind {
	case ManyToOne:
		return fmt.Sprintf("%s.%s -> %s (N:1 %s)", r.Table, r.Column, r.Related, r.Name)
	case OneToMany:
		return fmt.Sprintf("%s <- %s.%s (1:N %s)", r.Table, r.Related, r.Column, r.Name)
	default:
		return fmt.Sprintf("%s <-> %s via %s (N:N %s)", r.Table, r.Related, r.Intersect, r.Name)
	}
}
