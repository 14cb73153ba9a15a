package platform_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/outposthq/outpost"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/schema"
	"github.com/outposthq/outpost/security"
	"github.com/outposthq/outpost/store/sqlite"
)

// TestServersShareCommits runs two servers on one PostgreSQL database: a
// commit on one reaches the other's hooks, and security and metadata changes
// reach its caches.
func TestServersShareCommits(t *testing.T) {
	if testenv.PostgresDSN() == "" {
		t.Skip("OUTPOST_TEST_POSTGRES not set; CI sets it")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := testenv.OpenPostgres(t)
	p1, err := platform.Open(ctx, db, platform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	p2, err := platform.Open(ctx, db, platform.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	p2.OnCommit(func(tables []string) {
		mu.Lock()
		defer mu.Unlock()
		seen = append(seen, tables...)
	})
	ready := make(chan struct{})
	go func() { _ = p2.Listen(ctx, func() { close(ready) }) }()
	<-ready

	o := newOrg(t, p1)
	sys := platform.System()
	testenv.MustGet[outpost.Row](t)(p1.Create(ctx, sys, "account", map[string]any{"name": "a", "ownerid": o.u1}))
	testenv.WaitFor(t, 5*time.Second, func() error {
		mu.Lock()
		defer mu.Unlock()
		if !slices.Contains(seen, "account") {
			return fmt.Errorf("no commit on account seen, only %v", seen)
		}
		return nil
	})

	tok := testenv.MustGet[string](t)(p1.IssueToken(ctx, sys, o.u1, "t"))
	if pr := testenv.MustGet[*security.Principal](t)(p2.Authenticate(ctx, tok)); pr.Privileges.Depth("account", security.Read) != security.None {
		t.Fatal("u1 starts with read on account")
	}
	role(t, p1, o.u1, false, security.Grant{Table: "account", Privilege: security.Read, Depth: security.User})
	testenv.WaitFor(t, 5*time.Second, func() error {
		pr, err := p2.Authenticate(ctx, tok)
		if err != nil {
			return err
		}
		if d := pr.Privileges.Depth("account", security.Read); d != security.User {
			return fmt.Errorf("read depth on account = %v, want user", d)
		}
		return nil
	})

	testenv.MustGet[*schema.Table](t)(p1.CreateTable(ctx, sys, platform.TableInput{Name: "gadget"}))
	testenv.WaitFor(t, 5*time.Second, func() error {
		if _, ok := p2.Schema().Table("gadget"); !ok {
			return errors.New("table gadget not seen")
		}
		return nil
	})
}

// TestSQLiteServerFollowsMetadata changes metadata through a second handle
// on the same SQLite data directory, as outpost admin does while a server
// runs: the server's platform sees the new column without a restart.
func TestSQLiteServerFollowsMetadata(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	open := func() *platform.Platform {
		db, err := sqlite.Open(ctx, dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = db.Close() })
		return testenv.MustGet[*platform.Platform](t)(platform.Open(ctx, db, platform.Options{}))
	}
	server := open()
	old := platform.MetadataPoll
	platform.MetadataPoll = 20 * time.Millisecond
	defer func() { platform.MetadataPoll = old }()
	ready := make(chan struct{})
	go func() { _ = server.Listen(ctx, func() { close(ready) }) }()
	<-ready
	admin := open()
	sys := platform.System()
	testenv.MustGet[*schema.Table](t)(admin.AddColumn(ctx, sys, "account", schema.Column{Name: "new_notes", Type: schema.Memo}))
	testenv.WaitFor(t, 5*time.Second, func() error {
		if _, ok := server.Schema().MustTable("account").Column("new_notes"); !ok {
			return errors.New("column account.new_notes not seen")
		}
		return nil
	})
	o := newOrg(t, server)
	row := testenv.MustGet[outpost.Row](t)(server.Create(ctx, sys, "account", map[string]any{"name": "a", "ownerid": o.u1, "new_notes": "seen"}))
	if row["new_notes"] != "seen" {
		t.Fatalf("row = %v", row)
	}
}
