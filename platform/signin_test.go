package platform_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/security"
)

// clock is a test clock that moves only when told.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// forEachEngineClock is forEachEngine with a test clock and cheap password
// hashes.
func forEachEngineClock(t *testing.T, fn func(t *testing.T, p *platform.Platform, c *clock)) {
	t.Helper()
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		c := &clock{t: time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)}
		p, err := platform.Open(t.Context(), e.Open(t), platform.Options{Now: c.now, PasswordCost: bcrypt.MinCost})
		if err != nil {
			t.Fatalf("open platform: %v", err)
		}
		fn(t, p, c)
	})
}

const goodPassword = "correct horse battery"

func TestPasswordSignIn(t *testing.T) {
	forEachEngineClock(t, func(t *testing.T, p *platform.Platform, c *clock) {
		ctx := context.Background()
		o := newOrg(t, p)
		sys := platform.System()
		// No password yet: nobody signs in as u1.
		_, err := p.CheckPassword(ctx, "u1", goodPassword, "10.0.0.1")
		wantCode(t, err, outpost.CodeUnauthorized)
		for _, bad := range []string{"short", "1234567890", "u1", string(make([]byte, 73))} {
			wantCode(t, p.SetPassword(ctx, sys, o.u1, bad, ""), outpost.CodeInvalid)
		}
		testenv.Must(t, p.SetPassword(ctx, sys, o.u1, goodPassword, ""))
		if got := testenv.MustGet[string](t)(p.CheckPassword(ctx, "u1", goodPassword, "10.0.0.1")); got != o.u1 {
			t.Fatalf("signed in as %s, want %s", got, o.u1)
		}
		if got := testenv.MustGet[string](t)(p.CheckPassword(ctx, "U1", goodPassword, "10.0.0.1")); got != o.u1 {
			t.Fatalf("login names are case-insensitive: signed in as %s", got)
		}
		_, err = p.CheckPassword(ctx, "u1", "wrong horse battery", "10.0.0.1")
		wantCode(t, err, outpost.CodeUnauthorized)
		_, err = p.CheckPassword(ctx, "nobody", goodPassword, "10.0.0.1")
		wantCode(t, err, outpost.CodeUnauthorized)

		// Users change their own password with the current one, and only their own.
		u1 := testenv.MustGet[*security.Principal](t)(p.Principal(ctx, o.u1))
		wantCode(t, p.SetPassword(ctx, u1, o.u1, "another good password", "not the current"), outpost.CodeForbidden)
		wantCode(t, p.SetPassword(ctx, u1, o.u2, "another good password", goodPassword), outpost.CodeForbidden)
		testenv.Must(t, p.SetPassword(ctx, u1, o.u1, "another good password", goodPassword))
		_, err = p.CheckPassword(ctx, "u1", goodPassword, "10.0.0.1")
		wantCode(t, err, outpost.CodeUnauthorized)
		testenv.MustGet[string](t)(p.CheckPassword(ctx, "u1", "another good password", "10.0.0.1"))

		// A disabled user is refused even with the right password.
		testenv.MustGet[outpost.Row](t)(p.Update(ctx, sys, "systemuser", o.u1, map[string]any{"isdisabled": true}))
		_, err = p.CheckPassword(ctx, "u1", "another good password", "10.0.0.1")
		wantCode(t, err, outpost.CodeUnauthorized)
	})
}

func TestSignInLockout(t *testing.T) {
	forEachEngineClock(t, func(t *testing.T, p *platform.Platform, c *clock) {
		ctx := context.Background()
		o := newOrg(t, p)
		testenv.Must(t, p.SetPassword(ctx, platform.System(), o.u1, goodPassword, ""))
		for i := range 5 {
			_, err := p.CheckPassword(ctx, "u1", "wrong password!", "10.0.0.1")
			wantCode(t, err, outpost.CodeUnauthorized)
			_ = i
		}
		// Locked: the right password is refused too, from any address.
		_, err := p.CheckPassword(ctx, "u1", goodPassword, "10.0.0.2")
		wantCode(t, err, outpost.CodeTooManyAttempts)
		if s := platform.RetryAfterOf(err); s < 1 || s > 30 {
			t.Fatalf("retry after %d s, want 1..30", s)
		}
		c.add(31 * time.Second)
		// One more failure doubles the wait.
		_, err = p.CheckPassword(ctx, "u1", "wrong password!", "10.0.0.2")
		wantCode(t, err, outpost.CodeUnauthorized)
		_, err = p.CheckPassword(ctx, "u1", goodPassword, "10.0.0.2")
		if s := platform.RetryAfterOf(err); s < 31 || s > 60 {
			t.Fatalf("after a sixth failure: retry after %d s (%v), want 31..60", s, err)
		}
		c.add(61 * time.Second)
		testenv.MustGet[string](t)(p.CheckPassword(ctx, "u1", goodPassword, "10.0.0.2"))
		// A success clears the account's counter.
		_, err = p.CheckPassword(ctx, "u1", "wrong password!", "10.0.0.2")
		wantCode(t, err, outpost.CodeUnauthorized)
		testenv.MustGet[string](t)(p.CheckPassword(ctx, "u1", goodPassword, "10.0.0.2"))

		// Per address: twenty failures over many names lock the address out.
		for i := range 20 {
			_, err := p.CheckPassword(ctx, "guess"+string(rune('a'+i)), "wrong password!", "10.9.9.9")
			wantCode(t, err, outpost.CodeUnauthorized)
		}
		_, err = p.CheckPassword(ctx, "u1", goodPassword, "10.9.9.9")
		wantCode(t, err, outpost.CodeTooManyAttempts)
		testenv.MustGet[string](t)(p.CheckPassword(ctx, "u1", goodPassword, "10.0.0.3"))
	})
}

func TestIntegrationTokensListRevokeExpire(t *testing.T) {
	forEachEngineClock(t, func(t *testing.T, p *platform.Platform, c *clock) {
		ctx := context.Background()
		o := newOrg(t, p)
		sys := platform.System()
		forever := testenv.MustGet[string](t)(p.IssueToken(ctx, sys, o.u1, "etl"))
		_, _, err := p.IssueIntegrationToken(ctx, sys, o.u1, "old", c.now().Add(-time.Hour))
		wantCode(t, err, outpost.CodeInvalid)
		short, info, err := p.IssueIntegrationToken(ctx, sys, o.u1, "report", c.now().Add(time.Hour))
		testenv.Must(t, err)
		u2tok := testenv.MustGet[string](t)(p.IssueToken(ctx, sys, o.u2, "u2"))
		testenv.MustGet[*security.Principal](t)(p.Authenticate(ctx, short))

		list := testenv.MustGet[[]platform.TokenInfo](t)(p.ListTokens(ctx, sys, o.u1))
		if len(list) != 2 {
			t.Fatalf("u1 has %d tokens, want 2: %+v", len(list), list)
		}
		byName := map[string]platform.TokenInfo{}
		for _, ti := range list {
			byName[ti.Name] = ti
		}
		if r := byName["report"]; r.ID != info.ID || r.ExpiresOn == nil || !r.ExpiresOn.Equal(c.now().Add(time.Hour)) || r.LastUsed == nil || !r.CreatedOn.Equal(c.now()) {
			t.Fatalf("report token = %+v", r)
		}
		if e := byName["etl"]; e.ExpiresOn != nil || e.LastUsed != nil {
			t.Fatalf("unused token without expiry = %+v", e)
		}
		if all := testenv.MustGet[[]platform.TokenInfo](t)(p.ListTokens(ctx, sys, "")); len(all) != 3 {
			t.Fatalf("all tokens: %d, want 3", len(all))
		}
		u1 := testenv.MustGet[*security.Principal](t)(p.Authenticate(ctx, forever))
		_, err = p.ListTokens(ctx, u1, o.u2)
		wantCode(t, err, outpost.CodeForbidden)
		// A user cannot even see another user's token to revoke it.
		u2list := testenv.MustGet[[]platform.TokenInfo](t)(p.ListTokens(ctx, sys, o.u2))
		wantCode(t, p.RevokeToken(ctx, u1, u2list[0].ID), outpost.CodeNotFound)
		testenv.MustGet[*security.Principal](t)(p.Authenticate(ctx, u2tok))

		// Expiry: the short token stops working, the other goes on.
		c.add(time.Hour)
		_, err = p.Authenticate(ctx, short)
		wantCode(t, err, outpost.CodeTokenExpired)
		testenv.MustGet[*security.Principal](t)(p.Authenticate(ctx, forever))

		// Revoke by id: at once.
		testenv.Must(t, p.RevokeToken(ctx, u1, byName["etl"].ID))
		_, err = p.Authenticate(ctx, forever)
		wantCode(t, err, outpost.CodeUnauthorized)
		wantCode(t, p.RevokeToken(ctx, sys, byName["etl"].ID), outpost.CodeNotFound)
	})
}

func TestDeviceRefreshRotationAndReuse(t *testing.T) {
	forEachEngineClock(t, func(t *testing.T, p *platform.Platform, c *clock) {
		ctx := context.Background()
		o := newOrg(t, p)
		cred := testenv.MustGet[platform.DeviceCredential](t)(p.SignInDevice(ctx, o.u1, platform.DeviceInput{Name: "Nora's phone", Platform: "android"}))
		got := testenv.MustGet[platform.Credential](t)(p.Verify(ctx, cred.AccessToken))
		if got.Kind != platform.KindDevice || got.DeviceID != cred.DeviceID || got.UserID != o.u1 {
			t.Fatalf("credential = %+v", got)
		}
		// The access token is short-lived.
		c.add(16 * time.Minute)
		_, err := p.Verify(ctx, cred.AccessToken)
		wantCode(t, err, outpost.CodeTokenExpired)
		next := testenv.MustGet[platform.DeviceCredential](t)(p.RefreshDevice(ctx, cred.RefreshToken))
		if next.DeviceID != cred.DeviceID || next.RefreshToken == cred.RefreshToken || next.AccessToken == cred.AccessToken {
			t.Fatalf("refresh did not rotate: %+v", next)
		}
		testenv.MustGet[platform.Credential](t)(p.Verify(ctx, next.AccessToken))
		// A device that lost the reply sends the same token again at once:
		// it gets a new pair, and the lost one is dead.
		lost := testenv.MustGet[platform.DeviceCredential](t)(p.RefreshDevice(ctx, next.RefreshToken))
		c.add(10 * time.Second)
		third := testenv.MustGet[platform.DeviceCredential](t)(p.RefreshDevice(ctx, next.RefreshToken))
		if third.RefreshToken == lost.RefreshToken {
			t.Fatal("the retried refresh gave the lost token again")
		}
		_, err = p.RefreshDevice(ctx, lost.RefreshToken)
		wantCode(t, err, outpost.CodeUnauthorized)
		testenv.MustGet[platform.Credential](t)(p.Verify(ctx, third.AccessToken))
		// Later, the first refresh token comes back: a replay.
		c.add(2 * time.Minute)
		_, err = p.RefreshDevice(ctx, cred.RefreshToken)
		wantCode(t, err, outpost.CodeDeviceRevoked)
		// The whole device is revoked: its current credential too.
		_, err = p.Verify(ctx, third.AccessToken)
		wantCode(t, err, outpost.CodeDeviceRevoked)
		_, err = p.RefreshDevice(ctx, third.RefreshToken)
		wantCode(t, err, outpost.CodeDeviceRevoked)
		_, err = p.RefreshDevice(ctx, "opr_unknown")
		wantCode(t, err, outpost.CodeUnauthorized)
		devs := testenv.MustGet[[]platform.DeviceInfo](t)(p.ListDevices(ctx, platform.System(), platform.DeviceFilter{UserID: o.u1, IncludeRevoked: true}))
		if len(devs) != 1 || devs[0].RevokedOn == nil || devs[0].RevokedReason != "refresh token replayed" || devs[0].Name != "Nora's phone" || devs[0].Platform != "android" {
			t.Fatalf("devices = %+v", devs)
		}
		// Signing in again with the revoked id makes a new device.
		again := testenv.MustGet[platform.DeviceCredential](t)(p.SignInDevice(ctx, o.u1, platform.DeviceInput{DeviceID: cred.DeviceID, Name: "phone"}))
		if again.DeviceID == cred.DeviceID {
			t.Fatal("a revoked device came back")
		}
		// The refresh token expires too.
		c.add(31 * 24 * time.Hour)
		_, err = p.RefreshDevice(ctx, again.RefreshToken)
		wantCode(t, err, outpost.CodeUnauthorized)
	})
}

func TestRevokeDeviceAndDisableUser(t *testing.T) {
	forEachEngineClock(t, func(t *testing.T, p *platform.Platform, c *clock) {
		ctx := context.Background()
		o := newOrg(t, p)
		sys := platform.System()
		phone := testenv.MustGet[platform.DeviceCredential](t)(p.SignInDevice(ctx, o.u1, platform.DeviceInput{Name: "phone"}))
		tablet := testenv.MustGet[platform.DeviceCredential](t)(p.SignInDevice(ctx, o.u1, platform.DeviceInput{Name: "tablet"}))
		other := testenv.MustGet[platform.DeviceCredential](t)(p.SignInDevice(ctx, o.u2, platform.DeviceInput{Name: "u2 phone"}))
		u1 := testenv.MustGet[*security.Principal](t)(p.Principal(ctx, o.u1))
		u2 := testenv.MustGet[*security.Principal](t)(p.Principal(ctx, o.u2))

		if own := testenv.MustGet[[]platform.DeviceInfo](t)(p.ListDevices(ctx, u1, platform.DeviceFilter{})); len(own) != 2 {
			t.Fatalf("u1 lists %d devices, want 2", len(own))
		}
		_, err := p.ListDevices(ctx, u1, platform.DeviceFilter{UserID: o.u2})
		wantCode(t, err, outpost.CodeForbidden)
		if all := testenv.MustGet[[]platform.DeviceInfo](t)(p.ListDevices(ctx, sys, platform.DeviceFilter{})); len(all) != 3 {
			t.Fatalf("admin lists %d devices, want 3", len(all))
		}
		c.add(time.Minute)
		testenv.Must(t, p.DeviceContact(ctx, tablet.DeviceID, 4))
		recent := testenv.MustGet[[]platform.DeviceInfo](t)(p.ListDevices(ctx, sys, platform.DeviceFilter{SeenSince: c.now().Add(-time.Second)}))
		if len(recent) != 1 || recent[0].DeviceID != tablet.DeviceID || recent[0].PendingUpload != 4 {
			t.Fatalf("seen in the last second: %+v", recent)
		}

		// Another user's device is not found; the owner revokes their own.
		wantCode(t, p.RevokeDevice(ctx, u2, phone.DeviceID), outpost.CodeNotFound)
		testenv.Must(t, p.RevokeDevice(ctx, u1, phone.DeviceID))
		_, err = p.Verify(ctx, phone.AccessToken)
		wantCode(t, err, outpost.CodeDeviceRevoked)
		testenv.MustGet[platform.Credential](t)(p.Verify(ctx, tablet.AccessToken))

		// Disabling the user revokes their devices; re-enabling does not revive them.
		testenv.MustGet[outpost.Row](t)(p.Update(ctx, sys, "systemuser", o.u1, map[string]any{"isdisabled": true}))
		_, err = p.Verify(ctx, tablet.AccessToken)
		wantCode(t, err, outpost.CodeDeviceRevoked)
		testenv.MustGet[outpost.Row](t)(p.Update(ctx, sys, "systemuser", o.u1, map[string]any{"isdisabled": false}))
		_, err = p.Verify(ctx, tablet.AccessToken)
		wantCode(t, err, outpost.CodeDeviceRevoked)
		_, err = p.RefreshDevice(ctx, tablet.RefreshToken)
		wantCode(t, err, outpost.CodeDeviceRevoked)
		testenv.MustGet[platform.Credential](t)(p.Verify(ctx, other.AccessToken))
	})
}

func TestPasswordChangeEndsDeviceCredentials(t *testing.T) {
	forEachEngineClock(t, func(t *testing.T, p *platform.Platform, c *clock) {
		ctx := context.Background()
		o := newOrg(t, p)
		sys := platform.System()
		testenv.Must(t, p.SetPassword(ctx, sys, o.u1, goodPassword, ""))
		cred := testenv.MustGet[platform.DeviceCredential](t)(p.SignInDevice(ctx, o.u1, platform.DeviceInput{Name: "phone"}))
		testenv.Must(t, p.SetPassword(ctx, sys, o.u1, "a brand new password", ""))
		// Signed out, not revoked: the device keeps its data and signs in again.
		_, err := p.Verify(ctx, cred.AccessToken)
		wantCode(t, err, outpost.CodeUnauthorized)
		_, err = p.RefreshDevice(ctx, cred.RefreshToken)
		wantCode(t, err, outpost.CodeUnauthorized)
		again := testenv.MustGet[platform.DeviceCredential](t)(p.SignInDevice(ctx, o.u1, platform.DeviceInput{DeviceID: cred.DeviceID, Name: "phone"}))
		if again.DeviceID != cred.DeviceID {
			t.Fatalf("the device came back as %s, want %s", again.DeviceID, cred.DeviceID)
		}
		testenv.MustGet[platform.Credential](t)(p.Verify(ctx, again.AccessToken))
	})
}
