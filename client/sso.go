package client

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
)

// Single sign-on for a device, as native apps do it (RFC 8252): the
// device opens the server's start route in the user's browser with a
// loopback redirect URI of its own, a random state and a PKCE code
// challenge (S256); the browser comes back to the redirect URI with a
// one-time code and the state; SignInWithCode exchanges the code and the
// verifier for a device credential.

// SSORequest is a device's single sign-on in progress.
type SSORequest struct {
	// URL is what the device opens in the browser.
	URL string
	// State comes back with the code: a reply with another state is not
	// this sign-in's.
	State string
	// Verifier is the PKCE verifier, sent with the code.
	Verifier string
}

// DeviceSSOStart is the server's start route of a device's single
// sign-on.
const DeviceSSOStart = "/api/auth/oidc/device/start"

func randomValue() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// StartSSO prepares a single sign-on with server whose browser reply goes
// to redirectURI, a loopback address of the device (http://127.0.0.1:port/…).
func StartSSO(server, redirectURI string) SSORequest {
	state, verifier := randomValue(), randomValue()
	sum := sha256.Sum256([]byte(verifier))
	q := url.Values{"redirect_uri": {redirectURI}, "state": {state},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}
	return SSORequest{URL: strings.TrimRight(server, "/") + DeviceSSOStart + "?" + q.Encode(), State: state, Verifier: verifier}
}

// SignInWithCode exchanges the one-time code of a single sign-on (with
// the request's PKCE verifier) for a device credential and saves it in
// store, as SignIn does for a password: a device that signed in before
// keeps its device id.
func SignInWithCode(ctx context.Context, hc *http.Client, server, code, verifier string, dev DeviceInfo, store CredentialStore) (*Credential, error) {
	return obtainCredential(ctx, hc, server, "/api/auth/oidc/device/token", dev, store, func(device deviceRef) any {
		return struct {
			Code     string    `json:"code"`
			Verifier string    `json:"code_verifier"`
			Device   deviceRef `json:"device"`
		}{code, verifier, device}
	})
}
