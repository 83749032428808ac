package carbon

import (
	"strings"
	"testing"
)

// The boundary names what the domains are: a GPU is not a CPU package.
func TestBoundaryNamesGPUs(t *testing.T) {
	for _, tc := range []struct {
		doms []string
		want string
	}{
		{[]string{"package-0", "dram-0"}, "(CPU packages and their DRAM as the meters see them), times PUE; not included: other devices"},
		{[]string{"package-0", "gpu-0"}, "(CPU packages, their DRAM and GPUs as the meters see them), times PUE; not included: devices not listed"},
		{[]string{"gpu-0", "gpu-1"}, "(GPUs as the meters see them), times PUE; not included: the CPUs, their memory, other devices"},
	} {
		if got := Boundary(tc.doms); !strings.Contains(got, tc.want) {
			t.Errorf("%v: %s", tc.doms, got)
		}
	}
}
