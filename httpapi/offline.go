package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/apps"
	"github.com/outposthq/outpost/filter"
	"github.com/outposthq/outpost/profile"
)

// offlineRoutes registers /api/offline/... (profiles, apps, solutions).
func (s *Server) offlineRoutes() {
	s.Handle("GET /api/offline/profiles", s.listProfiles)
	s.Handle("POST /api/offline/profiles", s.createProfile)
	s.Handle("GET /api/offline/profiles/{id}", s.getProfile)
	s.Handle("PATCH /api/offline/profiles/{id}", s.patchProfile)
	s.Handle("DELETE /api/offline/profiles/{id}", s.deleteProfile)
	s.Handle("POST /api/offline/profiles/{id}/clone", s.cloneProfile)
	s.Handle("PUT /api/offline/profiles/{id}/items/{table}", s.putItem)
	s.Handle("DELETE /api/offline/profiles/{id}/items/{table}", s.deleteItem)
	s.Handle("POST /api/offline/profiles/{id}/items/{table}/check", s.checkItem)
	s.Handle("POST /api/offline/profiles/{id}/validate", s.validateProfile)
	s.Handle("POST /api/offline/profiles/{id}/publish", s.publishProfile)
	s.Handle("GET /api/offline/profiles/{id}/apps", s.appUsage)
	s.Handle("GET /api/offline/profiles/{id}/plan", s.plan)
	s.Handle("GET /api/offline/profiles/{id}/preview", s.preview)
	s.Handle("GET /api/offline/profiles/{id}/published", s.publishedProfile)
	s.Handle("POST /api/offline/profiles/{id}/discard", s.discardDraft)

	s.Handle("GET /api/offline/apps", s.listApps)
	s.Handle("POST /api/offline/apps", s.createApp)
	s.Handle("GET /api/offline/apps/{id}", s.getApp)
	s.Handle("PATCH /api/offline/apps/{id}", s.patchApp)
	s.Handle("DELETE /api/offline/apps/{id}", s.deleteApp)
	s.Handle("PUT /api/offline/apps/{id}/offline", s.setOffline)
	s.Handle("POST /api/offline/apps/{id}/publish", s.publishApp)
	s.Handle("POST /api/offline/apps/{id}/generate-profile", s.generateProfile)
	s.Handle("GET /api/offline/apps/{id}/profile", s.appProfile)
	s.bundleRoutes()

	s.Handle("GET /api/offline/solutions", s.listSolutions)
	s.Handle("POST /api/offline/solutions", s.createSolution)
	s.Handle("POST /api/offline/solutions/import", s.importSolution)
	s.Handle("GET /api/offline/solutions/{name}", s.getSolution)
	s.Handle("DELETE /api/offline/solutions/{name}", s.deleteSolution)
	s.Handle("POST /api/offline/solutions/{name}/components", s.addComponent)
	s.Handle("DELETE /api/offline/solutions/{name}/components/{kind}/{cid}", s.removeComponent)
	s.Handle("POST /api/offline/solutions/{name}/required", s.addRequired)
	s.Handle("GET /api/offline/solutions/{name}/export", s.exportSolution)
}

// reply writes v with status, or returns err.
func reply(w http.ResponseWriter, status int, v any, err error) error {
	if err != nil {
		return err
	}
	return writeJSON(w, status, v)
}

func (s *Server) listProfiles(w http.ResponseWriter, r *http.Request) error {
	ps, err := s.profiles.List(r.Context(), principalOf(r))
	return reply(w, http.StatusOK, map[string]any{"value": ps}, err)
}

func (s *Server) createProfile(w http.ResponseWriter, r *http.Request) error {
	var in profile.Input
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	p, err := s.profiles.Create(r.Context(), principalOf(r), in)
	if err == nil {
		w.Header().Set("Location", "/api/offline/profiles/"+p.ID)
	}
	return reply(w, http.StatusCreated, p, err)
}

func (s *Server) getProfile(w http.ResponseWriter, r *http.Request) error {
	p, err := s.profiles.Get(r.Context(), principalOf(r), r.PathValue("id"))
	return reply(w, http.StatusOK, p, err)
}

func (s *Server) patchProfile(w http.ResponseWriter, r *http.Request) error {
	var in profile.Patch
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	p, err := s.profiles.Update(r.Context(), principalOf(r), r.PathValue("id"), in)
	return reply(w, http.StatusOK, p, err)
}

func (s *Server) deleteProfile(w http.ResponseWriter, r *http.Request) error {
	if err := s.profiles.Delete(r.Context(), principalOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) cloneProfile(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Name string `json:"name"`
	}
	if r.ContentLength != 0 {
		if err := decodeBody(r, &in, true); err != nil {
			return err
		}
	}
	p, err := s.profiles.Clone(r.Context(), principalOf(r), r.PathValue("id"), in.Name)
	return reply(w, http.StatusCreated, p, err)
}

func (s *Server) putItem(w http.ResponseWriter, r *http.Request) error {
	in, err := itemInput(r)
	if err != nil {
		return err
	}
	p, err := s.profiles.PutItem(r.Context(), principalOf(r), r.PathValue("id"), in)
	return reply(w, http.StatusOK, p, err)
}

// checkItem checks an unsaved item against the draft and writes nothing:
// the portal's live relationship counts, filter forms and field errors.
func (s *Server) checkItem(w http.ResponseWriter, r *http.Request) error {
	in, err := itemInput(r)
	if err != nil {
		return err
	}
	c, err := s.profiles.CheckItem(r.Context(), principalOf(r), r.PathValue("id"), in)
	return reply(w, http.StatusOK, c, err)
}

// itemInput decodes an item whose table is the path's.
func itemInput(r *http.Request) (profile.ItemInput, error) {
	var in profile.ItemInput
	if err := decodeBody(r, &in, true); err != nil {
		return in, err
	}
	if in.Table != "" && in.Table != r.PathValue("table") {
		return in, outpost.Invalidf("the body names table %q but the path names %q", in.Table, r.PathValue("table")).WithTarget("table")
	}
	in.Table = r.PathValue("table")
	return in, nil
}

func (s *Server) deleteItem(w http.ResponseWriter, r *http.Request) error {
	p, err := s.profiles.RemoveItem(r.Context(), principalOf(r), r.PathValue("id"), r.PathValue("table"))
	return reply(w, http.StatusOK, p, err)
}

func (s *Server) validateProfile(w http.ResponseWriter, r *http.Request) error {
	v, err := s.profiles.Validate(r.Context(), principalOf(r), r.PathValue("id"))
	return reply(w, http.StatusOK, v, err)
}

func (s *Server) publishProfile(w http.ResponseWriter, r *http.Request) error {
	p, v, err := s.profiles.Publish(r.Context(), principalOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"profile": p, "warnings": v.Warnings})
}

func (s *Server) appUsage(w http.ResponseWriter, r *http.Request) error {
	apps, err := s.profiles.AppUsage(r.Context(), principalOf(r), r.PathValue("id"))
	return reply(w, http.StatusOK, map[string]any{"value": apps}, err)
}

// planItemJSON is a plan item with its filter as a JSON condition tree.
type planItemJSON struct {
	profile.PlanItem
	Filter json.RawMessage `json:"filter"`
}

func (s *Server) plan(w http.ResponseWriter, r *http.Request) error {
	plan, err := s.profiles.Plan(r.Context(), principalOf(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	items := make([]planItemJSON, len(plan.Items))
	for i, it := range plan.Items {
		f, err := filter.ToJSON(it.Filter)
		if err != nil {
			return err
		}
		items[i] = planItemJSON{PlanItem: it, Filter: f}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"profileId": plan.ProfileID, "version": plan.Version, "items": items})
}

func (s *Server) preview(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	opts := profile.PreviewOptions{UserID: q.Get("user")}
	if v := q.Get("published"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return outpost.Invalidf("published must be true or false, got %q", v).WithTarget("published")
		}
		opts.Published = b
	}
	if opts.UserID == "" {
		opts.UserID = principalOf(r).UserID
	}
	pv, err := s.profiles.Preview(r.Context(), principalOf(r), r.PathValue("id"), opts)
	return reply(w, http.StatusOK, pv, err)
}

func (s *Server) listApps(w http.ResponseWriter, r *http.Request) error {
	apps, err := s.profiles.ListApps(r.Context(), principalOf(r))
	return reply(w, http.StatusOK, map[string]any{"value": apps}, err)
}

func (s *Server) createApp(w http.ResponseWriter, r *http.Request) error {
	var in apps.AppInput
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	a, err := s.profiles.CreateApp(r.Context(), principalOf(r), in)
	return reply(w, http.StatusCreated, a, err)
}

func (s *Server) getApp(w http.ResponseWriter, r *http.Request) error {
	a, err := s.profiles.GetApp(r.Context(), principalOf(r), r.PathValue("id"))
	return reply(w, http.StatusOK, a, err)
}

func (s *Server) patchApp(w http.ResponseWriter, r *http.Request) error {
	var in apps.AppPatch
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	a, err := s.profiles.UpdateApp(r.Context(), principalOf(r), r.PathValue("id"), in)
	return reply(w, http.StatusOK, a, err)
}

func (s *Server) publishedProfile(w http.ResponseWriter, r *http.Request) error {
	p, err := s.profiles.Published(r.Context(), principalOf(r), r.PathValue("id"))
	return reply(w, http.StatusOK, p, err)
}

func (s *Server) discardDraft(w http.ResponseWriter, r *http.Request) error {
	p, err := s.profiles.DiscardDraft(r.Context(), principalOf(r), r.PathValue("id"))
	return reply(w, http.StatusOK, p, err)
}

func (s *Server) deleteApp(w http.ResponseWriter, r *http.Request) error {
	if err := s.profiles.DeleteApp(r.Context(), principalOf(r), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) setOffline(w http.ResponseWriter, r *http.Request) error {
	var in apps.OfflineInput
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	a, err := s.profiles.SetOffline(r.Context(), principalOf(r), r.PathValue("id"), in)
	return reply(w, http.StatusOK, a, err)
}

func (s *Server) publishApp(w http.ResponseWriter, r *http.Request) error {
	a, err := s.profiles.PublishApp(r.Context(), principalOf(r), r.PathValue("id"))
	return reply(w, http.StatusOK, a, err)
}

func (s *Server) generateProfile(w http.ResponseWriter, r *http.Request) error {
	var in apps.GenerateOptions
	if r.ContentLength != 0 {
		if err := decodeBody(r, &in, true); err != nil {
			return err
		}
	}
	g, err := s.profiles.GenerateProfile(r.Context(), principalOf(r), r.PathValue("id"), in)
	return reply(w, http.StatusCreated, g, err)
}

func (s *Server) appProfile(w http.ResponseWriter, r *http.Request) error {
	id, kind, err := s.profiles.AppProfile(r.Context(), principalOf(r), r.PathValue("id"))
	return reply(w, http.StatusOK, map[string]string{"profileId": id, "kind": kind}, err)
}

func (s *Server) listSolutions(w http.ResponseWriter, r *http.Request) error {
	sols, err := s.profiles.ListSolutions(r.Context(), principalOf(r))
	return reply(w, http.StatusOK, map[string]any{"value": sols}, err)
}

func (s *Server) createSolution(w http.ResponseWriter, r *http.Request) error {
	var in apps.SolutionInput
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	sol, err := s.profiles.CreateSolution(r.Context(), principalOf(r), in)
	return reply(w, http.StatusCreated, sol, err)
}

func (s *Server) getSolution(w http.ResponseWriter, r *http.Request) error {
	sol, err := s.profiles.GetSolution(r.Context(), principalOf(r), r.PathValue("name"))
	return reply(w, http.StatusOK, sol, err)
}

func (s *Server) deleteSolution(w http.ResponseWriter, r *http.Request) error {
	if err := s.profiles.DeleteSolution(r.Context(), principalOf(r), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) addComponent(w http.ResponseWriter, r *http.Request) error {
	var c apps.Component
	if err := decodeBody(r, &c, true); err != nil {
		return err
	}
	sol, err := s.profiles.AddComponents(r.Context(), principalOf(r), r.PathValue("name"), c)
	return reply(w, http.StatusOK, sol, err)
}

func (s *Server) removeComponent(w http.ResponseWriter, r *http.Request) error {
	c := apps.Component{Kind: r.PathValue("kind"), ID: r.PathValue("cid")}
	sol, err := s.profiles.RemoveComponent(r.Context(), principalOf(r), r.PathValue("name"), c)
	return reply(w, http.StatusOK, sol, err)
}

func (s *Server) addRequired(w http.ResponseWriter, r *http.Request) error {
	added, err := s.profiles.AddRequired(r.Context(), principalOf(r), r.PathValue("name"))
	return reply(w, http.StatusOK, map[string]any{"added": added}, err)
}

func (s *Server) exportSolution(w http.ResponseWriter, r *http.Request) error {
	data, err := s.profiles.Export(r.Context(), principalOf(r), r.PathValue("name"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+r.PathValue("name")+`.zip"`)
	_, err = w.Write(data)
	return err
}

// importSolution reads a zip archive body; ?publish=true publishes the
// imported profiles.
func (s *Server) importSolution(w http.ResponseWriter, r *http.Request) error {
	opts := apps.ImportOptions{OwnerID: r.URL.Query().Get("owner")}
	if v := r.URL.Query().Get("publish"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return outpost.Invalidf("publish must be true or false, got %q", v).WithTarget("publish")
		}
		opts.Publish = b
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, apps.MaxArchiveBytes+1))
	if err != nil {
		return err
	}
	res, err := s.profiles.Import(r.Context(), principalOf(r), data, opts)
	return reply(w, http.StatusOK, res, err)
}
