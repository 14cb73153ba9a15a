package httpapi

import (
	"fmt"
	"net/http"

	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/schema"
)

func (s *Server) metadataRoutes() {
	s.Handle("GET /api/metadata/tables", s.listTables)
	s.Handle("POST /api/metadata/tables", s.createTable)
	s.Handle("GET /api/metadata/tables/{table}", s.getTable)
	s.Handle("PATCH /api/metadata/tables/{table}", s.patchTable)
	s.Handle("POST /api/metadata/tables/{table}/columns", s.addColumn)
	s.Handle("PATCH /api/metadata/tables/{table}/columns/{column}", s.patchColumn)
	s.Handle("GET /api/metadata/tables/{table}/relationships", s.relationships)
	s.Handle("GET /api/metadata/tables/{table}/operators", s.operators)
	s.Handle("POST /api/metadata/tables/{table}/filter", s.tableFilter)
	s.Handle("POST /api/metadata/relationships", s.createRelationship)
}

func (s *Server) listTables(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]any{"value": s.p.Schema().Tables()})
}

func (s *Server) getTable(w http.ResponseWriter, r *http.Request) error {
	t, err := s.p.Schema().LookupTable(r.PathValue("table"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (s *Server) createTable(w http.ResponseWriter, r *http.Request) error {
	var in platform.TableInput
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	t, err := s.p.CreateTable(r.Context(), principalOf(r), in)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/api/metadata/tables/"+t.Name)
	return writeJSON(w, http.StatusCreated, t)
}

func (s *Server) patchTable(w http.ResponseWriter, r *http.Request) error {
	var in platform.TablePatch
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	t, err := s.p.UpdateTable(r.Context(), principalOf(r), r.PathValue("table"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (s *Server) addColumn(w http.ResponseWriter, r *http.Request) error {
	var c schema.Column
	if err := decodeBody(r, &c, true); err != nil {
		return err
	}
	t, err := s.p.AddColumn(r.Context(), principalOf(r), r.PathValue("table"), c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, t)
}

// patchColumn changes what may change on an existing column (see
// platform.ColumnPatch) and replies with the whole table.
func (s *Server) patchColumn(w http.ResponseWriter, r *http.Request) error {
	var in platform.ColumnPatch
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	t, err := s.p.UpdateColumn(r.Context(), principalOf(r), r.PathValue("table"), r.PathValue("column"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}

func (s *Server) relationships(w http.ResponseWriter, r *http.Request) error {
	sch := s.p.Schema()
	t, err := sch.LookupTable(r.PathValue("table"))
	if err != nil {
		return err
	}
	rels := sch.Relationships(t.Name)
	if rels == nil {
		rels = []schema.Relationship{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"value": rels})
}

// operators lists, per column of a table, the filter operators it accepts
// and how many values each takes: the portal's expression builder offers
// these, so the rule stays in package filter.
func (s *Server) operators(w http.ResponseWriter, r *http.Request) error {
	t, err := s.p.Schema().LookupTable(r.PathValue("table"))
	if err != nil {
		return err
	}
	type columnOps struct {
		Column    string                `json:"column"`
		Operators []filter.OperatorInfo `json:"operators"`
	}
	out := make([]columnOps, 0, len(t.Columns))
	for i := range t.Columns {
		c := &t.Columns[i]
		out = append(out, columnOps{Column: c.Name, Operators: filter.ColumnOperators(t, c)})
	}
	return writeJSON(w, http.StatusOK, map[string]any{"value": out})
}

// tableFilter parses or prints a filter on a table and writes nothing: it
// takes the filter as OData text or as a JSON tree and answers with both,
// the portal's expression builder keeping tree and text in step outside a
// profile (an app's views). Profile items and views are checked by the
// same function when saved, so what it accepts is what they accept.
func (s *Server) tableFilter(w http.ResponseWriter, r *http.Request) error {
	sch := s.p.Schema()
	t, err := sch.LookupTable(r.PathValue("table"))
	if err != nil {
		return err
	}
	var in profile.FilterForms
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	out, err := profile.CheckFilterForms(sch, t.Name, in, fmt.Sprintf("the filter on %s", t.Name), "")
	return reply(w, http.StatusOK, out, err)
}

func (s *Server) createRelationship(w http.ResponseWriter, r *http.Request) error {
	var d schema.ManyToManyDef
	if err := decodeBody(r, &d, true); err != nil {
		return err
	}
	if err := s.p.CreateManyToMany(r.Context(), principalOf(r), d); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, d)
}
