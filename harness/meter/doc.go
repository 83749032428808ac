// Package meter defines the Meter interface and its backends: RAPL through
// powercap (rapl_linux.go), NVIDIA GPUs through NVML (nvml.go: go-nvml,
// which loads libnvidia-ml.so.1 at run time; tests use go-nvml's mock), a
// modelled estimate (estimate.go) and a deterministic fake (fake.go);
// detect.go picks backends for --meter. --meter auto takes the CPU's meter
// (RAPL, else the estimate) and adds the GPUs: a discrete GPU's energy is
// outside the CPU package's, so the total counts nothing twice.
//
// Meters may say more than energy: a GPU meter describes each device
// (DeviceDescriber), reports telemetry for the record's trace (Tracer) and
// the shortest phase it measures well (MinPhaser). What a driver answers
// NOT_SUPPORTED is recorded as such, not treated as a failure.
//
// A meter only reads cumulative energy. It never runs work, never handles
// counter wrap-around (the harness does that once, from each Domain's
// range) and never imports the workloads. Hardware is reached through an
// injected root (--sysfs-root, --proc-root) so tests run on fixture trees.
//
// Every meter says how far apart its readings may come (GapLimiter): for
// a counter, the time it takes to wrap at the most its domain can draw. A
// meter does not enforce it; the harness marks a repetition whose readings
// leave a longer gap invalid, as a wrap may hide in it.
//
// Everything a sysfs or procfs tree says is outside input, read as a
// certifier would:
//   - every file is opened without blocking (a FIFO) and read only if it
//     is a regular file, within a limit (internal/infile: one page for a
//     sysfs attribute, 16 MiB for a procfs file), at open and at every
//     Read; RAPL reads its zones itself rather than through procfs's
//     sysfs.GetRaplZones, whose reads are neither;
//   - values are plain decimals within range, a counter's range is above
//     zero, a zone's name is one the kernel could write;
//   - what fails these is a broken meter (a real error), never
//     errors.ErrUnsupported: the kernel serves none of it, so the tree is
//     broken or forged, and --meter auto must not fall back quietly to the
//     estimate and hide it;
//   - a root that is no directory is bad input (ErrBadRoot), not a machine
//     without the meter.
//
// A meter must not block without end: Read checks its context between
// files, and a read that blocks all the same is the harness's to time out.
package meter
