//go:build !linux || !cgo

package meter

import "time"

// NVMLOptions tune the NVML meter; this build has none (see OpenNVML).
// The fields match those of the Linux cgo build so that callers compile
// everywhere.
type NVMLOptions struct {
	// TraceInterval is the shortest time between two telemetry samples.
	TraceInterval time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// OpenNVML reports that this build cannot read NVML: go-nvml needs cgo,
// and joulebench reads NVML only on Linux.
func OpenNVML(opts NVMLOptions) (Meter, error) {
	return nil, &unsupportedError{msg: "NVML needs a Linux build with cgo (this joulebench was built without it: build on Linux with CGO_ENABLED=1 to meter NVIDIA GPUs)"}
}
