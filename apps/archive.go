package apps

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/bundle"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
)

// Archive format and limits. An archive holds manifest.json and, for each
// canvas app that has a web bundle, the bundle as uploaded in its own entry
// (BundleDir + app id + ".zip"), named with its size and SHA-256 by the
// app's manifest entry. Import reads at most MaxArchiveBytes of archive,
// MaxManifestBytes of manifest and bundle.MaxBytes of each bundle, whatever
// the zip headers claim, so a zip bomb costs no more than that. Version 1
// archives (before bundles were carried) are read as well.
const (
	ArchiveFormat        = "outpost-solution"
	ArchiveFormatVersion = 2
	ManifestName         = "manifest.json"
	BundleDir            = "bundles/"
	MaxArchiveBytes      = 64 << 20
	MaxManifestBytes     = 8 << 20
	MaxArchiveBundles    = 64
	MaxArchiveEntries    = 1 + MaxArchiveBundles
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
	ID            string         `json:"id"`
	Name          string         `json:"name"`
	Description   string         `json:"description,omitempty"`
	Items         []profile.Item `json:"items"`
	AssignMode    string         `json:"assignmentMode"`
	GeneratedFrom string         `json:"generatedFrom,omitempty"`
	Published     bool           `json:"published"`
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
	// Bundle names the canvas app's web bundle entry; nil when the app
	// had no bundle.
	Bundle *ManifestBundle `json:"bundle,omitempty"`
}

// ManifestBundle names a canvas app's bundle in the archive: the entry
// holding the zip as uploaded, its size and its SHA-256 (hex).
type ManifestBundle struct {
	Entry  string `json:"entry"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Archive is a read solution archive: its manifest and the bundles it
// carries by app id, each checked against its manifest entry and the
// bundle package's limits.
type Archive struct {
	Manifest *Manifest
	Bundles  map[string][]byte
}

// bundleEntry is the archive entry of app id's bundle.
func bundleEntry(id string) string { return BundleDir + id + ".zip" }

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
	bundles := map[string][]byte{}
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
			ma := ManifestApp{ID: a.ID, Kind: a.Kind, Name: a.Name, DisplayName: a.DisplayName, Definition: a.Definition.stored(), Offline: a.Offline, ProfileID: a.ProfileID}
			if a.Kind == Canvas && a.Bundle != nil {
				b, hash, err := s.GetBundle(ctx, by, a.ID)
				if err != nil {
					return nil, err
				}
				ma.Bundle = &ManifestBundle{Entry: bundleEntry(a.ID), Size: int64(len(b)), SHA256: hash}
				bundles[a.ID] = b
			}
			m.Apps = append(m.Apps, ma)
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
	if len(bundles) > MaxArchiveBundles {
		return nil, outpost.Errorf(outpost.CodeTooLarge, "the solution has %d canvas apps with a bundle; an archive carries at most %d", len(bundles), MaxArchiveBundles).WithTarget("components")
	}
	data, err := writeArchive(&m, bundles)
	if err != nil {
		return nil, err
	}
	if len(data) > MaxArchiveBytes {
		return nil, outpost.Errorf(outpost.CodeTooLarge, "the archive would be %d bytes; import accepts at most %d: split the solution", len(data), MaxArchiveBytes).WithTarget("components")
	}
	return data, nil
}

// writeArchive zips manifest m and the bundles of its apps. Bundles are
// zips already: they are stored, not compressed again.
func writeArchive(m *Manifest, bundles map[string][]byte) ([]byte, error) {
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
	for _, a := range m.Apps {
		if a.Bundle == nil {
			continue
		}
		f, err := zw.CreateHeader(&zip.FileHeader{Name: a.Bundle.Entry, Method: zip.Store})
		if err != nil {
			return nil, fmt.Errorf("write archive: %w", err)
		}
		if _, err := f.Write(bundles[a.ID]); err != nil {
			return nil, fmt.Errorf("write the bundle of app %q: %w", a.Name, err)
		}
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

// ReadManifest reads and checks the manifest of a solution archive (and
// the bundles it carries), guarding against oversized, malformed and
// hostile archives.
func ReadManifest(data []byte) (*Manifest, error) {
	a, err := ReadArchive(data)
	if err != nil {
		return nil, err
	}
	return a.Manifest, nil
}

// ReadArchive reads and checks a solution archive: its manifest, and each
// bundle the manifest names, which must be in the archive with the size
// and SHA-256 the manifest gives and pass bundle.Check. Any other entry,
// or a bundle entry no app names, is refused.
func ReadArchive(data []byte) (*Archive, error) {
	if len(data) > MaxArchiveBytes {
		return nil, outpost.Errorf(outpost.CodeTooLarge, "the archive is %d bytes; at most %d are accepted", len(data), MaxArchiveBytes).WithTarget("archive")
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, outpost.Invalidf("the archive is not a valid zip file: %v", err).WithTarget("archive")
	}
	if len(zr.File) > MaxArchiveEntries {
		return nil, outpost.Invalidf("the archive has %d files; a solution archive has %s and at most %d bundles", len(zr.File), ManifestName, MaxArchiveBundles).WithTarget("archive")
	}
	var mf *zip.File
	entries := map[string]*zip.File{}
	for _, f := range zr.File {
		if f.Name != ManifestName && !strings.HasPrefix(f.Name, BundleDir) {
			return nil, outpost.Invalidf("unexpected file %q in the archive: a solution archive holds only %s and %s<app id>.zip bundles", f.Name, ManifestName, BundleDir).WithTarget("archive")
		}
		if mf != nil && f.Name == ManifestName || entries[f.Name] != nil {
			return nil, outpost.Invalidf("the archive holds %s twice", f.Name).WithTarget("archive")
		}
		if f.Name == ManifestName {
			mf = f
		} else {
			entries[f.Name] = f
		}
	}
	if mf == nil {
		return nil, outpost.Invalidf("the archive has no %s", ManifestName).WithTarget("archive")
	}
	m, err := readManifestEntry(mf)
	if err != nil {
		return nil, err
	}
	bundles, err := readBundles(m, entries)
	if err != nil {
		return nil, err
	}
	return &Archive{Manifest: m, Bundles: bundles}, nil
}

func readManifestEntry(mf *zip.File) (*Manifest, error) {
	if mf.UncompressedSize64 > MaxManifestBytes {
		return nil, outpost.Errorf(outpost.CodeTooLarge, "%s is %d bytes uncompressed; at most %d are accepted", ManifestName, mf.UncompressedSize64, MaxManifestBytes).WithTarget("archive")
	}
	body, err := readEntry(mf, MaxManifestBytes)
	if err != nil {
		return nil, err
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
	if m.Format != ArchiveFormat || m.FormatVersion < 1 || m.FormatVersion > ArchiveFormatVersion {
		return nil, outpost.Invalidf("%s has format %q version %d; this server reads %q versions 1 to %d", ManifestName, m.Format, m.FormatVersion, ArchiveFormat, ArchiveFormatVersion).WithTarget("manifest")
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

// readEntry reads at most limit+1 bytes of f: its header may lie.
func readEntry(f *zip.File, limit int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, outpost.Invalidf("cannot open %s in the archive: %v", f.Name, err).WithTarget("archive")
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, limit+1))
	if err != nil {
		return nil, outpost.Invalidf("cannot read %s in the archive: %v", f.Name, err).WithTarget("archive")
	}
	return body, nil
}

// readBundles reads the bundle each app of m names from entries and checks
// it; every entry must be named by exactly one canvas app.
func readBundles(m *Manifest, entries map[string]*zip.File) (map[string][]byte, error) {
	out := map[string][]byte{}
	named := map[string]bool{}
	for _, a := range m.Apps {
		if a.Bundle == nil {
			continue
		}
		b, err := readBundle(a, entries, named)
		if err != nil {
			return nil, outpost.Errorf(outpost.ErrorCode(err), "app %q: %s", a.Name, outpost.ErrorMessage(err)).WithTarget("bundle")
		}
		out[a.ID] = b
	}
	for name := range entries {
		if !named[name] {
			return nil, outpost.Invalidf("the archive holds %s, which no app in %s names", name, ManifestName).WithTarget("archive")
		}
	}
	return out, nil
}

func readBundle(a ManifestApp, entries map[string]*zip.File, named map[string]bool) ([]byte, error) {
	if a.Kind != Canvas {
		return nil, outpost.Invalidf("a %s app has no bundle: only canvas apps carry one", a.Kind)
	}
	f := entries[a.Bundle.Entry]
	if f == nil {
		return nil, outpost.Invalidf("its bundle %q is not in the archive", a.Bundle.Entry)
	}
	if named[a.Bundle.Entry] {
		return nil, outpost.Invalidf("its bundle %q is named by another app too", a.Bundle.Entry)
	}
	named[a.Bundle.Entry] = true
	if f.UncompressedSize64 > bundle.MaxBytes {
		return nil, outpost.Errorf(outpost.CodeTooLarge, "the bundle is %d bytes: a canvas app's bundle may be at most %d bytes zipped", f.UncompressedSize64, bundle.MaxBytes)
	}
	b, err := readEntry(f, bundle.MaxBytes)
	if err != nil {
		return nil, err
	}
	if len(b) > bundle.MaxBytes {
		return nil, outpost.Errorf(outpost.CodeTooLarge, "the bundle is over %d bytes: a canvas app's bundle may be at most %d bytes zipped", bundle.MaxBytes, bundle.MaxBytes)
	}
	sum := sha256.Sum256(b)
	if hash := hex.EncodeToString(sum[:]); hash != a.Bundle.SHA256 || int64(len(b)) != a.Bundle.Size {
		return nil, outpost.Invalidf("its bundle %s has %d bytes with SHA-256 %s, but %s says %d bytes with SHA-256 %s: the archive was changed or damaged after export",
			a.Bundle.Entry, len(b), hash, ManifestName, a.Bundle.Size, a.Bundle.SHA256)
	}
	if _, err := bundle.Check(b); err != nil {
		return nil, err
	}
	return b, nil
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
