package main

import (
	"context"
	"errors"
	"io"
)

// runDevice runs "outpost device ...": the field device.
func runDevice(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return errors.New("outpost device is not available yet")
}
