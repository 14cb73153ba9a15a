package client_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/outposthq/outpost/client"
	"github.com/outposthq/outpost/internal/testenv"
	"github.com/outposthq/outpost/platform"
)

// TestPushHint: a running scheduler gets the server's change hint and
// syncs a new row long before any table's interval is due; a local change
// is pushed at once.
func TestPushHint(t *testing.T) {
	e := testenv.Engines(t)[0]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newWorld(t, e, 2)
	w.seed([]string{w.users[0]}, 1, 1)
	dev := w.device(0, t.TempDir(), &faults{})
	_, err := dev.Sync(ctx, client.SyncOptions{})
	testenv.Must(t, err)
	done := make(chan error, 1)
	go func() { done <- dev.Run(ctx, client.RunOptions{}) }()
	testenv.WaitFor(t, 5*time.Second, func() error {
		if !dev.HintsConnected() {
			return fmt.Errorf("change hints not connected")
		}
		return nil
	})
	row, err := w.p.Create(ctx, platform.System(), "workorder", map[string]any{"name": "Pushed", "ownerid": w.users[0]})
	testenv.Must(t, err)
	id := row["workorderid"].(string)
	testenv.WaitFor(t, 5*time.Second, func() error {
		_, err := dev.Get(ctx, "workorder", id)
		return err
	})
	testenv.Must(t, dev.Update(ctx, "workorder", id, map[string]any{"description": "from the device"}))
	testenv.WaitFor(t, 5*time.Second, func() error {
		r, err := w.p.Get(ctx, platform.System(), "workorder", id, nil)
		if err != nil {
			return err
		}
		if r["description"] != "from the device" {
			return fmt.Errorf("server description = %v", r["description"])
		}
		return nil
	})
	cancel()
	testenv.Must(t, <-done)
}
