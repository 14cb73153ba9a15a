package apps

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/outposthq/outpost/sqlgen"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/store"
)

// The app kinds.
const (
	Canvas      = "canvas"
	ModelDriven = "modeldriven"
)

// appTable returns the built-in table that holds apps of kind.
func appTable(kind string) string {
	if kind == Canvas {
		return "canvasapp"
	}
	return "appmodule"
}

// View is a model-driven view: a table, its columns and an optional filter;
// OrderBy ("column" or "column desc") is its default order and
// SearchColumns the text columns its quick search looks in.
//
// The filter is stored as a JSON condition tree (Filter). A maker may send
// it as OData $filter text (FilterText) instead; the text is checked,
// stored as its tree and never kept itself. Reads carry both: the tree and
// its text, printed from the tree, so a client can show and round-trip it
// (sending both is accepted when they mean the same filter).
type View struct {
	Name          string          `json:"name"`
	Table         string          `json:"table"`
	Columns       []string        `json:"columns,omitempty"`
	Filter        json.RawMessage `json:"filter,omitempty"`
	FilterText    string          `json:"filterText,omitempty"`
	OrderBy       string          `json:"orderBy,omitempty"`
	SearchColumns []string        `json:"searchColumns,omitempty"`
}

// Form is a model-driven form: a table and the columns it shows, grouped
// in sections; Required and ReadOnly name columns of the form that must
// have a value, or that the form shows without letting them change.
type Form struct {
	Name     string    `json:"name"`
	Table    string    `json:"table"`
	Columns  []string  `json:"columns,omitempty"`
	Sections []Section `json:"sections,omitempty"`
	Required []string  `json:"required,omitempty"`
	ReadOnly []string  `json:"readOnly,omitempty"`
}

// Section is a titled group of a form's columns.
type Section struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
}

// Definition is what an app uses: its main tables, views and forms.
type Definition struct {
	Tables []string `json:"tables"`
	Views  []View   `json:"views,omitempty"`
	Forms  []Form   `json:"forms,omitempty"`
}

// App is a canvas or model-driven app.
type App struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	Name        string     `json:"name"`
	DisplayName string     `json:"displayName,omitempty"`
	Definition  Definition `json:"definition"`
	// Offline is "Can be used offline"; ProfileID is its one profile.
	Offline   bool   `json:"offline"`
	ProfileID string `json:"profileId,omitempty"`
	// ProfileVersion is the profile version the app is published against:
	// its devices get that version until the app is published again.
	// NewestProfileVersion is the profile's newest published version, and
	// NeedsRepublish says the two differ.
	ProfileVersion       int64      `json:"profileVersion,omitempty"`
	NewestProfileVersion int64      `json:"newestProfileVersion,omitempty"`
	NeedsRepublish       bool       `json:"needsRepublish"`
	PublishedOn          *time.Time `json:"publishedOn,omitempty"`
	// Solutions are the unique names of the solutions holding the app.
	Solutions []string `json:"solutions"`
	// Bundle describes a canvas app's uploaded web bundle; nil when none
	// is uploaded yet (and always for a model-driven app).
	Bundle *BundleInfo `json:"bundle,omitempty"`
}

// BundleInfo is what an app's listing says about its canvas bundle.
type BundleInfo struct {
	Size       int64     `json:"size"`
	SHA256     string    `json:"sha256"`
	ModifiedOn time.Time `json:"modifiedOn"`
}

// AppInput creates an app. OwnerID sets the owner of a canvas app (default
// the caller).
type AppInput struct {
	Kind        string     `json:"kind"`
	Name        string     `json:"name"`
	DisplayName string     `json:"displayName"`
	Definition  Definition `json:"definition"`
	OwnerID     string     `json:"ownerId,omitempty"`
}

// OfflineInput turns an app's "Can be used offline" on (with its profile)
// or off.
type OfflineInput struct {
	Enabled   bool   `json:"enabled"`
	ProfileID string `json:"profileId"`
}

// checkDefinition checks d against the schema and puts it in stored form:
// a view's filter text becomes its JSON tree.
func checkDefinition(sch *schema.Schema, d *Definition) error {
	for i, name := range d.Tables {
		if _, err := sch.LookupTable(name); err != nil {
			return outpost.Invalidf("definition.tables[%d]: table %q does not exist", i, name).WithTarget("definition.tables")
		}
	}
	for i := range d.Views {
		v := &d.Views[i]
		t, err := sch.LookupTable(v.Table)
		if err != nil {
			return outpost.Invalidf("definition.views[%d]: table %q does not exist", i, v.Table).WithTarget("definition.views")
		}
		if err := checkColumns(t, v.Columns, fmt.Sprintf("definition.views[%d]", i)); err != nil {
			return err
		}
		if err := viewFilterText(sch, t, v, fmt.Sprintf("definition.views[%d]", i)); err != nil {
			return err
		}
		if err := checkView(t, *v, fmt.Sprintf("definition.views[%d]", i)); err != nil {
			return err
		}
	}
	for i, f := range d.Forms {
		t, err := sch.LookupTable(f.Table)
		if err != nil {
			return outpost.Invalidf("definition.forms[%d]: table %q does not exist", i, f.Table).WithTarget("definition.forms")
		}
		if err := checkColumns(t, f.Columns, fmt.Sprintf("definition.forms[%d]", i)); err != nil {
			return err
		}
		if err := checkForm(f, fmt.Sprintf("definition.forms[%d]", i)); err != nil {
			return err
		}
	}
	return nil
}

// viewFilterText turns view v's OData filter text into its JSON tree, so
// only the tree is stored. Errors name the field
// (definition.views[i].filterText or .filter) with the line and column in
// the text.
func viewFilterText(sch *schema.Schema, t *schema.Table, v *View, where string) error {
	f, err := profile.CheckFilterForms(sch, t.Name, profile.FilterForms{Filter: v.Filter, FilterText: v.FilterText}, fmt.Sprintf("view %q", v.Name), where+".")
	if err != nil {
		return err
	}
	v.Filter, v.FilterText = f.Filter, ""
	return nil
}

// withFilterText fills each view's FilterText from its stored tree, for
// reading; a tree that no longer parses is left without text.
func withFilterText(d *Definition) {
	for i := range d.Views {
		v := &d.Views[i]
		if len(v.Filter) == 0 || string(v.Filter) == "null" {
			continue
		}
		if e, err := filter.ParseJSON(v.Filter); err == nil {
			v.FilterText = filter.String(e)
		}
	}
}

// stored returns d as it is stored and exported: views without filter text.
func (d Definition) stored() Definition {
	d.Views = slices.Clone(d.Views)
	for i := range d.Views {
		d.Views[i].FilterText = ""
	}
	return d
}

// checkView checks a view's order and search columns.
func checkView(t *schema.Table, v View, where string) error {
	if v.OrderBy != "" {
		col, dir, _ := strings.Cut(strings.TrimSpace(v.OrderBy), " ")
		if _, ok := t.Column(col); !ok {
			return outpost.NotFoundf("%s.orderBy: table %q has no column %q", where, t.Name, col).WithTarget(where + ".orderBy")
		}
		if d := strings.ToLower(strings.TrimSpace(dir)); d != "" && d != "asc" && d != "desc" {
			return outpost.Invalidf("%s.orderBy: %q is not a direction: use asc or desc after the column", where, dir).WithTarget(where + ".orderBy")
		}
	}
	for _, c := range v.SearchColumns {
		col, ok := t.Column(c)
		if !ok {
			return outpost.NotFoundf("%s.searchColumns: table %q has no column %q", where, t.Name, c).WithTarget(where + ".searchColumns")
		}
		if col.Type != schema.Text && col.Type != schema.Memo {
			return outpost.Invalidf("%s.searchColumns: column %q is %s; quick search looks in text and memo columns", where, c, col.Type).WithTarget(where + ".searchColumns")
		}
	}
	return nil
}

// checkForm checks that sections, required and read-only columns are
// columns of the form.
func checkForm(f Form, where string) error {
	in := map[string]bool{}
	for _, c := range f.Columns {
		in[c] = true
	}
	lists := []struct {
		name string
		cols []string
	}{{"required", f.Required}, {"readOnly", f.ReadOnly}}
	for i, s := range f.Sections {
		if strings.TrimSpace(s.Name) == "" {
			return outpost.Invalidf("%s.sections[%d]: a section needs a name", where, i).WithTarget(fmt.Sprintf("%s.sections[%d].name", where, i))
		}
		lists = append(lists, struct {
			name string
			cols []string
		}{fmt.Sprintf("sections[%d]", i), s.Columns})
	}
	for _, l := range lists {
		for _, c := range l.cols {
			if !in[c] {
				return outpost.Invalidf("%s.%s: column %q is not among the form's columns %v", where, l.name, c, f.Columns).WithTarget(where + "." + l.name)
			}
		}
	}
	return nil
}

func checkColumns(t *schema.Table, cols []string, where string) error {
	for _, c := range cols {
		if _, ok := t.Column(c); !ok {
			return outpost.Invalidf("%s: table %q has no column %q", where, t.Name, c).WithTarget(where)
		}
	}
	return nil
}

// CreateApp creates a canvas or model-driven app.
func (s *Service) CreateApp(ctx context.Context, by *security.Principal, in AppInput) (*App, error) {
	if in.Kind != Canvas && in.Kind != ModelDriven {
		return nil, outpost.Invalidf("app kind %q is not valid: use canvas or modeldriven", in.Kind).WithTarget("kind")
	}
	if strings.TrimSpace(in.Name) == "" || len([]rune(in.Name)) > 100 {
		return nil, outpost.Invalidf("app name must be 1 to 100 characters, got %d", len([]rune(in.Name))).WithTarget("name")
	}
	if err := checkDefinition(s.p.Schema(), &in.Definition); err != nil {
		return nil, err
	}
	def, err := jsonString(in.Definition)
	if err != nil {
		return nil, err
	}
	var id string
	err = s.p.Write(ctx, func(w *platform.Writer) error {
		table := appTable(in.Kind)
		taken, err := s.nameTaken(ctx, w.Tx(), in.Kind, in.Name)
		if err != nil {
			return err
		}
		if taken {
			return outpost.Conflictf("a %s app named %q already exists", in.Kind, in.Name).WithTarget("name")
		}
		row := map[string]any{"name": in.Name, "canbeusedoffline": false}
		if in.Kind == ModelDriven {
			row["uniquename"] = in.Name // appmodule has no display name
		} else {
			row["displayname"] = in.DisplayName
		}
		if in.OwnerID != "" && in.Kind == Canvas {
			row["ownerid"] = in.OwnerID
		}
		created, err := w.Create(ctx, by, table, row)
		if err != nil {
			return err
		}
		id = created[table+"id"].(string)
		return s.insertDefinition(ctx, w.Tx(), id, in.Kind, def)
	})
	if err != nil {
		return nil, err
	}
	return s.GetApp(ctx, by, id)
}

// appKind returns the kind of app id, or a not-found error, with its
// definition, the profile version it is published against and when it was
// published.
func (s *Service) appKind(ctx context.Context, q store.Querier, id string) (kind, def string, pin int64, on time.Time, err error) {
	if !outpost.ValidID(id) {
		return "", "", 0, on, outpost.Invalidf("%q is not an app id", id).WithTarget("id")
	}
	var pub any
	err = s.stmt(`SELECT kind, definition, profileversion, publishedon FROM outpost_app WHERE appid = `).Arg(id).QueryRow(ctx, q).Scan(&kind, &def, &pin, &pub)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", 0, on, outpost.NotFoundf("no app has id %s", id).WithTarget("id")
	}
	if err != nil {
		return "", "", 0, on, fmt.Errorf("load app %s: %w", id, err)
	}
	return kind, def, pin, sqlgen.TimeValue(pub), nil
}

// servedVersion is the profile version the devices of an app get: the one
// it is published against (pin), or, for an app bound before versions were
// recorded (pin 0), the newest.
func servedVersion(pin, newest int64) int64 {
	if pin == 0 || pin > newest {
		return newest
	}
	return pin
}

// GetApp returns app id as by may read it.
func (s *Service) GetApp(ctx context.Context, by *security.Principal, id string) (*App, error) {
	kind, def, pin, on, err := s.appKind(ctx, s.p.DB().Read, id)
	if err != nil {
		return nil, err
	}
	row, err := s.p.Get(ctx, by, appTable(kind), id, nil)
	if err != nil {
		return nil, err
	}
	a := &App{ID: id, Kind: kind, Solutions: []string{}}
	if !on.IsZero() {
		a.PublishedOn = &on
	}
	if err := json.Unmarshal([]byte(def), &a.Definition); err != nil {
		return nil, fmt.Errorf("decode app %s: %w", id, err)
	}
	withFilterText(&a.Definition)
	a.Name, _ = row["name"].(string)
	a.DisplayName, _ = row["displayname"].(string)
	a.Offline, _ = row["canbeusedoffline"].(bool)
	a.ProfileID, _ = row["mobileofflineprofileid"].(string)
	if a.Offline && a.ProfileID != "" {
		newest, err := s.Newest(ctx, s.p.DB().Read, a.ProfileID)
		if err != nil {
			return nil, err
		}
		if newest > 0 {
			a.ProfileVersion, a.NewestProfileVersion = servedVersion(pin, newest), newest
			a.NeedsRepublish = a.ProfileVersion < newest
		}
	}
	query, args := s.stmt(`SELECT s.uniquename FROM outpost_solution s JOIN outpost_solutioncomponent c ON c.solutionid = s.solutionid WHERE c.kind = 'app' AND c.objectid = `).
		Arg(id).SQL(` ORDER BY s.uniquename`).Build()
	a.Solutions, err = store.Strings(ctx, s.p.DB().Read, query, args...)
	if err != nil {
		return nil, fmt.Errorf("load solutions of app %s: %w", id, err)
	}
	if a.Solutions == nil {
		a.Solutions = []string{}
	}
	if kind == Canvas {
		if a.Bundle, err = s.bundleInfo(ctx, id); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// ListApps returns every app by may read, canvas apps first, by name.
func (s *Service) ListApps(ctx context.Context, by *security.Principal) ([]*App, error) {
	out := []*App{}
	for _, kind := range []string{Canvas, ModelDriven} {
		table := appTable(kind)
		if by.Depth(s.p.Schema().MustTable(table), security.Read) == security.None {
			continue
		}
		page, err := s.p.List(ctx, by, table, platform.Query{Select: []string{"name"}, PageSize: platform.MaxPageSize, OrderBy: []platform.Order{{Column: "name"}}})
		if err != nil {
			return nil, err
		}
		for _, r := range page.Rows {
			a, err := s.GetApp(ctx, by, r[table+"id"].(string))
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// DeleteApp deletes an app.
func (s *Service) DeleteApp(ctx context.Context, by *security.Principal, id string) error {
	a, err := s.GetApp(ctx, by, id)
	if err != nil {
		return err
	}
	return s.p.Write(ctx, func(w *platform.Writer) error {
		if err := w.Delete(ctx, by, appTable(a.Kind), id); err != nil {
			return err
		}
		if err := s.execEach(ctx, w.Tx(), id, `DELETE FROM outpost_app WHERE appid = `, `DELETE FROM outpost_canvasbundle WHERE appid = `,
			`DELETE FROM outpost_solutioncomponent WHERE kind = 'app' AND objectid = `); err != nil {
			return fmt.Errorf("delete app %s: %w", id, err)
		}
		return nil
	})
}

// SetOffline turns an app's "Can be used offline" on with one published
// profile, or off. A canvas app must be in a solution first.
func (s *Service) SetOffline(ctx context.Context, by *security.Principal, id string, in OfflineInput) (*App, error) {
	a, err := s.GetApp(ctx, by, id)
	if err != nil {
		return nil, err
	}
	if in.Enabled {
		if a.Kind == Canvas && len(a.Solutions) == 0 {
			return nil, offlineNeedsSolution(a.Name)
		}
		if in.ProfileID == "" {
			return nil, outpost.Invalidf("an offline app needs exactly one profile: set profileId").WithTarget("profileId")
		}
		p, err := s.Get(ctx, by, in.ProfileID)
		if err != nil {
			return nil, outpost.BodyRef(err, "profileId")
		}
		if p.PublishedVersion == 0 {
			return nil, outpost.Conflictf("offline profile %q is not published: publish it before an app can use it", p.Name).WithTarget("profileId")
		}
	}
	err = s.p.Write(ctx, func(w *platform.Writer) error {
		if in.Enabled {
			return s.bind(ctx, w, by, a, in.ProfileID)
		}
		return s.unbind(ctx, w, by, a)
	})
	if err != nil {
		return nil, err
	}
	return s.GetApp(ctx, by, id)
}

func offlineNeedsSolution(app string) error {
	return outpost.Conflictf("canvas app %q must be in a solution before it can be used offline: add it to a solution first", app).WithTarget("enabled")
}

// bind makes profileID app a's offline profile. The app is published
// against the profile's newest published version: its devices get that
// version until the app is published again.
func (s *Service) bind(ctx context.Context, w *platform.Writer, by *security.Principal, a *App, profileID string) error {
	if _, err := w.Update(ctx, by, appTable(a.Kind), a.ID, map[string]any{"canbeusedoffline": true, "mobileofflineprofileid": profileID}); err != nil {
		return err
	}
	return s.pin(ctx, w, a.ID, profileID)
}

// pin records the newest published version of profileID as the one app
// appID is published against.
func (s *Service) pin(ctx context.Context, w *platform.Writer, appID, profileID string) error {
	newest, err := s.Newest(ctx, w.Tx(), profileID)
	if err != nil {
		return err
	}
	if newest == 0 {
		return outpost.Conflictf("offline profile %s is not published: publish it before an app can use it", profileID).WithTarget("profileId")
	}
	if _, err := s.stmt(`UPDATE outpost_app SET profileversion = `).Arg(newest).SQL(` WHERE appid = `).Arg(appID).Exec(ctx, w.Tx()); err != nil {
		return fmt.Errorf("publish app %s: %w", appID, err)
	}
	return nil
}

// unbind turns app a's offline off.
func (s *Service) unbind(ctx context.Context, w *platform.Writer, by *security.Principal, a *App) error {
	if _, err := w.Update(ctx, by, appTable(a.Kind), a.ID, map[string]any{"canbeusedoffline": false, "mobileofflineprofileid": nil}); err != nil {
		return err
	}
	_, err := s.stmt(`UPDATE outpost_app SET profileversion = 0 WHERE appid = `).Arg(a.ID).Exec(ctx, w.Tx())
	return err
}

// PublishApp publishes an app, which clears its needs-republish flag.
func (s *Service) PublishApp(ctx context.Context, by *security.Principal, id string) (*App, error) {
	a, err := s.GetApp(ctx, by, id)
	if err != nil {
		return nil, err
	}
	err = s.p.Write(ctx, func(w *platform.Writer) error {
		// Writing the app row checks by's write privilege on it.
		if _, err := w.Update(ctx, by, appTable(a.Kind), id, map[string]any{"name": a.Name}); err != nil {
			return err
		}
		if _, err := s.stmt(`UPDATE outpost_app SET publishedon = `).Arg(s.timeArg(w.Now())).SQL(` WHERE appid = `).Arg(id).Exec(ctx, w.Tx()); err != nil {
			return err
		}
		if a.Offline && a.ProfileID != "" {
			return s.pin(ctx, w, id, a.ProfileID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.GetApp(ctx, by, id)
}

// AppRef is one app in a profile's app-usage list.
type AppRef struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	Name string `json:"name"`
	// ProfileVersion is the version the app's devices get.
	ProfileVersion int64 `json:"profileVersion,omitempty"`
	NeedsRepublish bool  `json:"needsRepublish"`
	InSolution     bool  `json:"inSolution"`
}

func (s *Service) appsUsing(ctx context.Context, q store.Querier, profileID string) ([]AppRef, error) {
	out := []AppRef{}
	newest, err := s.Newest(ctx, q, profileID)
	if err != nil {
		return nil, err
	}
	for _, kind := range []string{Canvas, ModelDriven} {
		t := appTable(kind)
		rows, err := s.stmt(`SELECT a.`+t+`id, a.name, o.profileversion, (SELECT count(*) FROM outpost_solutioncomponent c WHERE c.kind = 'app' AND c.objectid = a.`+t+`id) FROM `+t+
			` a JOIN outpost_app o ON o.appid = a.`+t+`id WHERE a.mobileofflineprofileid = `).Arg(profileID).SQL(` ORDER BY a.name`).Query(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("list apps of profile %s: %w", profileID, err)
		}
		for rows.Next() {
			r := AppRef{Kind: kind}
			var needs, sols int64
			if err := rows.Scan(&r.ID, &r.Name, &needs, &sols); err != nil {
				rows.Close()
				return nil, fmt.Errorf("list apps of profile %s: %w", profileID, err)
			}
			r.InSolution = sols > 0
			if newest > 0 {
				r.ProfileVersion = servedVersion(needs, newest)
				r.NeedsRepublish = r.ProfileVersion < newest
			}
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// AppUsage lists the apps that use profile id.
func (s *Service) AppUsage(ctx context.Context, by *security.Principal, id string) ([]AppRef, error) {
	if _, err := s.Get(ctx, by, id); err != nil {
		return nil, err
	}
	return s.appsUsing(ctx, s.p.DB().Read, id)
}

// AppProfile returns the published profile id of the offline app appID that
// by may open, and the kind of the app ("canvas" or "modeldriven").
//
// A model-driven app needs read on App (appmodule) and Mobile offline
// profile, which Basic User has; a canvas app needs read on Canvas App,
// Mobile offline profile and Sync Error, which Basic User lacks. A
// restricted profile admits only its users and members of its teams.
func (s *Service) AppProfile(ctx context.Context, by *security.Principal, appID string) (profileID, kind string, err error) {
	kind, _, _, _, err = s.appKind(ctx, s.p.DB().Read, appID)
	if err != nil {
		return "", "", err
	}
	need := []string{"appmodule", "mobileofflineprofile"}
	if kind == Canvas {
		need = []string{"canvasapp", "mobileofflineprofile", "syncerror"}
	}
	sch := s.p.Schema()
	var missing []string
	for _, t := range need {
		if by.Depth(sch.MustTable(t), security.Read) == security.None {
			missing = append(missing, t)
		}
	}
	if len(missing) > 0 {
		return "", "", outpost.Forbiddenf("opening an offline %s app needs read on %s; you lack read on %s", kind, strings.Join(need, ", "), strings.Join(missing, ", ")).WithTarget(appID)
	}
	a, err := s.GetApp(ctx, by, appID)
	if err != nil {
		return "", "", err
	}
	if !a.Offline || a.ProfileID == "" {
		return "", "", outpost.Conflictf("app %q cannot be used offline: turn on \"Can be used offline\" first", a.Name).WithTarget(appID)
	}
	if err := s.CheckAssigned(ctx, by, a.ProfileID, a.Name, appID); err != nil {
		return "", "", err
	}
	return a.ProfileID, kind, nil
}

// AppPatch changes an app after creation; nil fields stay as they are.
type AppPatch struct {
	DisplayName *string     `json:"displayName"`
	Definition  *Definition `json:"definition"`
}

// UpdateApp changes an app's display name or its tables, views and forms.
// Like any change to an app, it takes effect for makers at once; devices
// follow its offline profile, which the definition does not change.
func (s *Service) UpdateApp(ctx context.Context, by *security.Principal, id string, patch AppPatch) (*App, error) {
	a, err := s.GetApp(ctx, by, id)
	if err != nil {
		return nil, err
	}
	def := a.Definition.stored()
	if patch.Definition != nil {
		def = *patch.Definition
		if err := checkDefinition(s.p.Schema(), &def); err != nil {
			return nil, err
		}
	}
	text, err := jsonString(def)
	if err != nil {
		return nil, err
	}
	fields := map[string]any{"name": a.Name}
	if patch.DisplayName != nil {
		if a.Kind != Canvas {
			return nil, outpost.Invalidf("a model-driven app has no display name").WithTarget("displayName")
		}
		fields["displayname"] = *patch.DisplayName
	}
	err = s.p.Write(ctx, func(w *platform.Writer) error {
		// Writing the app row checks by's write privilege on it.
		if _, err := w.Update(ctx, by, appTable(a.Kind), id, fields); err != nil {
			return err
		}
		return s.setDefinition(ctx, w.Tx(), id, text)
	})
	if err != nil {
		return nil, err
	}
	return s.GetApp(ctx, by, id)
}

// AppPlan returns by's download plan for the devices of app appID, whose
// profile is profileID: the profile version the app is published against,
// not a newer one published since (contract §2: after a profile is published, the
// apps that use it must be published too).
func (s *Service) AppPlan(ctx context.Context, by *security.Principal, appID, profileID string) (*profile.Plan, error) {
	kind, _, pin, _, err := s.appKind(ctx, s.p.DB().Read, appID)
	if err != nil {
		return nil, err
	}
	bound, err := s.boundProfile(ctx, s.p.DB().Read, kind, appID)
	if err != nil {
		return nil, err
	}
	if pin == 0 || bound != profileID {
		// Not published against a version of this profile: the newest.
		pin = 1 << 62
	}
	return s.PlanAt(ctx, by, profileID, pin)
}
