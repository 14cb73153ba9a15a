package main

import (
	"flag"
	"time"

	"github.com/outposthq/outpost/httpapi"
	"github.com/outposthq/outpost/platform"
	"github.com/outposthq/outpost/syncsrv"
)

// HTTP server timeouts (serverflags.go): a whole request must arrive
// within --read-timeout (file uploads included) and an ordinary reply be
// written within --write-timeout; long streams (snapshot pages, change
// hints) set a deadline per write instead (httpapi.Options.
// StreamWriteTimeout), so they may run for hours while a device that stops
// reading is dropped.

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
	tokenMaxAge        time.Duration
	maxRows            int64
	maxBodyMiB         int64
	maxFileMiB         int64
	maxImageMiB        int64
	web                webFlags
	// srv are the timeouts, pool sizes and credential lifetimes.
	srv serverFlags
	// metrics are where /metrics is served and the telemetry's retention.
	metrics metricsFlags
}

func (l *limitFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&l.snapshotStreams, "max-snapshot-streams-per-user", syncsrv.DefaultSnapshotStreamsPerUser, "snapshot streams one user may have open at once")
	fs.IntVar(&l.eventStreamsUser, "max-event-streams-per-user", syncsrv.DefaultEventStreamsPerUser, "change-hint streams one user may have open at once")
	fs.IntVar(&l.eventStreamsDevice, "max-event-streams-per-device", syncsrv.DefaultEventStreamsPerDevice, "change-hint streams one device may have open at once")
	fs.Int64Var(&l.stagedDeviceMiB, "max-staged-mib-per-device", syncsrv.DefaultStagedBytesPerDevice>>20, "MiB of staged file content one device may hold before its changes attach it")
	fs.Int64Var(&l.stagedUserMiB, "max-staged-mib-per-user", syncsrv.DefaultStagedBytesPerUser>>20, "MiB of staged file content one user may hold before their changes attach it")
	fs.DurationVar(&l.stagedMaxAge, "staged-file-max-age", syncsrv.DefaultStagedFileMaxAge, "how long staged file content whose change never came is kept")
	fs.DurationVar(&l.streamWriteTimeout, "stream-write-timeout", httpapi.DefaultStreamWriteTimeout, "how long one write of a snapshot or change stream may take before the stream is cut")
	fs.DurationVar(&l.tokenMaxAge, "token-max-age", syncsrv.DefaultTokenMaxAge, "how long a device's sync token stays valid; older devices re-sync from scratch, and tombstones are pruned past it (servers on one database must agree)")
	fs.Int64Var(&l.maxRows, "max-rows-per-device", syncsrv.DefaultMaxRows, "rows one device may hold; a larger download plan is refused at open")
	fs.Int64Var(&l.maxBodyMiB, "max-body-mib", 4, "MiB a request body may have (file uploads have the file limits)")
	fs.Int64Var(&l.maxFileMiB, "max-file-mib", platform.DefaultMaxFileBytes>>20, "MiB one file of a file column may have")
	fs.Int64Var(&l.maxImageMiB, "max-image-mib", platform.DefaultMaxImageBytes>>20, "MiB one image of an image column may have")
	l.web.register(fs)
	l.srv.register(fs)
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
	so.TokenMaxAge = l.tokenMaxAge
	so.MaxRows = l.maxRows
	ho.MaxBodyBytes = l.maxBodyMiB << 20
	l.metrics.apply(so, ho)
}

// platformOptions sets the file limits in the platform's options.
func (l *limitFlags) platformOptions(po platform.Options) platform.Options {
	po.MaxFileBytes, po.MaxImageBytes = l.maxFileMiB<<20, l.maxImageMiB<<20
	return l.srv.platformOptions(po)
}
