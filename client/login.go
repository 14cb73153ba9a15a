package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/outposthq/outpost"
)

// ServerURL checks a server address as a user types it and returns it
// without a trailing slash: it needs http:// or https:// and a host.
func ServerURL(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", outpost.Invalidf("the server %q is not a URL such as http://127.0.0.1:8080 (it needs http:// or https:// and a host)", s).WithTarget("server")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// Identity is who a token signs in as (GET /api/whoami).
type Identity struct {
	UserID         string `json:"userid"`
	BusinessUnitID string `json:"businessunitid"`
	Admin          bool   `json:"admin"`
}

// WhoAmI checks token against server and returns whom it signs in as. A
// token the server refuses is an *outpost.Error with CodeUnauthorized; a
// server that does not answer is ErrUnreachable. hc nil means
// http.DefaultClient.
func WhoAmI(ctx context.Context, server, token string, hc *http.Client) (*Identity, error) {
	base, err := ServerURL(server)
	if err != nil {
		return nil, err
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	r := &remote{base: base, auth: &auth{token: token}, hc: hc}
	var id Identity
	err = r.call(ctx, http.MethodGet, "/api/whoami", nil, &id)
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, ErrUnreachable):
		return nil, fmt.Errorf("cannot reach the server at %s: %w", base, ErrUnreachable)
	case outpost.ErrorCode(err) == outpost.CodeUnauthorized:
		return nil, outpost.Unauthorizedf("the server at %s does not accept this token: check it, or ask for a new one", base)
	case err != nil:
		return nil, err
	case id.UserID == "":
		return nil, fmt.Errorf("%s did not answer as an Outpost server", base)
	}
	return &id, nil
}
