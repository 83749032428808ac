package report

import (
	"reflect"
	"testing"

	"github.com/joulebench/joulebench/results"
)

func TestDeviceLines(t *testing.T) {
	m := results.Meter{Name: "nvml", Devices: []results.Device{
		{Domain: "gpu-0", Name: "NVIDIA H200", Architecture: "Hopper", UUID: "GPU-0", DriverVersion: "550.54", CUDAVersion: "12.4", PowerLimitW: 700, EnergyMethod: results.MethodCounter, Notes: []string{"counter updates every 100 ms"}},
		{Domain: "gpu-1", Name: "NVIDIA H200", EnergyMethod: results.MethodSampledPower, Unsupported: []string{"temperature"}, Notes: []string{"counter updates every 100 ms", "power is a 1 s average"}},
	}}
	want := []string{
		"gpu-0: NVIDIA H200 (Hopper); GPU-0; driver 550.54, CUDA 12.4; power limit 700 W; energy from its counter",
		"gpu-1: NVIDIA H200; energy from power readings integrated over time; not reported by the driver: temperature",
		"gpu-0, gpu-1 note: counter updates every 100 ms",
		"gpu-1 note: power is a 1 s average",
	}
	if got := DeviceLines(m); !reflect.DeepEqual(got, want) {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	if got := DeviceLines(results.Meter{Name: "rapl"}); got != nil {
		t.Fatalf("a meter without devices: %q", got)
	}
}
