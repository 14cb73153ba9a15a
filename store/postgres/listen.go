package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Listen receives PostgreSQL notifications on channel and calls fn with each
// payload until ctx is done. A lost connection is re-established after a
// short pause; notifications sent while disconnected are lost, so fn's
// consumers must tolerate a missed hint (devices still sync on their
// intervals). ready, when not nil, is called once the first LISTEN is active.
func Listen(ctx context.Context, dsn, channel string, fn func(payload string), ready func()) error {
	for {
		err := listenOnce(ctx, dsn, channel, fn, ready)
		ready = nil
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		_ = err // reconnect below
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(time.Second):
		}
	}
}

func listenOnce(ctx context.Context, dsn, channel string, fn func(string), ready func()) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect for notifications: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen %s: %w", channel, err)
	}
	if ready != nil {
		ready()
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		fn(n.Payload)
	}
}
