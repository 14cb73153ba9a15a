package httpapi

import (
	"net/http"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/security"
)

func (s *Server) securityRoutes() {
	s.Handle("POST /api/security/users/{user}/tokens", s.issueToken)
	s.Handle("GET /api/security/users/{user}/privileges", s.userPrivileges)
	s.Handle("GET /api/security/roles/{role}/privileges", s.rolePrivileges)
	s.Handle("PUT /api/security/roles/{role}/privileges", s.setRolePrivileges)
	s.Handle("PUT /api/security/teams/{team}/members/{user}", s.member(true))
	s.Handle("DELETE /api/security/teams/{team}/members/{user}", s.member(false))
	s.Handle("PUT /api/security/users/{user}/roles/{role}", s.userRole(true))
	s.Handle("DELETE /api/security/users/{user}/roles/{role}", s.userRole(false))
	s.Handle("PUT /api/security/teams/{team}/roles/{role}", s.teamRole(true))
	s.Handle("DELETE /api/security/teams/{team}/roles/{role}", s.teamRole(false))
}

func ids(r *http.Request, names ...string) ([]string, error) {
	out := make([]string, len(names))
	for i, n := range names {
		v := r.PathValue(n)
		if !outpost.ValidID(v) {
			return nil, outpost.Invalidf("%s %q is not an id: use a UUID", n, v).WithTarget(n)
		}
		out[i] = v
	}
	return out, nil
}

func (s *Server) issueToken(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "user")
	if err != nil {
		return err
	}
	var in struct {
		Name      string    `json:"name"`
		ExpiresOn time.Time `json:"expireson"`
	}
	if r.ContentLength != 0 {
		if err := decodeBody(r, &in, true); err != nil {
			return err
		}
	}
	tok, info, err := s.p.IssueIntegrationToken(r.Context(), principalOf(r), id[0], in.Name, in.ExpiresOn)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, map[string]any{"token": tok, "userid": id[0], "id": info.ID, "name": info.Name, "expireson": info.ExpiresOn})
}

func (s *Server) userPrivileges(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "user")
	if err != nil {
		return err
	}
	by := principalOf(r)
	if !by.Admin && by.UserID != id[0] {
		return outpost.Forbiddenf("only administrators may read another user's privileges")
	}
	p, err := s.p.Principal(r.Context(), id[0])
	if err != nil {
		if outpost.ErrorCode(err) == outpost.CodeUnauthorized {
			return outpost.NotFoundf("user %s does not exist or is disabled", id[0]).WithTarget("user")
		}
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"userid": p.UserID, "admin": p.Admin, "teams": nonNil(p.TeamIDs), "roles": nonNil(p.RoleIDs), "privileges": p.Privileges.Grants()})
}

func (s *Server) rolePrivileges(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "role")
	if err != nil {
		return err
	}
	if _, err := s.p.Get(r.Context(), principalOf(r), "role", id[0], []string{"name"}); err != nil {
		return err
	}
	g, err := s.p.RolePrivileges(r.Context(), id[0])
	if err != nil {
		return err
	}
	predefined, admin := false, false
	for _, pr := range security.PredefinedRoles() {
		if pr.ID == id[0] {
			predefined, admin = true, pr.Admin
		}
	}
	// A predefined role cannot be changed (PUT refuses it); the System
	// Administrator role holds no grants: it is every privilege at
	// organization depth, which admin says.
	return writeJSON(w, http.StatusOK, map[string]any{"value": g, "predefined": predefined, "admin": admin})
}

func (s *Server) setRolePrivileges(w http.ResponseWriter, r *http.Request) error {
	id, err := ids(r, "role")
	if err != nil {
		return err
	}
	var in struct {
		Privileges []security.Grant `json:"privileges"`
	}
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	if err := s.p.SetRolePrivileges(r.Context(), principalOf(r), id[0], in.Privileges); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) member(add bool) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := ids(r, "team", "user")
		if err != nil {
			return err
		}
		if add {
			err = s.p.AddTeamMember(r.Context(), principalOf(r), id[0], id[1])
		} else {
			err = s.p.RemoveTeamMember(r.Context(), principalOf(r), id[0], id[1])
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Server) userRole(add bool) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := ids(r, "user", "role")
		if err != nil {
			return err
		}
		if add {
			err = s.p.AssignUserRole(r.Context(), principalOf(r), id[0], id[1])
		} else {
			err = s.p.RemoveUserRole(r.Context(), principalOf(r), id[0], id[1])
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

func (s *Server) teamRole(add bool) func(w http.ResponseWriter, r *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := ids(r, "team", "role")
		if err != nil {
			return err
		}
		if add {
			err = s.p.AssignTeamRole(r.Context(), principalOf(r), id[0], id[1])
		} else {
			err = s.p.RemoveTeamRole(r.Context(), principalOf(r), id[0], id[1])
		}
		if err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}
