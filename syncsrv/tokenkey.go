package syncsrv

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"github.com/outposthq/outpost/sqlgen"
)

// Sync tokens are signed: a device cannot make one up (ask from version 0,
// claim another scope fingerprint, date it years ahead) without the
// server's secret. The secrets live in the database (outpost_synckey), so
// every server on one database verifies the tokens of the others. The
// newest key signs; older keys still verify the tokens they signed until
// those expire, then they are dropped. The janitor makes a new key every
// KeyRotation.

// DefaultKeyRotation is how often the token signing key is replaced.
const DefaultKeyRotation = 30 * 24 * time.Hour

// keyReload bounds how long a server signs with a key after another
// server made a newer one.
const keyReload = 10 * time.Minute

// signKey is one secret.
type signKey struct {
	id      int64
	secret  []byte
	created time.Time
}

// tokenKeys caches the keys read from the database.
type tokenKeys struct {
	mu     sync.Mutex
	keys   map[int64]signKey
	newest int64
	loaded time.Time
}

// load reads every key, making the first one when there is none.
func (e *Engine) loadKeys(ctx context.Context) error {
	db := e.p.DB()
	read := func() (map[int64]signKey, int64, error) {
		rows, err := db.Write.QueryContext(ctx, `SELECT id, secret, createdms FROM outpost_synckey`)
		if err != nil {
			return nil, 0, fmt.Errorf("read sync token keys: %w", err)
		}
		defer rows.Close()
		keys := map[int64]signKey{}
		var newest int64
		for rows.Next() {
			var k signKey
			var secret string
			var ms int64
			if err := rows.Scan(&k.id, &secret, &ms); err != nil {
				return nil, 0, err
			}
			if k.secret, err = hex.DecodeString(secret); err != nil {
				return nil, 0, fmt.Errorf("sync token key %d is damaged: %w", k.id, err)
			}
			k.created = time.UnixMilli(ms).UTC()
			keys[k.id] = k
			newest = max(newest, k.id)
		}
		return keys, newest, rows.Err()
	}
	keys, newest, err := read()
	if err == nil && len(keys) == 0 {
		if err = e.addKey(ctx, 1); err == nil {
			keys, newest, err = read()
		}
	}
	if err != nil {
		return err
	}
	e.keys.mu.Lock()
	e.keys.keys, e.keys.newest, e.keys.loaded = keys, newest, time.Now()
	e.keys.mu.Unlock()
	return nil
}

// addKey stores a new random key numbered id; a key another server
// stored under the same number first wins.
func (e *Engine) addKey(ctx context.Context, id int64) error {
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return fmt.Errorf("make a sync token key: %w", err)
	}
	query, args := sqlgen.NewBuilder(e.p.DB().Dialect).SQL(`INSERT INTO outpost_synckey (id, secret, createdms) VALUES (`).
		Args(id, hex.EncodeToString(secret), e.now().UnixMilli()).SQL(`) ON CONFLICT (id) DO NOTHING`).Build()
	_, err := e.p.DB().Write.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("store a sync token key: %w", err)
	}
	return nil
}

// signingKey returns the newest key, reading the keys when they were never
// read or not for keyReload.
func (e *Engine) signingKey(ctx context.Context) (signKey, error) {
	e.keys.mu.Lock()
	k, ok := e.keys.keys[e.keys.newest]
	fresh := time.Since(e.keys.loaded) < keyReload
	e.keys.mu.Unlock()
	if ok && fresh {
		return k, nil
	}
	if err := e.loadKeys(ctx); err != nil {
		return signKey{}, err
	}
	e.keys.mu.Lock()
	defer e.keys.mu.Unlock()
	return e.keys.keys[e.keys.newest], nil
}

// verifyingKey returns key id, reading the keys again when it is unknown
// (another server may have made it).
func (e *Engine) verifyingKey(ctx context.Context, id int64) (signKey, bool, error) {
	e.keys.mu.Lock()
	k, ok := e.keys.keys[id]
	newest := e.keys.newest
	e.keys.mu.Unlock()
	if ok || (newest > 0 && id < newest) {
		return k, ok, nil
	}
	if err := e.loadKeys(ctx); err != nil {
		return signKey{}, false, err
	}
	e.keys.mu.Lock()
	defer e.keys.mu.Unlock()
	k, ok = e.keys.keys[id]
	return k, ok, nil
}

// mac is the signature of payload under k: 16 bytes of HMAC-SHA256, in
// unpadded base64url.
func (k signKey) mac(payload string) string {
	h := hmac.New(sha256.New, k.secret)
	h.Write([]byte(payload))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:16])
}

// rotateKeys makes a new signing key once the newest is KeyRotation old,
// and drops the keys that cannot have signed a token still valid: those
// replaced longer ago than the token lifetime (plus the reload lag and
// the pruning slack).
func (e *Engine) rotateKeys(ctx context.Context) error {
	k, err := e.signingKey(ctx)
	if err != nil {
		return err
	}
	now := e.now()
	if now.Sub(k.created) >= e.opts.KeyRotation {
		if err := e.addKey(ctx, k.id+1); err != nil {
			return err
		}
	}
	d := e.p.DB().Dialect
	cutoff := now.Add(-(e.opts.TokenMaxAge + keyReload + pruneSlack)).UnixMilli()
	query, args := sqlgen.NewBuilder(d).
		SQL(`DELETE FROM outpost_synckey WHERE id < (SELECT max(id) FROM outpost_synckey WHERE createdms <= `).Arg(cutoff).
		SQL(`)`).Build()
	_, err = e.p.DB().Write.ExecContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("drop old sync token keys: %w", err)
	}
	return e.loadKeys(ctx)
}
