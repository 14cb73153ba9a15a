package main

import (
	"context"
	"errors"
	"flag"
	"strings"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/platform"
)

// oidcFlags are serve's single sign-on settings, each also an environment
// variable.
type oidcFlags struct {
	issuer, clientID, secret, name, redirect, claim, createBU, createRoles, after string
}

func (f *oidcFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&f.issuer, "oidc-issuer", getenv("OUTPOST_OIDC_ISSUER"), "OpenID Connect issuer URL: turns on single sign-on ($OUTPOST_OIDC_ISSUER)")
	fs.StringVar(&f.clientID, "oidc-client-id", getenv("OUTPOST_OIDC_CLIENT_ID"), "client id registered with the provider ($OUTPOST_OIDC_CLIENT_ID)")
	fs.StringVar(&f.secret, "oidc-client-secret", getenv("OUTPOST_OIDC_CLIENT_SECRET"), "client secret ($OUTPOST_OIDC_CLIENT_SECRET)")
	fs.StringVar(&f.name, "oidc-name", getenv("OUTPOST_OIDC_NAME"), "the provider's name on sign-in pages (\"Sign in with NAME\"); default the issuer's host ($OUTPOST_OIDC_NAME)")
	fs.StringVar(&f.redirect, "oidc-redirect-url", getenv("OUTPOST_OIDC_REDIRECT_URL"), "callback URL registered with the provider; default this server's /api/auth/oidc/callback ($OUTPOST_OIDC_REDIRECT_URL)")
	fs.StringVar(&f.claim, "oidc-claim", envOr(getenv, "OUTPOST_OIDC_CLAIM", "email"), "ID token claim matched to a user's login; email must be verified ($OUTPOST_OIDC_CLAIM)")
	fs.StringVar(&f.createBU, "oidc-create-users", getenv("OUTPOST_OIDC_CREATE_USERS"), "create unknown users on first sign-in into this business unit (id, or \"root\") ($OUTPOST_OIDC_CREATE_USERS)")
	fs.StringVar(&f.createRoles, "oidc-roles", getenv("OUTPOST_OIDC_ROLES"), "comma-separated role ids or names for created users ($OUTPOST_OIDC_ROLES)")
	fs.StringVar(&f.after, "oidc-after-login", envOr(getenv, "OUTPOST_OIDC_AFTER_LOGIN", "/"), "where the browser goes once signed in ($OUTPOST_OIDC_AFTER_LOGIN)")
}

// options returns the single sign-on options, nil when no issuer is set.
func (f *oidcFlags) options(ctx context.Context, p *platform.Platform) (*httpapi.OIDCOptions, error) {
	if f.issuer == "" {
		if f.clientID != "" || f.secret != "" {
			return nil, errors.New("--oidc-client-id and --oidc-client-secret need --oidc-issuer")
		}
		return nil, nil
	}
	if f.clientID == "" {
		return nil, errors.New("--oidc-issuer needs --oidc-client-id (and usually --oidc-client-secret)")
	}
	o := &httpapi.OIDCOptions{Issuer: f.issuer, ClientID: f.clientID, ClientSecret: f.secret, Name: f.name, RedirectURL: f.redirect, Claim: f.claim, AfterLogin: f.after}
	if f.createBU != "" {
		o.Provisioning.Create = true
		if f.createBU != "root" {
			if !outpost.ValidID(f.createBU) {
				return nil, outpost.Invalidf("--oidc-create-users takes a business unit id or \"root\", got %q", f.createBU)
			}
			o.Provisioning.BusinessUnitID = f.createBU
		}
	}
	for _, r := range strings.Split(f.createRoles, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		id, err := (&admin{p: p}).roleID(ctx, r)
		if err != nil {
			return nil, err
		}
		o.Provisioning.RoleIDs = append(o.Provisioning.RoleIDs, id)
	}
	return o, nil
}
