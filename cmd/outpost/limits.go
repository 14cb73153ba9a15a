package main

import (
	"flag"
	"time"

	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/syncsrv"
)

// HTTP server timeouts. A whole request must arrive within readTimeout
// (file uploads included) and an ordinary reply be written within
// writeTimeout; long streams (snapshot pages, change hints) set a deadline
// per write instead (httpapi.Options.StreamWriteTimeout), so they may run
// for hours while a device that stops reading is dropped.
const (
	readHeaderTimeout = 10 * time.Second
	readTimeout       = 5 * time.Minute
	writeTimeout      = 5 * time.Minute
	idleTimeout       = 2 * time.Minute
)

// limitFlags are the server's per-user and per-device limits
// (docs/security.md, "Limits").
type limitFlags struct {
	snapshotStreams    int
	eventStreamsUser   int
	eventStreamsDevice int
	stagedDeviceMiB    int64
	stagedUserMiB      int64
	stagedMaxAge       time.Duration
	streamWriteTimeout time.Duration
}

func (l *limitFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&l.snapshotStreams, "max-snapshot-streams-per-user", syncsrv.DefaultSnapshotStreamsPerUser, "snapshot streams one user may have open at once")
	fs.IntVar(&l.eventStreamsUser, "max-event-streams-per-user", syncsrv.DefaultEventStreamsPerUser, "change-hint streams one user may have open at once")
	fs.IntVar(&l.eventStreamsDevice, "max-event-streams-per-device", syncsrv.DefaultEventStreamsPerDevice, "change-hint streams one device may have open at once")
	fs.Int64Var(&l.stagedDeviceMiB, "max-staged-mib-per-device", syncsrv.DefaultStagedBytesPerDevice>>20, "MiB of staged file content one device may hold before its changes attach it")
	fs.Int64Var(&l.stagedUserMiB, "max-staged-mib-per-user", syncsrv.DefaultStagedBytesPerUser>>20, "MiB of staged file content one user may hold before their changes attach it")
	fs.DurationVar(&l.stagedMaxAge, "staged-file-max-age", syncsrv.DefaultStagedFileMaxAge, "how long staged file content whose change never came is kept")
	fs.DurationVar(&l.streamWriteTimeout, "stream-write-timeout", httpapi.DefaultStreamWriteTimeout, "how long one write of a snapshot or change stream may take before the stream is cut")
}

// apply sets the limits in the engine's and the API's options.
func (l *limitFlags) apply(so *syncsrv.Options, ho *httpapi.Options) {
	so.SnapshotStreamsPerUser = l.snapshotStreams
	so.EventStreamsPerUser = l.eventStreamsUser
	so.EventStreamsPerDevice = l.eventStreamsDevice
	so.StagedBytesPerDevice = l.stagedDeviceMiB << 20
	so.StagedBytesPerUser = l.stagedUserMiB << 20
	so.StagedFileMaxAge = l.stagedMaxAge
	ho.StreamWriteTimeout = l.streamWriteTimeout
}
