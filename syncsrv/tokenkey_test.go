package syncsrv_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/profile"
	"github.com/outposthq/outpost/syncsrv"
	"github.com/outposthq/outpost/wire"
)

// TestTokenKeysRotateAndAreShared: servers on one database verify each
// other's tokens; after a key rotation tokens signed with the old key stay
// valid until they expire, new tokens are signed with the new key, and the
// old key is dropped once no valid token can carry it.
func TestTokenKeysRotateAndAreShared(t *testing.T) {
	testenv.ForEachEngine(t, func(t *testing.T, e testenv.Engine) {
		t.Parallel()
		ctx := context.Background()
		s := newServers(t, e)
		var mu sync.Mutex
		now := time.Now().UTC()
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		opts := syncsrv.Options{Now: clock, KeyRotation: 24 * time.Hour}
		eng1 := syncsrv.New(s.p1, profile.New(s.p1), opts)
		eng2 := syncsrv.New(s.p2, s.prof2, opts)
		s.eng1 = eng1
		d := s.register(t)
		req := func() wire.DeltaRequest {
			r := wire.DeltaRequest{DeviceID: d.id, ProfileVersion: d.version}
			for _, table := range sortedKeys(d.tokens) {
				r.Tables = append(r.Tables, wire.TableState{Table: table, Token: d.tokens[table]})
			}
			return r
		}
		old := req()
		if _, err := eng2.Delta(ctx, s.principal(t), old); err != nil {
			t.Fatalf("the second server refuses the first one's token: %v", err)
		}

		// A day later the janitor rotates the key.
		advance(25 * time.Hour)
		if _, err := eng1.Prune(ctx); err != nil {
			t.Fatal(err)
		}
		for _, eng := range []*syncsrv.Engine{eng1, eng2} {
			if _, err := eng.Delta(ctx, s.principal(t), old); err != nil {
				t.Fatalf("a token of the old key is refused after the rotation: %v", err)
			}
		}
		resp, err := eng1.Delta(ctx, s.principal(t), old)
		if err != nil {
			t.Fatal(err)
		}
		fresh := wire.DeltaRequest{DeviceID: d.id, ProfileVersion: d.version}
		for _, td := range resp.Deltas {
			fresh.Tables = append(fresh.Tables, wire.TableState{Table: td.Table, Token: td.Token})
		}
		keyOf := func(tok string) string { return strings.Split(tok, ".")[3] }
		if keyOf(old.Tables[0].Token) != "1" || keyOf(fresh.Tables[0].Token) != "2" {
			t.Fatalf("tokens before and after the rotation: %q and %q, want keys 1 and 2", old.Tables[0].Token, fresh.Tables[0].Token)
		}
		if _, err := eng2.Delta(ctx, s.principal(t), fresh); err != nil {
			t.Fatalf("the second server refuses a token of the new key: %v", err)
		}

		// Once the new key is older than a token lives, the old key
		// goes; its tokens had expired anyway.
		advance(8 * 24 * time.Hour)
		if _, err := eng1.Prune(ctx); err != nil {
			t.Fatal(err)
		}
		var keys int
		if err := s.p1.DB().Read.QueryRowContext(ctx, `SELECT count(*) FROM outpost_synckey`).Scan(&keys); err != nil {
			t.Fatal(err)
		}
		if keys > 2 {
			t.Fatalf("%d keys kept after the old one expired, want at most 2", keys)
		}
		if _, err := eng1.Delta(ctx, s.principal(t), old); outpost.ErrorCode(err) != outpost.CodeGone {
			t.Fatalf("a nine-day-old token: %v, want gone", err)
		}
	})
}
