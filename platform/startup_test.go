package platform_test

import (
	"context"
	"sync"
	"testing"

	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/store/postgres"
)

// TestServersStartTogether opens several stores and platforms at once on
// one new PostgreSQL schema, as several servers starting together do:
// every one starts, and the environment is bootstrapped once.
func TestServersStartTogether(t *testing.T) {
	testenv.Engines(t)
	url := testenv.PostgresURL(t)
	const servers = 6
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, servers)
	plats := make([]*platform.Platform, servers)
	for i := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			db, err := postgres.Open(ctx, url)
			if err != nil {
				errs[i] = err
				return
			}
			t.Cleanup(func() { _ = db.Close() })
			plats[i], errs[i] = platform.Open(ctx, db, platform.Options{})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
	}
	var units int
	if err := plats[0].DB().Read.QueryRowContext(ctx, `SELECT count(*) FROM businessunit`).Scan(&units); err != nil || units != 1 {
		t.Fatalf("business units: %d, %v; want the one root", units, err)
	}
	for i, p := range plats {
		if _, ok := p.Schema().Table("account"); !ok {
			t.Errorf("server %d has no account table in its schema", i)
		}
	}
}
