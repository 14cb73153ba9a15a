package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/outposthq/outpost"
)

// ErrAccessLost wraps the server's refusal of a device whose user may no
// longer use the app offline (the role that opens it was removed, the
// profile was restricted to other users and teams, the app is no longer
// offline). The device stops offering the app: it leaves the device's app
// index, so opening it again needs the server, which decides afresh.
var ErrAccessLost = errors.New("you no longer have access to this app")

// accessLost reports whether err is the server's lost-access refusal: a
// forbidden error naming the app.
func accessLost(err error) bool {
	return outpost.ErrorCode(err) == outpost.CodeForbidden && outpost.ErrorTarget(err) == "appId"
}

// loseAccess records that the app may no longer be used on this device
// and removes it from the app index; it returns err wrapped in
// ErrAccessLost.
func (c *Client) loseAccess(ctx context.Context, err error) error {
	msg := outpost.ErrorMessage(err)
	if serr := setMeta(ctx, c.db, "accesslost", msg); serr != nil {
		return errors.Join(fmt.Errorf("%w: %w", ErrAccessLost, err), serr)
	}
	if ierr := forgetApp(c.opts.Dir, c.opts.Server, hashOf(c.opts.Token), c.opts.AppID); ierr != nil {
		return errors.Join(fmt.Errorf("%w: %w", ErrAccessLost, err), ierr)
	}
	return fmt.Errorf("%w: %w", ErrAccessLost, err)
}

// forgetApp drops the app's entry from the device's app index.
func forgetApp(dir, server, tokHash, appID string) error {
	idx, err := readIndex(dir)
	if err != nil {
		return err
	}
	kept := idx[:0]
	for _, e := range idx {
		if !(e.Server == server && e.TokenHash == tokHash && e.AppID == appID) {
			kept = append(kept, e)
		}
	}
	return writeIndex(dir, kept)
}
