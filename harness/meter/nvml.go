//go:build linux && cgo

package meter

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/NVIDIA/go-nvml/pkg/nvml"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
)

// NVMLLib is the part of the NVML library interface the NVML meter calls
// at the library level: go-nvml's nvml.New() and the package-level
// library satisfy it, and so do go-nvml's mock.Interface and the machines
// of its mock packages (dgxh200.New()), which tests inject. Devices are
// go-nvml's nvml.Device.
type NVMLLib interface {
	Init() nvml.Return
	Shutdown() nvml.Return
	DeviceGetCount() (int, nvml.Return)
	DeviceGetHandleByIndex(int) (nvml.Device, nvml.Return)
	SystemGetDriverVersion() (string, nvml.Return)
	SystemGetCudaDriverVersion() (int, nvml.Return)
	SystemGetNVMLVersion() (string, nvml.Return)
	// Extensions gives LookupSymbol, which tells whether the loaded
	// libnvidia-ml.so.1 has a function at all: go-nvml calls functions
	// through lazily bound symbols, so calling one an older driver lacks
	// would end the process.
	Extensions() nvml.ExtendedInterface
}

// NVMLOptions tune the NVML meter.
type NVMLOptions struct {
	// TraceInterval is the shortest time between two telemetry samples of
	// a GPU (power, clocks, temperature, utilisation, throttle reasons,
	// processes). Telemetry is sampled inside Read, at most this often, so
	// that the frequent energy reads stay cheap. Zero or less means
	// DefaultNVMLTraceInterval.
	TraceInterval time.Duration
	// Now is the clock; nil means time.Now. Tests replace it to integrate
	// sampled power over a known time.
	Now func() time.Time
}

// DefaultNVMLTraceInterval is how often the NVML meter samples telemetry
// unless told otherwise. The driver's utilisation figures cover a period
// of between 1/6 s and 1 s depending on the product (NVML API reference,
// nvmlUtilization_t), so sampling faster would mostly repeat them.
const DefaultNVMLTraceInterval = time.Second

// The minimum phases the NVML meter declares (MinPhaser). The energy
// counter updates about every 100 ms, so a reading at a phase edge may be
// up to 0.1 s stale: at most 2% of a 5 s phase per edge. A 1 s power
// average reaches a step in load only after 1 s, so about half a second
// of the step is missed at an edge: at most about 5% of a 10 s phase. Any
// GPU on sampled power gets the longer phase, whatever its averaging, as
// its sensor may also see only part of the time.
const (
	nvmlMinPhaseCounter = 5 * time.Second
	nvmlMinPhaseSampled = 10 * time.Second
)

// The names of the NVML queries, as Device.Unsupported and the notes give
// them: the C function names, which NVIDIA's documentation uses.
const (
	qEnergy        = "nvmlDeviceGetTotalEnergyConsumption"
	qPower         = "nvmlDeviceGetPowerUsage"
	qSMClock       = "nvmlDeviceGetClockInfo(NVML_CLOCK_SM)"
	qMemClock      = "nvmlDeviceGetClockInfo(NVML_CLOCK_MEM)"
	qTemp          = "nvmlDeviceGetTemperature(NVML_TEMPERATURE_GPU)"
	qUtil          = "nvmlDeviceGetUtilizationRates"
	qEventReasons  = "nvmlDeviceGetCurrentClocksEventReasons"
	qThrottle      = "nvmlDeviceGetCurrentClocksThrottleReasons"
	qProcs         = "nvmlDeviceGetComputeRunningProcesses"
	qProcUtil      = "nvmlDeviceGetProcessUtilization"
	qEnforcedLimit = "nvmlDeviceGetEnforcedPowerLimit"
	qMgmtLimit     = "nvmlDeviceGetPowerManagementLimit"
	qArch          = "nvmlDeviceGetArchitecture"
)

// Sources of the published figures the notes rely on.
const (
	// The abstract of the SC24 paper says: "on the A100 and H100 GPUs
	// only 25% of the runtime is sampled" (also in its preprint,
	// arXiv:2312.02741, "Part-time Power Measurements: nvidia-smi's Lack
	// of Attention").
	citeYang = `Yang, Adamek and Armour ("Accurate and Convenient Energy Measurements for GPUs: A Detailed Study of NVIDIA GPU's Built-In Power Sensor", SC24)`
	// NVML API reference, nvmlDeviceGetPowerUsage: "On Ampere (except
	// GA100) or newer GPUs, the API returns power averaged over 1 sec
	// interval. On GA100 and older architectures, instantaneous power is
	// returned."
	citePowerUsage = "NVML API reference, nvmlDeviceGetPowerUsage"
	// NVIDIA does not document the counter's update rate. The ML.ENERGY
	// blog ("Thermally Stable Profiling for Accurate GPU Energy
	// Measurement") gives about every 100 ms; PETSc's manual page for
	// PetscLogGpuEnergyMeter gives every 20-100 ms on newer GPUs.
	citeCounterRate = `ML.ENERGY blog, "Thermally Stable Profiling for Accurate GPU Energy Measurement"; NVIDIA does not document the rate`
)

// NVML reads the energy of NVIDIA GPUs through NVML (libnvidia-ml.so.1,
// which comes with the driver): per GPU, its total energy counter where the
// GPU has one (Volta and newer), else its power reading integrated over
// time. Each GPU is a domain "gpu-<index>" in NVML's order. Besides
// energy it samples telemetry (Tracer), describes each GPU (DeviceDescriber)
// and declares the shortest phase it measures well (MinPhaser).
//
// Read must be called from one goroutine at a time; Trace, Devices and
// Notes may be called from another while a Read runs.
type NVML struct {
	lib           NVMLLib
	now           func() time.Time
	traceInterval time.Duration
	domains       []Domain
	gpus          []*nvmlGPU
	method        Method
	source        string
	closeOnce     sync.Once
	closeErr      error

	// Read's own state: only Read touches it.
	lastTrace time.Time
	traced    bool

	mu      sync.Mutex // guards what Trace, Devices and Notes read
	pending []TraceSample
	notes   []string // telemetry failures, each once
	noted   map[string]bool
}

var (
	_ Meter           = (*NVML)(nil)
	_ Describer       = (*NVML)(nil)
	_ Tracer          = (*NVML)(nil)
	_ DeviceDescriber = (*NVML)(nil)
	_ MinPhaser       = (*NVML)(nil)
)

// nvmlGPU is one GPU and what Read keeps of it between reads.
type nvmlGPU struct {
	dev   nvml.Device
	index int
	// desc is the device as the record describes it, less Unsupported
	// and Notes, which Devices builds.
	desc results.Device
	// blind are the GPU's known blind spots, fixed at open; failed are
	// the telemetry queries that failed (other than NOT_SUPPORTED), and
	// unsupported those that answered NOT_SUPPORTED. Both grow during the
	// run, under NVML.mu.
	blind       []string
	failed      []string
	unsupported map[string]bool
	class       gpuClass
	counter     bool // energy from the counter, else from sampled power
	eventsFunc  bool // the driver has nvmlDeviceGetCurrentClocksEventReasons

	// Counter state: the last raw counter value in mJ, and what is added
	// to the raw value so that readings stay monotone across resets.
	lastMJ   uint64
	haveLast bool
	offsetMJ uint64

	// Sampled-power state: the energy so far in µJ, the remainder below
	// 1 µJ in mW·ns, and when power was last read.
	sumUJ   int64
	remMWNs uint64
	lastT   time.Time
	started bool

	// lastProcTS is the newest timestamp nvmlDeviceGetProcessUtilization
	// returned, so that each call asks only for newer samples.
	lastProcTS uint64
}

// gpuClass sorts GPUs by what is known of their power sensor.
type gpuClass int

const (
	classUnknown gpuClass = iota
	// classOld: before Ampere. Instantaneous power, per the NVML reference.
	classOld
	// classGA100: A100, A800, A30. Instantaneous power; the sensor sees
	// about 25% of the time (Yang et al. measured A100).
	classGA100
	// classAveraged: Ampere other than GA100, Ada, Blackwell and newer.
	// Power averaged over 1 s.
	classAveraged
	// classHopper: H100, H200, H800, GH200. Power averaged over 1 s, and
	// the sensor sees about 25% of the time (Yang et al. measured H100).
	classHopper
)

// archNames names NVML's architectures.
var archNames = map[nvml.DeviceArchitecture]string{
	nvml.DEVICE_ARCH_KEPLER:    "Kepler",
	nvml.DEVICE_ARCH_MAXWELL:   "Maxwell",
	nvml.DEVICE_ARCH_PASCAL:    "Pascal",
	nvml.DEVICE_ARCH_VOLTA:     "Volta",
	nvml.DEVICE_ARCH_TURING:    "Turing",
	nvml.DEVICE_ARCH_AMPERE:    "Ampere",
	nvml.DEVICE_ARCH_ADA:       "Ada Lovelace",
	nvml.DEVICE_ARCH_HOPPER:    "Hopper",
	nvml.DEVICE_ARCH_BLACKWELL: "Blackwell",
	nvml.DEVICE_ARCH_RUBIN:     "Rubin",
}

// classify tells the GPU's power sensor class from its architecture and,
// for Ampere, its name: GA100 parts (A100, A800, A30) behave unlike the
// other Ampere parts. The name is matched word by word so that "RTX A3000"
// is not taken for an A30.
func classify(arch nvml.DeviceArchitecture, name string) gpuClass {
	switch arch {
	case nvml.DEVICE_ARCH_KEPLER, nvml.DEVICE_ARCH_MAXWELL, nvml.DEVICE_ARCH_PASCAL,
		nvml.DEVICE_ARCH_VOLTA, nvml.DEVICE_ARCH_TURING:
		return classOld
	case nvml.DEVICE_ARCH_AMPERE:
		for _, w := range strings.FieldsFunc(strings.ToUpper(name), func(r rune) bool { return r == ' ' || r == '-' || r == '_' }) {
			if w == "A100" || w == "A800" || w == "A30" {
				return classGA100
			}
		}
		return classAveraged
	case nvml.DEVICE_ARCH_HOPPER:
		return classHopper
	case nvml.DEVICE_ARCH_ADA, nvml.DEVICE_ARCH_BLACKWELL, nvml.DEVICE_ARCH_RUBIN:
		return classAveraged
	}
	return classUnknown
}

// OpenNVML opens NVML through libnvidia-ml.so.1 and every GPU it finds.
// A machine without the library, with the driver not loaded, without
// permission to the GPUs, or without any GPU gives an error that wraps
// errors.ErrUnsupported and says why and what to do; anything else that
// fails is a real error (a broken driver).
func OpenNVML(opts NVMLOptions) (*NVML, error) {
	return NewNVML(nvml.New(), opts)
}

// NewNVML opens the meter over lib, which it initialises; Close shuts it
// down. Tests pass a go-nvml mock.
func NewNVML(lib NVMLLib, opts NVMLOptions) (*NVML, error) {
	if err := nvmlInitError(lib.Init()); err != nil {
		return nil, err
	}
	m, err := openNVML(lib, opts)
	if err != nil {
		lib.Shutdown()
		return nil, err
	}
	return m, nil
}

// nvmlInitError explains a failed nvmlInit: the causes that mean "no
// usable NVIDIA GPU here" are errors.ErrUnsupported with the fix.
func nvmlInitError(ret nvml.Return) error {
	switch ret {
	case nvml.SUCCESS:
		return nil
	case nvml.ERROR_LIBRARY_NOT_FOUND:
		return &unsupportedError{msg: "NVML not available: libnvidia-ml.so.1 not found (no NVIDIA driver here; install the NVIDIA driver to meter NVIDIA GPUs)", cause: ret}
	case nvml.ERROR_DRIVER_NOT_LOADED:
		return &unsupportedError{msg: "NVML not available: the NVIDIA kernel driver is not loaded (libnvidia-ml.so.1 is installed, but no GPU driver is running: load it with `modprobe nvidia`, or reboot after installing the driver)", cause: ret}
	case nvml.ERROR_NO_PERMISSION:
		return &unsupportedError{msg: "NVML not available: permission denied opening the GPUs (/dev/nvidia*): run as a user allowed to open them (often the video group) or as root", cause: ret}
	case nvml.ERROR_LIB_RM_VERSION_MISMATCH:
		return fmt.Errorf("nvml: init: %w: libnvidia-ml.so.1 and the loaded kernel driver are different versions (a driver upgraded without a reboot?): reboot, or reload the nvidia kernel modules", ret)
	}
	return fmt.Errorf("nvml: init: %w", ret)
}

func openNVML(lib NVMLLib, opts NVMLOptions) (*NVML, error) {
	m := &NVML{lib: lib, now: opts.Now, traceInterval: opts.TraceInterval, method: Counter, noted: map[string]bool{}}
	if m.now == nil {
		m.now = time.Now
	}
	if m.traceInterval <= 0 {
		m.traceInterval = DefaultNVMLTraceInterval
	}
	n, ret := lib.DeviceGetCount()
	if ret != nvml.SUCCESS {
		return nil, fmt.Errorf("nvml: count GPUs: %w", ret)
	}
	if n == 0 {
		return nil, &unsupportedError{msg: "NVML found no GPU (the NVIDIA driver is loaded, but it lists none: check nvidia-smi, and the container's GPU access if in one)"}
	}
	driver, ret := lib.SystemGetDriverVersion()
	if ret != nvml.SUCCESS {
		driver = "unknown"
	}
	nvmlVersion, ret := lib.SystemGetNVMLVersion()
	if ret != nvml.SUCCESS {
		nvmlVersion = "unknown"
	}
	cuda := ""
	if v, ret := lib.SystemGetCudaDriverVersion(); ret == nvml.SUCCESS && v > 0 {
		// NVML_CUDA_DRIVER_VERSION_MAJOR and _MINOR in nvml.h: 12040 is 12.4.
		cuda = fmt.Sprintf("%d.%d", v/1000, v%1000/10)
	}
	m.source = fmt.Sprintf("NVML %s via libnvidia-ml.so.1, driver %s", nvmlVersion, driver)
	ext := lib.Extensions()
	hasFunc := func(name string) bool { return ext.LookupSymbol(name) == nil }
	events := hasFunc(qEventReasons)
	archFunc := hasFunc(qArch)
	for i := 0; i < n; i++ {
		dev, ret := lib.DeviceGetHandleByIndex(i)
		if ret != nvml.SUCCESS {
			return nil, fmt.Errorf("nvml: open gpu-%d: %w", i, ret)
		}
		g := &nvmlGPU{dev: dev, index: i, eventsFunc: events, unsupported: map[string]bool{}}
		g.desc = results.Device{Domain: fmt.Sprintf("gpu-%d", i), DriverVersion: driver, CUDAVersion: cuda}
		if name, ret := dev.GetName(); ret == nvml.SUCCESS {
			g.desc.Name = name
		} else {
			g.desc.Name = "unknown NVIDIA GPU"
		}
		if uuid, ret := dev.GetUUID(); ret == nvml.SUCCESS {
			g.desc.UUID = uuid
		}
		arch := nvml.DeviceArchitecture(nvml.DEVICE_ARCH_UNKNOWN)
		if archFunc {
			a, ret := dev.GetArchitecture()
			if ret == nvml.SUCCESS {
				arch = a
			} else if errors.Is(ret, nvml.ERROR_NOT_SUPPORTED) {
				g.unsupported[qArch] = true
			}
		}
		g.desc.Architecture = archNames[arch]
		g.class = classify(arch, g.desc.Name)
		g.desc.PowerLimitW = powerLimit(g)

		// The counter where the GPU has one, else sampled power: which
		// one is fixed here, so that a run never mixes the two.
		_, eret := dev.GetTotalEnergyConsumption()
		switch {
		case eret == nvml.SUCCESS:
			g.counter = true
		case errors.Is(eret, nvml.ERROR_NOT_SUPPORTED):
			g.unsupported[qEnergy] = true
			_, pret := dev.GetPowerUsage()
			switch {
			case pret == nvml.SUCCESS:
			case errors.Is(pret, nvml.ERROR_NOT_SUPPORTED):
				return nil, &unsupportedError{msg: fmt.Sprintf("NVML cannot meter %s: it reports neither an energy counter nor power (%s and %s answer NOT_SUPPORTED); meter the node with an external meter instead", g.label(), qEnergy, qPower), cause: pret}
			default:
				return nil, fmt.Errorf("nvml: %s: read power: %w", g.label(), pret)
			}
			m.method = SampledPower
		default:
			return nil, fmt.Errorf("nvml: %s: read energy counter: %w%s", g.label(), eret, lostHint(eret))
		}
		if g.counter {
			g.desc.EnergyMethod = results.MethodCounter
		} else {
			g.desc.EnergyMethod = results.MethodSampledPower
		}
		g.blind = g.blindSpots()
		m.gpus = append(m.gpus, g)
		m.domains = append(m.domains, Domain{Name: g.desc.Domain, Kind: KindGPU, InTotal: true})
	}
	return m, nil
}

// powerLimit returns the GPU's enforced power limit in watts, else its
// power management limit, else 0 (unknown).
func powerLimit(g *nvmlGPU) float64 {
	mw, ret := g.dev.GetEnforcedPowerLimit()
	if ret == nvml.SUCCESS {
		return float64(mw) / 1000
	}
	if errors.Is(ret, nvml.ERROR_NOT_SUPPORTED) {
		g.unsupported[qEnforcedLimit] = true
	}
	mw, ret = g.dev.GetPowerManagementLimit()
	if ret == nvml.SUCCESS {
		return float64(mw) / 1000
	}
	if errors.Is(ret, nvml.ERROR_NOT_SUPPORTED) {
		g.unsupported[qMgmtLimit] = true
	}
	return 0
}

// label names the GPU in messages: domain, name and UUID.
func (g *nvmlGPU) label() string {
	s := fmt.Sprintf("gpu-%d (%s", g.index, g.desc.Name)
	if g.desc.UUID != "" {
		s += ", " + g.desc.UUID
	}
	return s + ")"
}

// lostHint adds what to do about the errors that mean the GPU is gone.
func lostHint(ret nvml.Return) string {
	switch ret {
	case nvml.ERROR_GPU_IS_LOST:
		return " (the GPU stopped responding or fell off the bus: see the kernel log for NVIDIA Xid errors; the GPU needs a reset or a reboot)"
	case nvml.ERROR_RESET_REQUIRED:
		return " (the GPU needs a reset: nvidia-smi --gpu-reset, or a reboot)"
	}
	return ""
}

// blindSpots states what the GPU's energy figure cannot see, from its
// class and method.
func (g *nvmlGPU) blindSpots() []string {
	var notes []string
	if g.counter {
		notes = append(notes, fmt.Sprintf("energy from the GPU's total energy counter (%s, mJ since the driver loaded); the counter updates about every 100 ms (%s), so each phase edge may miss up to about 0.1 s of energy: phases of %g s or more keep this to a few percent", qEnergy, citeCounterRate, nvmlMinPhaseCounter.Seconds()))
	} else {
		notes = append(notes, fmt.Sprintf("no energy counter (%s answers NOT_SUPPORTED): energy is the power reading (%s) taken at each meter reading and integrated over time, each reading standing for the period since the previous one; short load changes between readings are missed", qEnergy, qPower))
	}
	switch g.class {
	case classGA100, classHopper:
		what := "A100"
		if g.class == classHopper {
			what = "H100"
		}
		n := fmt.Sprintf("%s found that on the A100 and H100 the built-in power sensor samples only about 25%% of the runtime, so load that falls between its samples is not seen", citeYang)
		if !strings.Contains(strings.ToUpper(g.desc.Name), what) {
			n += fmt.Sprintf(" (the paper did not test %s itself, which shares the %s's architecture)", g.desc.Name, what)
		}
		if g.counter {
			n += "; whether the energy counter shares this blind spot is not confirmed by the sources checked, and it is used rather than sampled power"
		} else {
			n += "; this GPU has no energy counter, so its sampled power is especially uncertain"
		}
		notes = append(notes, n)
	}
	switch g.class {
	case classAveraged, classHopper:
		notes = append(notes, fmt.Sprintf("the power reading is an average over the last 1 s on Ampere (except GA100) and newer GPUs (%s), so the trace's power lags the load by up to 1 s", citePowerUsage))
		if !g.counter {
			notes = append(notes, fmt.Sprintf("a 1 s average reaches a step in load only after 1 s, so sampled power misses about half a second of the step at each phase edge: at most about 5%% of a %g s phase", nvmlMinPhaseSampled.Seconds()))
		}
	case classGA100, classOld:
		notes = append(notes, fmt.Sprintf("the power reading is instantaneous on GA100 and older GPUs (%s)", citePowerUsage))
	default:
		notes = append(notes, "the GPU's architecture is not one joulebench knows: how its power reading is averaged, and how often its energy counter updates, are unknown, so treat short phases with care")
	}
	return notes
}

// Name implements Meter.
func (m *NVML) Name() string { return "nvml" }

// Method implements Meter: Counter when every GPU has an energy counter,
// else SampledPower, the weaker method deciding.
func (m *NVML) Method() Method { return m.method }

// MaxGap is 0, no limit: the 64-bit millijoule counter would take
// millions of years to wrap, and sampled power has no counter at all.
func (m *NVML) MaxGap() time.Duration { return 0 }

// Domains implements Meter.
func (m *NVML) Domains() []Domain { return slices.Clone(m.domains) }

// MinPhase implements MinPhaser: 5 s when every GPU's energy comes from
// its counter, 10 s when any GPU's comes from sampled power.
func (m *NVML) MinPhase() time.Duration {
	if m.method == Counter {
		return nvmlMinPhaseCounter
	}
	return nvmlMinPhaseSampled
}

// Source implements Describer.
func (m *NVML) Source() string { return m.source }

// Notes implements Describer: each GPU's blind spots (a note shared by
// several GPUs is given once, naming them all) and every telemetry query
// that failed other than with NOT_SUPPORTED.
func (m *NVML) Notes() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	notes := []string{"gpu-N is NVML's device index N; CUDA may number the GPUs otherwise (CUDA_DEVICE_ORDER), so the UUIDs in the device list identify them"}
	var order []string
	who := map[string][]string{}
	for _, g := range m.gpus {
		for _, n := range g.blind {
			if _, ok := who[n]; !ok {
				order = append(order, n)
			}
			who[n] = append(who[n], g.desc.Domain)
		}
	}
	for _, n := range order {
		notes = append(notes, strings.Join(who[n], ", ")+": "+n)
	}
	return append(notes, m.notes...)
}

// Devices implements DeviceDescriber.
func (m *NVML) Devices() []results.Device {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]results.Device, len(m.gpus))
	for i, g := range m.gpus {
		d := g.desc
		d.Notes = append(slices.Clone(g.blind), g.failed...)
		for q := range g.unsupported {
			d.Unsupported = append(d.Unsupported, q)
		}
		slices.Sort(d.Unsupported)
		out[i] = d
	}
	return out
}

// Trace implements Tracer.
func (m *NVML) Trace() []TraceSample {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.pending
	m.pending = nil
	return out
}

// Close implements Meter: it shuts NVML down, once.
func (m *NVML) Close() error {
	m.closeOnce.Do(func() {
		if ret := m.lib.Shutdown(); ret != nvml.SUCCESS {
			m.closeErr = fmt.Errorf("nvml: shutdown: %w", ret)
		}
	})
	return m.closeErr
}

// Read implements Meter. Per GPU it reads the energy counter (mJ, given as
// µJ) or the power, which it integrates from the previous Read. A counter
// that went back (a driver reload or GPU reset) fails the Read, naming the
// GPU, and is rebased so that later readings stay monotone. Telemetry is
// sampled at most every TraceInterval; its failures never fail a Read.
func (m *NVML) Read(ctx context.Context) (Reading, error) {
	raw := make([]uint64, len(m.gpus)) // mJ for a counter, mW for power
	for i, g := range m.gpus {
		if err := ctx.Err(); err != nil {
			return Reading{}, err
		}
		var ret nvml.Return
		if g.counter {
			raw[i], ret = g.dev.GetTotalEnergyConsumption()
		} else {
			var mw uint32
			mw, ret = g.dev.GetPowerUsage()
			raw[i] = uint64(mw)
		}
		if ret != nvml.SUCCESS {
			what := "energy counter"
			if !g.counter {
				what = "power"
			}
			return Reading{}, fmt.Errorf("nvml: %s: read %s: %w%s", g.label(), what, ret, lostHint(ret))
		}
	}
	now := m.now()
	r := Reading{Time: now, Energy: make([]metrics.Energy, len(m.gpus))}
	var errs []error
	for i, g := range m.gpus {
		var err error
		if g.counter {
			r.Energy[i], err = g.counterReading(raw[i])
		} else {
			r.Energy[i] = g.integrate(uint32(raw[i]), now)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if !m.traced || now.Sub(m.lastTrace) >= m.traceInterval {
		m.traced, m.lastTrace = true, now
		m.sample(now, raw)
	}
	if len(errs) > 0 {
		return Reading{}, errors.Join(errs...)
	}
	return r, nil
}

// maxCounterMJ is the largest counter value whose µJ fits an Energy.
const maxCounterMJ = math.MaxInt64 / 1000

// counterReading turns a raw counter value into the reading's µJ. A value
// below the last one means the counter started again from zero: the
// error says so, and the counter is rebased on the last value, so that
// the energy after the reset is counted and readings stay monotone; the
// energy between the last reading and the reset is lost.
func (g *nvmlGPU) counterReading(mj uint64) (metrics.Energy, error) {
	var err error
	if g.haveLast && mj < g.lastMJ {
		err = fmt.Errorf("nvml: %s: energy counter went back from %d mJ to %d mJ: the driver was reloaded or the GPU was reset, which restarts the counter from zero; the energy between the last good reading and the reset is lost, and later readings continue from the last value", g.label(), g.lastMJ, mj)
		g.offsetMJ += g.lastMJ
	}
	g.lastMJ, g.haveLast = mj, true
	total := g.offsetMJ + mj
	if total < mj || total > maxCounterMJ {
		return 0, fmt.Errorf("nvml: %s: energy counter %d mJ (after %d mJ of rebasing) is too large to be a real reading", g.label(), mj, g.offsetMJ)
	}
	return metrics.Energy(total * 1000), err
}

// integrate adds power mw, taken as the average since the previous
// reading, over the time since then, and returns the energy so far in µJ.
// The arithmetic is exact: the part below 1 µJ is carried to the next
// reading.
func (g *nvmlGPU) integrate(mw uint32, now time.Time) metrics.Energy {
	if g.started {
		if dt := now.Sub(g.lastT); dt > 0 {
			// mW × ns = 1e-12 J = 1e-6 µJ.
			hi, lo := bits.Mul64(uint64(mw), uint64(dt))
			lo, carry := bits.Add64(lo, g.remMWNs, 0)
			hi += carry
			if hi >= 1e6 {
				// Over 1.8e25 mW·ns, 584 years at 1 kW: no real gap
				// between readings. Count nothing rather than overflow.
				hi, lo = 0, 0
			}
			q, rem := bits.Div64(hi, lo, 1e6)
			g.remMWNs = rem
			if q > uint64(math.MaxInt64-g.sumUJ) {
				q = uint64(math.MaxInt64 - g.sumUJ)
			}
			g.sumUJ += int64(q)
		}
	}
	g.started, g.lastT = true, now
	return metrics.Energy(g.sumUJ)
}

// sample takes one telemetry sample of every GPU. raw holds each GPU's
// energy query's answer, which for a GPU on sampled power is its power.
func (m *NVML) sample(now time.Time, raw []uint64) {
	samples := make([]TraceSample, 0, len(m.gpus))
	for i, g := range m.gpus {
		s := TraceSample{Time: now}
		s.Domain = g.desc.Domain
		if !g.counter {
			s.PowerW = ptr(float64(raw[i]) / 1000)
		} else if mw, ok := query(m, g, qPower, g.dev.GetPowerUsage); ok {
			s.PowerW = ptr(float64(mw) / 1000)
		}
		if v, ok := query(m, g, qSMClock, func() (uint32, nvml.Return) { return g.dev.GetClockInfo(nvml.CLOCK_SM) }); ok {
			s.SMClockMHz = ptr(float64(v))
		}
		if v, ok := query(m, g, qMemClock, func() (uint32, nvml.Return) { return g.dev.GetClockInfo(nvml.CLOCK_MEM) }); ok {
			s.MemClockMHz = ptr(float64(v))
		}
		if v, ok := query(m, g, qTemp, func() (uint32, nvml.Return) { return g.dev.GetTemperature(nvml.TEMPERATURE_GPU) }); ok {
			s.TempC = ptr(float64(v))
		}
		if u, ok := query(m, g, qUtil, g.dev.GetUtilizationRates); ok {
			s.UtilPct, s.MemUtilPct = ptr(float64(u.Gpu)), ptr(float64(u.Memory))
		}
		var reasons uint64
		var ok bool
		if g.eventsFunc {
			reasons, ok = query(m, g, qEventReasons, g.dev.GetCurrentClocksEventReasons)
		} else {
			reasons, ok = query(m, g, qThrottle, g.dev.GetCurrentClocksThrottleReasons)
		}
		if ok {
			s.Throttle = ThrottleNames(reasons)
		}
		s.Procs = m.procs(g)
		samples = append(samples, s)
	}
	m.mu.Lock()
	m.pending = append(m.pending, samples...)
	m.mu.Unlock()
}

// procs merges the processes running compute work on the GPU (pid, memory)
// with the per-process utilisation samples newer than the last call.
func (m *NVML) procs(g *nvmlGPU) []results.ProcSample {
	byPID := map[int]*results.ProcSample{}
	get := func(pid uint32) *results.ProcSample {
		p := byPID[int(pid)]
		if p == nil {
			p = &results.ProcSample{PID: int(pid)}
			byPID[int(pid)] = p
		}
		return p
	}
	if infos, ok := query(m, g, qProcs, g.dev.GetComputeRunningProcesses); ok {
		for _, pi := range infos {
			p := get(pi.Pid)
			// NVML_VALUE_NOT_AVAILABLE (all ones) when the driver cannot
			// say, as without permission to see other users' processes.
			if pi.UsedGpuMemory != math.MaxUint64 {
				p.UsedMemBytes = ptr(pi.UsedGpuMemory)
			}
		}
	}
	utils, ret := g.dev.GetProcessUtilization(g.lastProcTS)
	switch {
	case ret == nvml.SUCCESS:
		// The driver may give several samples of one process: keep
		// the newest.
		newest := map[uint32]uint64{}
		for _, u := range utils {
			if t, seen := newest[u.Pid]; seen && u.TimeStamp < t {
				continue
			}
			newest[u.Pid] = u.TimeStamp
			p := get(u.Pid)
			p.SMUtilPct, p.MemUtilPct = ptr(float64(u.SmUtil)), ptr(float64(u.MemUtil))
			g.lastProcTS = max(g.lastProcTS, u.TimeStamp)
		}
	case errors.Is(ret, nvml.ERROR_NOT_FOUND):
		// No sample newer than the last one: no process ran since.
	default:
		m.telemetryFailed(g, qProcUtil, ret)
	}
	if len(byPID) == 0 {
		return nil
	}
	out := make([]results.ProcSample, 0, len(byPID))
	for _, p := range byPID {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b results.ProcSample) int { return a.PID - b.PID })
	return out
}

// query runs one telemetry query of g. NOT_SUPPORTED leaves the field
// absent and lists the query in the device's Unsupported; any other
// failure is noted once in the meter's and the device's notes. ok says
// whether v holds an answer.
func query[T any](m *NVML, g *nvmlGPU, name string, f func() (T, nvml.Return)) (v T, ok bool) {
	v, ret := f()
	if ret == nvml.SUCCESS {
		return v, true
	}
	m.telemetryFailed(g, name, ret)
	return v, false
}

// telemetryFailed records a failed telemetry query: a value for
// NOT_SUPPORTED, a note (once per GPU and query) for anything else.
func (m *NVML) telemetryFailed(g *nvmlGPU, name string, ret nvml.Return) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if errors.Is(ret, nvml.ERROR_NOT_SUPPORTED) {
		g.unsupported[name] = true
		return
	}
	key := g.desc.Domain + "\x00" + name
	if m.noted[key] {
		return
	}
	m.noted[key] = true
	n := fmt.Sprintf("%s failed (%v); the trace lacks that field where it failed (energy is not affected)", name, ret)
	g.failed = append(g.failed, n)
	m.notes = append(m.notes, g.desc.Domain+": "+n)
}

func ptr[T any](v T) *T { return &v }

// throttleNames names the clock event (throttle) reason bits of nvml.h, in
// bit order.
var throttleNames = []struct {
	bit  uint64
	name string
}{
	{nvml.ClocksEventReasonGpuIdle, "gpu_idle"},
	{nvml.ClocksEventReasonApplicationsClocksSetting, "applications_clocks_setting"},
	{nvml.ClocksEventReasonSwPowerCap, "sw_power_cap"},
	{nvml.ClocksThrottleReasonHwSlowdown, "hw_slowdown"},
	{nvml.ClocksEventReasonSyncBoost, "sync_boost"},
	{nvml.ClocksEventReasonSwThermalSlowdown, "sw_thermal_slowdown"},
	{nvml.ClocksThrottleReasonHwThermalSlowdown, "hw_thermal_slowdown"},
	{nvml.ClocksThrottleReasonHwPowerBrakeSlowdown, "hw_power_brake_slowdown"},
	{nvml.ClocksEventReasonDisplayClockSetting, "display_clock_setting"},
	{nvml.ClocksEventReasonBoardLimit, "board_limit"},
	{nvml.ClocksEventReasonReliability, "reliability"},
}

// ThrottleNames names the active clock event reasons in a bit mask from
// nvmlDeviceGetCurrentClocksEventReasons (or the older
// ...ThrottleReasons), in bit order; bits nvml.h does not define are
// given together in hex. No bit set gives nil.
func ThrottleNames(mask uint64) []string {
	var out []string
	for _, t := range throttleNames {
		if mask&t.bit != 0 {
			out = append(out, t.name)
			mask &^= t.bit
		}
	}
	if mask != 0 {
		out = append(out, "0x"+strconv.FormatUint(mask, 16))
	}
	return out
}
