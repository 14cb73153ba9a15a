package syncsrv

import (
	"sync"
	"time"

	"github.com/outposthq/outpost"
)

// Defaults of the per-user and per-device limits of Options.
const (
	// DefaultSnapshotStreamsPerUser: a device reads the next table while it
	// stores the current one (two streams), so two devices of one user
	// downloading at once fit.
	DefaultSnapshotStreamsPerUser = 4
	// DefaultEventStreamsPerUser and DefaultEventStreamsPerDevice bound the
	// change-hint streams (GET /events) one user and one device hold.
	DefaultEventStreamsPerUser   = 8
	DefaultEventStreamsPerDevice = 2
	// DefaultStagedBytesPerDevice and DefaultStagedBytesPerUser bound the
	// staged file content waiting for its change: a device stages one
	// upload batch's files (at most 64 MiB of them, plus the last) before
	// it sends the batch.
	DefaultStagedBytesPerDevice = 128 << 20
	DefaultStagedBytesPerUser   = 512 << 20
	// DefaultStagedFileMaxAge: a device stages a file just before it
	// uploads the change that attaches it, so content still staged a day
	// later belongs to a change that will not come.
	DefaultStagedFileMaxAge = 24 * time.Hour
)

// counter bounds how many of something each key (a user, a device) holds
// at once. It lives in memory: the limits are per server.
type counter struct {
	mu  sync.Mutex
	n   map[string]int
	max int
}

func newCounter(max int) *counter { return &counter{n: map[string]int{}, max: max} }

// take counts one more for key and returns its release, or false when key
// holds max already.
func (c *counter) take(key string) (release func(), ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n[key] >= c.max {
		return nil, false
	}
	c.n[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.n[key]--; c.n[key] <= 0 {
				delete(c.n, key)
			}
		})
	}, true
}

// tooMany is the error of a limit of concurrent streams.
func tooMany(what string, max int, whose string) error {
	return outpost.Errorf(outpost.CodeTooMany, "%s holds %d %s already, the most allowed at once: finish or close one, then try again", whose, max, what)
}
