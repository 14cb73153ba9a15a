package platform_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/outposthq/outpost/platform"
)

// TestChangesNeverSkipLateCommits runs concurrent writers whose transactions
// commit after random delays against a reader that follows the versions
// ("changes after my token") and never rereads from the start. Every row
// committed must reach the reader. On PostgreSQL, a counter without the
// commit-order guarantee loses rows here: a transaction that took version
// 10 commits after one that took 11 and the reader has moved past 10.
func TestChangesNeverSkipLateCommits(t *testing.T) {
	forEachEngine(t, func(t *testing.T, p *platform.Platform) {
		ctx := context.Background()
		o := newOrg(t, p)
		const writers, perWriter = 6, 25
		var wg sync.WaitGroup
		var done atomic.Bool
		errs := make(chan error, writers)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), 7))
				for i := range perWriter {
					err := p.Write(ctx, func(wr *platform.Writer) error {
						if _, err := wr.Create(ctx, platform.System(), "task", map[string]any{"subject": fmt.Sprintf("w%d-%d", w, i), "ownerid": o.u1}); err != nil {
							return err
						}
						time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond) // commit late
						return nil
					})
					if err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		seen := map[string]int{}
		var token int64
		read := func() {
			for {
				ch, err := p.ChangesSince(ctx, "task", token, 7)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range ch.Rows {
					seen[r["taskid"].(string)]++
				}
				if !ch.More {
					token = ch.Token
					return
				}
				token = ch.Next
			}
		}
		go func() { wg.Wait(); done.Store(true) }()
		for !done.Load() {
			read()
		}
		read()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		page, err := p.List(ctx, platform.System(), "task", platform.Query{PageSize: platform.MaxPageSize, Select: []string{"subject"}})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Rows) != writers*perWriter {
			t.Fatalf("%d rows committed, want %d", len(page.Rows), writers*perWriter)
		}
		for _, r := range page.Rows {
			if seen[r["taskid"].(string)] == 0 {
				t.Errorf("the reader skipped row %v", r["subject"])
			}
		}
		for id, n := range seen {
			if n > 1 {
				t.Errorf("the reader saw row %s %d times", id, n)
			}
		}
	})
}
