package profile

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

// Archive format and limits. Import reads at most MaxArchiveBytes of
// archive and MaxManifestBytes of manifest, whatever the zip headers claim,
// so a zip bomb costs no more than that.
const (
	ArchiveFormat        = "outpost-solution"
	ArchiveFormatVersion = 1
	ManifestName         = "manifest.json"
	MaxArchiveBytes      = 16 << 20
	MaxManifestBytes     = 8 << 20
	MaxArchiveEntries    = 16
)

// Manifest is the content of a solution archive's manifest.json.
type Manifest struct {
	Format        string        `json:"format"`
	FormatVersion int           `json:"formatVersion"`
	Solution      SolutionInput `json:"solution"`
	// Tables are the solution's custom tables.
	Tables []platform.TableInput `json:"tables"`
	// Requires are tables the solution uses but does not carry: the target
	// server must have them.
	Requires []string          `json:"requires"`
	Profiles []ManifestProfile `json:"profiles"`
	Apps     []ManifestApp     `json:"apps"`
}

// ManifestProfile is a profile in an archive: its draft items, and whether
// it was published on the source server.
type ManifestProfile struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	Description   string `json:"description,omitempty"`
	Items         []Item `json:"items"`
	AssignMode    string `json:"assignmentMode"`
	GeneratedFrom string `json:"generatedFrom,omitempty"`
	Published     bool   `json:"published"`
}

// ManifestApp is an app in an archive.
type ManifestApp struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	Name        string     `json:"name"`
	DisplayName string     `json:"displayName,omitempty"`
	Definition  Definition `json:"definition"`
	Offline     bool       `json:"offline"`
	ProfileID   string     `json:"profileId,omitempty"`
}

// Export writes solution uniqueName as a zip archive holding manifest.json.
// An offline app's profile must be in the solution ("add required objects"
// puts it there).
func (s *Service) Export(ctx context.Context, by *security.Principal, uniqueName string) ([]byte, error) {
	sol, err := s.GetSolution(ctx, by, uniqueName)
	if err != nil {
		return nil, err
	}
	m := Manifest{Format: ArchiveFormat, FormatVersion: ArchiveFormatVersion, Tables: []platform.TableInput{}, Requires: []string{},
		Profiles: []ManifestProfile{}, Apps: []ManifestApp{},
		Solution: SolutionInput{UniqueName: sol.UniqueName, Name: sol.Name, Version: sol.Version}}
	sch := s.p.Schema()
	carried, used := map[string]bool{}, map[string]bool{}
	profiles := map[string]bool{}
	for _, c := range sol.Components {
		switch c.Kind {
		case KindTable:
			t, err := sch.LookupTable(c.ID)
			if err != nil {
				return nil, err
			}
			if t.BuiltIn {
				used[t.Name] = true
				continue
			}
			carried[t.Name] = true
			m.Tables = append(m.Tables, tableInput(t))
			for _, col := range t.Columns {
				if col.Type == schema.Lookup && !col.System {
					used[col.Target] = true
				}
			}
		case KindProfile:
			p, err := s.Get(ctx, by, c.ID)
			if err != nil {
				return nil, err
			}
			profiles[p.ID] = true
			m.Profiles = append(m.Profiles, ManifestProfile{ID: p.ID, Name: p.Name, Description: p.Description, Items: p.Items,
				AssignMode: p.Assignment.Mode, GeneratedFrom: p.GeneratedFrom, Published: p.PublishedVersion > 0})
			for _, it := range p.Items {
				used[it.Table] = true
			}
		case KindApp:
			a, err := s.GetApp(ctx, by, c.ID)
			if err != nil {
				return nil, err
			}
			m.Apps = append(m.Apps, ManifestApp{ID: a.ID, Kind: a.Kind, Name: a.Name, DisplayName: a.DisplayName, Definition: a.Definition.stored(), Offline: a.Offline, ProfileID: a.ProfileID})
			for _, t := range appTables(&a.Definition) {
				used[t] = true
			}
		}
	}
	for _, a := range m.Apps {
		if a.ProfileID != "" && !profiles[a.ProfileID] {
			return nil, outpost.Conflictf("app %q uses an offline profile that is not in the solution: add required objects first", a.Name).WithTarget("components")
		}
	}
	for t := range used {
		if !carried[t] {
			m.Requires = append(m.Requires, t)
		}
	}
	sort.Strings(m.Requires)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	f, err := zw.Create(ManifestName)
	if err != nil {
		return nil, fmt.Errorf("write archive: %w", err)
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("write archive: %w", err)
	}
	return buf.Bytes(), nil
}

// tableInput is t as a maker would create it: without system columns.
func tableInput(t *schema.Table) platform.TableInput {
	in := platform.TableInput{Name: t.Name, DisplayName: t.DisplayName, PluralName: t.PluralName, Ownership: t.Ownership, PrimaryName: t.PrimaryName, Offline: t.Offline}
	for _, c := range t.Columns {
		if !c.System {
			in.Columns = append(in.Columns, c)
		}
	}
	return in
}

// ReadManifest reads and checks the manifest of a solution archive,
// guarding against oversized, malformed and hostile archives.
func ReadManifest(data []byte) (*Manifest, error) {
	if len(data) > MaxArchiveBytes {
		return nil, outpost.Errorf(outpost.CodeTooLarge, "the archive is %d bytes; at most %d are accepted", len(data), MaxArchiveBytes).WithTarget("archive")
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, outpost.Invalidf("the archive is not a valid zip file: %v", err).WithTarget("archive")
	}
	if len(zr.File) > MaxArchiveEntries {
		return nil, outpost.Invalidf("the archive has %d files; a solution archive has only %s", len(zr.File), ManifestName).WithTarget("archive")
	}
	var mf *zip.File
	for _, f := range zr.File {
		if f.Name != ManifestName {
			return nil, outpost.Invalidf("unexpected file %q in the archive: a solution archive holds only %s", f.Name, ManifestName).WithTarget("archive")
		}
		if mf != nil {
			return nil, outpost.Invalidf("the archive holds %s twice", ManifestName).WithTarget("archive")
		}
		mf = f
	}
	if mf == nil {
		return nil, outpost.Invalidf("the archive has no %s", ManifestName).WithTarget("archive")
	}
	if mf.UncompressedSize64 > MaxManifestBytes {
		return nil, outpost.Errorf(outpost.CodeTooLarge, "%s is %d bytes uncompressed; at most %d are accepted", ManifestName, mf.UncompressedSize64, MaxManifestBytes).WithTarget("archive")
	}
	rc, err := mf.Open()
	if err != nil {
		return nil, outpost.Invalidf("cannot open %s: %v", ManifestName, err).WithTarget("archive")
	}
	defer rc.Close()
	// The header may lie: never read more than the limit.
	body, err := io.ReadAll(io.LimitReader(rc, MaxManifestBytes+1))
	if err != nil {
		return nil, outpost.Invalidf("cannot read %s: %v", ManifestName, err).WithTarget("archive")
	}
	if len(body) > MaxManifestBytes {
		return nil, outpost.Errorf(outpost.CodeTooLarge, "%s is over %d bytes uncompressed", ManifestName, MaxManifestBytes).WithTarget("archive")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	var m Manifest
	if err := dec.Decode(&m); err != nil {
		return nil, outpost.Invalidf("%s is not a valid manifest: %v", ManifestName, err).WithTarget("manifest")
	}
	if m.Format != ArchiveFormat || m.FormatVersion != ArchiveFormatVersion {
		return nil, outpost.Invalidf("%s has format %q version %d; this server reads %q version %d", ManifestName, m.Format, m.FormatVersion, ArchiveFormat, ArchiveFormatVersion).WithTarget("manifest")
	}
	if !schema.ValidName(m.Solution.UniqueName) {
		return nil, outpost.Invalidf("%s: solution unique name %q is not valid", ManifestName, m.Solution.UniqueName).WithTarget("manifest")
	}
	for _, p := range m.Profiles {
		if !outpost.ValidID(p.ID) {
			return nil, outpost.Invalidf("%s: profile %q has no valid id", ManifestName, p.Name).WithTarget("manifest")
		}
	}
	for _, a := range m.Apps {
		if !outpost.ValidID(a.ID) {
			return nil, outpost.Invalidf("%s: app %q has no valid id", ManifestName, a.Name).WithTarget("manifest")
		}
	}
	return &m, nil
}

// tableOrder orders the archive's tables so that every table comes after
// the archive tables it looks up; a cycle is an error.
func tableOrder(m *Manifest) ([]platform.TableInput, error) {
	byName := map[string]platform.TableInput{}
	for _, t := range m.Tables {
		if _, dup := byName[t.Name]; dup {
			return nil, outpost.Invalidf("%s: table %q is defined twice", ManifestName, t.Name).WithTarget("manifest")
		}
		byName[t.Name] = t
	}
	state := map[string]int{}
	var out []platform.TableInput
	var path []string
	var visit func(name string) error
	visit = func(name string) error {
		switch state[name] {
		case 1:
			i := indexOf(path, name)
			return outpost.Invalidf("tables %s look each other up: circular table dependencies cannot be imported", strings.Join(append(path[i:], name), " -> ")).WithTarget("manifest")
		case 2:
			return nil
		}
		state[name] = 1
		path = append(path, name)
		for _, c := range byName[name].Columns {
			if _, in := byName[c.Target]; c.Type == schema.Lookup && in && c.Target != name {
				if err := visit(c.Target); err != nil {
					return err
				}
			}
		}
		path = path[:len(path)-1]
		state[name] = 2
		out = append(out, byName[name])
		return nil
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func indexOf(ss []string, s string) int {
	for i, x := range ss {
		if x == s {
			return i
		}
	}
	return -1
}
