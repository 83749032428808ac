//go:build !linux

package meter

import (
	"errors"
	"fmt"
)

// OpenRAPL reports that RAPL through powercap exists only on Linux; a
// sysfsRoot that is no directory is still bad input (ErrBadRoot).
func OpenRAPL(sysfsRoot string) (Meter, error) {
	if sysfsRoot == "" {
		sysfsRoot = DefaultSysfsRoot
	}
	if err := checkRoot("sysfs", "--sysfs-root", sysfsRoot, DefaultSysfsRoot); errors.Is(err, ErrBadRoot) {
		return nil, fmt.Errorf("rapl: %w", err)
	}
	return nil, fmt.Errorf("rapl: powercap is a Linux interface: %w", errors.ErrUnsupported)
}
