package e2e

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/outposthq/outpost/internal/oidctest"
)

// TestPlayerSingleSignOn signs the player in through the organisation's
// single sign-on (a test OpenID provider): the sign-in page offers
// "Sign in with …" for the server typed in, a refusal is shown in plain
// words, and a sign-in lands on the app picker; the app opens and its
// data syncs through the device credential the sign-in gave.
func TestPlayerSingleSignOn(t *testing.T) {
	op := oidctest.Start(t)
	s := newStack(t, stackOptions{Accounts: 3, Agent: true, DemoArgs: []string{"--oidc-issuer", op.Issuer(), "--oidc-client-id", op.ClientID(),
		"--oidc-client-secret", op.ClientSecret(), "--oidc-name", "Example ID"}})
	login, _ := s.password("nora@")
	button := `//button[contains(., "Sign in with Example ID")]`

	// Someone the provider knows but Outpost does not: refused, and said so.
	op.QueueUser("x", "stranger@example.com")
	s.run("offer single sign-on", chromedp.Navigate(s.playerURL), chromedp.WaitVisible(chromedp.CSS(`input[name="server"]`)),
		fill(`input[name="server"]`, s.link.url()), chromedp.WaitVisible(chromedp.Search(button)),
		chromedp.Click(chromedp.Search(button)),
		chromedp.WaitVisible(chromedp.CSS(`.signin [role="alert"]`)), fill(`input[name="server"]`, s.link.url()),
		chromedp.WaitVisible(chromedp.Search(button)), s.shot("signin-sso"))
	if msg := s.text(`.signin [role="alert"]`); !strings.Contains(msg, "Single sign-on was refused") || !strings.Contains(msg, "no Outpost user") {
		t.Fatalf("the refusal reads %q", msg)
	}

	// Nora signs in and opens her app; its data syncs.
	op.QueueUser("nora", login)
	s.run("sign in with single sign-on", chromedp.Click(chromedp.Search(button)), chromedp.WaitVisible(chromedp.CSS(`.app-card`)))
	if body := s.text("body"); !strings.Contains(body, "Nora") {
		t.Fatalf("the app picker does not name the user:\n%s", body)
	}
	s.run("open the app", chromedp.Click(chromedp.Search(`//button[contains(., "Field Service")]`)),
		chromedp.WaitVisible(chromedp.CSS(`table.rows tbody tr`)), syncState("Connected"))
}
