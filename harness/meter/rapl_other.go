//go:build !linux

package meter

import (
	"errors"
	"fmt"
)

// OpenRAPL reports that RAPL through powercap exists only on Linux.
func OpenRAPL(sysfsRoot string) (Meter, error) {
	return nil, fmt.Errorf("rapl: powercap is a Linux interface: %w", errors.ErrUnsupported)
}
