package results

import "time"

// SchemaVersion is the version of the record format this package writes.
// Readers refuse records from a newer schema rather than misread them.
//
// Version 2 (this one) checks every repetition's answer over the whole
// product (Rep.Check, Config.CheckSeed), records meter read failures per
// repetition (Rep.MeterFaults) and the longest gap each meter allows
// (Meter.MaxGapS), and the host's highest clock (Host.MaxMHz). Version 1
// records still decode; certify refuses them, since their answer check
// covered 64 entries of the last repetition only.
const SchemaVersion = 2

// Method values say how an energy figure was obtained.
const (
	MethodCounter      = "counter"       // hardware energy counter (RAPL, NVML total energy)
	MethodSampledPower = "sampled_power" // power readings integrated over time
	MethodExternal     = "external"      // a meter outside the node (wall, BMC)
	MethodModel        = "model"         // a modelled estimate, never a measurement
	MethodSynthetic    = "synthetic"     // made-up numbers (the fake meter), for tests and demos
)

// Record is everything one run measured. Field names are the JSON contract
// published in docs/record.schema.json.
type Record struct {
	SchemaVersion int    `json:"schema_version"`
	RunID         string `json:"run_id"`
	// Complete is false when the run was interrupted or failed part-way; the
	// reason says why. What was measured before that is kept.
	Complete         bool      `json:"complete"`
	IncompleteReason string    `json:"incomplete_reason,omitempty"`
	StartedAt        time.Time `json:"started_at"`
	FinishedAt       time.Time `json:"finished_at"`
	Tool             Tool      `json:"tool"`
	Host             Host      `json:"host"`
	Config           Config    `json:"config"`
	Meters           []Meter   `json:"meters"`
	// Carbon says how energy becomes carbon for this run: the grid
	// intensity (a region's annual average or a time series), PUE and
	// embodied carbon. Absent in records that never asked for it.
	Carbon *Carbon `json:"carbon,omitempty"`
	// Idle is the idle baseline measured before the workloads, if any.
	Idle      *Phase     `json:"idle,omitempty"`
	Workloads []Workload `json:"workloads"`
	// Readings is every meter reading of the run, in time order.
	Readings []Reading `json:"readings"`
	// Trace is the telemetry meters report besides energy (a GPU's power,
	// clocks, temperature, utilisation, throttle reasons and processes),
	// in time order. It explains the energy; no figure is computed from it.
	Trace []TraceSample `json:"trace,omitempty"`
	// Command is what joulebench measure ran: absent for a suite run.
	Command *Command `json:"command,omitempty"`
	// Clock is the node's clock at the run's start: what merge needs to
	// line up the records of several nodes. Absent in older records.
	Clock *Clock `json:"clock,omitempty"`
	// Node names the node and the batch job (Slurm, Kubernetes) the run
	// was a part of; absent when the run was started by hand.
	Node *Node `json:"node,omitempty"`
	// Cluster is present in a cluster record, made by joulebench merge
	// from the records of the nodes of one multi-node run: it lists them
	// by path and digest. Such a record's workloads hold the nodes'
	// per-repetition sums, its meters and domains are the nodes' own
	// under the node's name ("node1/rapl", "node1/package-0"), and it has
	// no readings of its own: the nodes' records have them.
	Cluster *Cluster `json:"cluster,omitempty"`
	Notes   []string `json:"notes,omitempty"`
}

// Clock is a node's clock at the start of a run. Readings' times are
// seconds after Record.StartedAt (the wall clock); MonotonicNS is
// CLOCK_MONOTONIC at the same instant. Sync status and error estimates
// are the kernel's (adjtimex), as chrony or ntpd left them.
type Clock struct {
	// MonotonicNS is CLOCK_MONOTONIC, in nanoseconds since boot, read
	// next to StartedAt; 0 where the system has none to give.
	MonotonicNS int64 `json:"monotonic_ns"`
	// Source says where the sync fields come from: "adjtimex", or
	// "unavailable" (not Linux, or the call failed: the fields are then
	// unknown, not zero).
	Source string `json:"source"`
	// Synced is false when the kernel flags the clock unsynchronised
	// (STA_UNSYNC): no time daemon is disciplining it.
	Synced bool `json:"synced"`
	// MaxErrorUS and EstErrorUS are the kernel's maximum and estimated
	// error of the wall clock, in microseconds.
	MaxErrorUS int64 `json:"max_error_us"`
	EstErrorUS int64 `json:"est_error_us"`
}

// Node is who ran a record within a batch job.
type Node struct {
	// Name is the node's name: SLURMD_NODENAME, the Kubernetes NODE_NAME,
	// else the hostname.
	Name string `json:"name"`
	// Scheduler is "slurm", "kubernetes" or empty (a run by hand).
	Scheduler string `json:"scheduler,omitempty"`
	// Slurm: the job, step, node index and task rank.
	SlurmJobID  string `json:"slurm_job_id,omitempty"`
	SlurmStepID string `json:"slurm_step_id,omitempty"`
	SlurmNodeID string `json:"slurm_node_id,omitempty"`
	SlurmProcID string `json:"slurm_proc_id,omitempty"`
	// Kubernetes: the Indexed Job's completion index and the pod.
	K8sCompletionIndex string `json:"k8s_completion_index,omitempty"`
	K8sPod             string `json:"k8s_pod,omitempty"`
	// Job names the job the node's record belongs to ("slurm-4711.0",
	// "k8s-joulebench"): merge refuses records of different jobs only by
	// what they ran, but reports show it.
	Job string `json:"job,omitempty"`
}

// Cluster is the cluster block of a merged record.
type Cluster struct {
	// Nodes are the node records, in the order merged (by node name).
	Nodes []ClusterNode `json:"nodes"`
	// SkewS estimates the difference, in seconds, between two nodes'
	// wall clocks: the sum of the two largest estimated errors the
	// kernels state (adjtimex est_error_us) of clocks a time daemon keeps
	// synchronised (an estimate; the kernel's maximum error is a bound). It is not the difference between the nodes' start
	// times: nodes start when the scheduler starts them (a Kubernetes
	// pod seconds after another), which PhaseSpreadS records.
	SkewS float64 `json:"skew_s"`
	// SkewUnknown is true when some node's clock is not synchronised (or
	// its record has no adjtimex reading): the skew cannot be bounded,
	// and SkewS says nothing.
	SkewUnknown bool `json:"skew_unknown,omitempty"`
	// WarnSkewS and MaxSkewS are the limits merge applied: above the
	// first it warns (in Notes), above the second it refuses.
	WarnSkewS float64 `json:"warn_skew_s"`
	MaxSkewS  float64 `json:"max_skew_s"`
	// PhaseSpreadS is, over the first shared phase and every aligned
	// repetition, the largest spread of its start in wall time between
	// nodes: nodes do not wait for each other, so it says how far the
	// per-repetition sums are from simultaneous (start-up included).
	PhaseSpreadS float64 `json:"phase_spread_s"`
}

// ClusterNode is one node record of a cluster record.
type ClusterNode struct {
	Name string `json:"name"`
	// Path is the node record's path, relative to the cluster record's
	// directory; SHA256 is the hex digest of its bytes.
	Path   string `json:"path"`
	SHA256 string `json:"sha256"`
	RunID  string `json:"run_id"`
	// StartOffsetS is the node's first aligned edge, in wall time,
	// relative to the earliest node's.
	StartOffsetS float64 `json:"start_offset_s"`
	Clock        *Clock  `json:"clock,omitempty"`
	Node         *Node   `json:"node,omitempty"`
}

// Tool identifies the joulebench build that made the record.
type Tool struct {
	Name      string `json:"name"`
	Version   string `json:"version"`
	Commit    string `json:"commit,omitempty"`
	GoVersion string `json:"go_version"`
}

// Host fingerprints the machine the run measured.
type Host struct {
	Hostname    string   `json:"hostname,omitempty"`
	CPUModel    string   `json:"cpu_model"`
	CPUVendor   string   `json:"cpu_vendor,omitempty"`
	Sockets     int      `json:"sockets,omitempty"`
	Cores       int      `json:"cores,omitempty"`
	LogicalCPUs int      `json:"logical_cpus"`
	MemoryBytes uint64   `json:"memory_bytes,omitempty"`
	Kernel      string   `json:"kernel,omitempty"`
	OS          string   `json:"os"`
	Arch        string   `json:"arch"`
	CPUFlags    []string `json:"cpu_flags,omitempty"`
	Virtualized bool     `json:"virtualized,omitempty"`
	// MaxMHz is the highest clock any CPU may run at (cpufreq's
	// cpuinfo_max_freq), 0 when the machine does not say (most VMs).
	MaxMHz float64 `json:"max_mhz,omitempty"`
}

// Config is how the run was asked for.
type Config struct {
	Suite          string   `json:"suite"`
	SuiteVersion   string   `json:"suite_version"`
	Workloads      []string `json:"workloads"`
	MeterSelection string   `json:"meter_selection"`
	SysfsRoot      string   `json:"sysfs_root,omitempty"`
	IntervalS      float64  `json:"interval_s"`
	IdleS          float64  `json:"idle_s"`
	WarmupS        float64  `json:"warmup_s"`
	MinTimeS       float64  `json:"min_time_s"`
	Reps           int      `json:"reps"`
	MinReadings    int      `json:"min_readings"`
	MaxCV          float64  `json:"max_cv,omitempty"`
	BLAS           string   `json:"blas,omitempty"`
	BLASCoreType   string   `json:"blas_coretype,omitempty"`
	Threads        int      `json:"threads,omitempty"`
	TDPW           float64  `json:"tdp_w,omitempty"`
	// Overrides names the suite rules the command line changed (reps,
	// min_time_s, ...): such a run is not the suite as published.
	Overrides []string `json:"overrides,omitempty"`
	Args      []string `json:"args,omitempty"`
	// CheckSeed is the seed, drawn afresh for each run (16 hex digits), of
	// the workloads' answer checks: the random vectors of the GEMM's
	// Freivalds check and the fresh inputs of each repetition. A library
	// cannot know it in advance.
	CheckSeed string `json:"check_seed,omitempty"`
}

// Meter describes one energy meter used by the run.
type Meter struct {
	Name   string `json:"name"`
	Method string `json:"method"`
	// Estimated is true for a modelled meter: its figures are estimates and
	// must be shown as such.
	Estimated bool     `json:"estimated"`
	Source    string   `json:"source,omitempty"`
	Domains   []Domain `json:"domains"`
	Notes     []string `json:"notes,omitempty"`
	// MaxGapS is the longest time, in seconds, that may pass between two
	// readings of this meter without losing energy: for a counter, the
	// time it takes to wrap at the highest power its domains can draw. A
	// repetition with a longer gap is invalid. Zero means no limit.
	MaxGapS float64 `json:"max_gap_s,omitempty"`
	// MinPhaseS is the shortest phase this meter measures well: a counter
	// that updates every 100 ms, or power averaged over 1 s, leaves an
	// error at each edge that only a long phase makes small. A phase or
	// repetition shorter than it is flagged in reports. Zero means none.
	MinPhaseS float64 `json:"min_phase_s,omitempty"`
	// MinRepS is the shortest repetition this meter can measure at all: a
	// BMC that updates its reading every 30 s and lags the load gives a
	// repetition shorter than a few update intervals the energy of some
	// other time. Repetitions shorter than this are invalid. Zero: none.
	MinRepS float64 `json:"min_rep_s,omitempty"`
	// TLSInsecure is true when the meter read a BMC without verifying its
	// TLS certificate (--redfish-insecure): such readings earn no level 3.
	TLSInsecure bool `json:"tls_insecure,omitempty"`
	// Devices describes each device the meter reads (a GPU: its name,
	// UUID, driver, power limit, and what its driver cannot report).
	Devices []Device `json:"devices,omitempty"`
}

// Device is one device a meter reads, such as a GPU.
type Device struct {
	// Domain is the meter domain that holds the device's energy.
	Domain string `json:"domain"`
	Name   string `json:"name"`
	UUID   string `json:"uuid,omitempty"`
	// Architecture is the GPU generation ("Hopper"), where known.
	Architecture  string `json:"architecture,omitempty"`
	DriverVersion string `json:"driver_version,omitempty"`
	// CUDAVersion is the CUDA version the driver supports ("12.4").
	CUDAVersion string  `json:"cuda_version,omitempty"`
	PowerLimitW float64 `json:"power_limit_w,omitempty"`
	// EnergyMethod is how the device's energy is obtained: "counter"
	// (NVML's total energy counter) or "sampled_power" (power readings
	// integrated over time).
	EnergyMethod string `json:"energy_method"`
	// Unsupported lists what the driver answered NOT_SUPPORTED for: a
	// value, not a failure (a temperature sensor a part does not have).
	Unsupported []string `json:"unsupported,omitempty"`
	// Notes are the device's known blind spots: how much of each period
	// its power reading averages, how often its counter updates.
	Notes []string `json:"notes,omitempty"`
}

// TraceSample is one telemetry sample of one device. A field the device
// did not report (NOT_SUPPORTED) is absent, never zero.
type TraceSample struct {
	TS     float64 `json:"t_s"`
	Meter  string  `json:"meter"`
	Domain string  `json:"domain"`
	// PowerW is the device's power reading as the driver gives it (on
	// many GPUs an average over the last second, not an instant).
	PowerW      *float64 `json:"power_w,omitempty"`
	SMClockMHz  *float64 `json:"sm_clock_mhz,omitempty"`
	MemClockMHz *float64 `json:"mem_clock_mhz,omitempty"`
	TempC       *float64 `json:"temp_c,omitempty"`
	// UtilPct and MemUtilPct are the driver's busy percentages of the
	// compute engine and the memory interface over its last period.
	UtilPct    *float64 `json:"util_pct,omitempty"`
	MemUtilPct *float64 `json:"mem_util_pct,omitempty"`
	// Throttle names the active clock throttle reasons ("sw_power_cap",
	// "hw_thermal_slowdown"); empty when none is active.
	Throttle []string `json:"throttle,omitempty"`
	// Procs are the processes using the device, where the driver says.
	Procs []ProcSample `json:"procs,omitempty"`
}

// ProcSample is one process's use of a device in one trace sample.
type ProcSample struct {
	PID int `json:"pid"`
	// SMUtilPct is the share of the device's compute the process used
	// over the driver's last sampling period, where the driver reports it.
	SMUtilPct *float64 `json:"sm_util_pct,omitempty"`
	// MemUtilPct is its share of the memory interface.
	MemUtilPct *float64 `json:"mem_util_pct,omitempty"`
	// UsedMemBytes is the device memory it holds.
	UsedMemBytes *uint64 `json:"used_mem_bytes,omitempty"`
}

// Command is what joulebench measure ran and how it ended.
type Command struct {
	// Argv is the command and its arguments as given.
	Argv []string `json:"argv"`
	PID  int      `json:"pid,omitempty"`
	// ExitCode is the command's exit status; -1 when a signal ended it.
	ExitCode int `json:"exit_code"`
	// Running is true in a record written while the command was still
	// running (a checkpoint; joulebench was then killed): ExitCode and
	// Signal say nothing yet.
	Running bool   `json:"running,omitempty"`
	Signal  string `json:"signal,omitempty"`
	// StartError says why the command could not be started (not found,
	// not executable); ExitCode is then 127 or 126, as env(1) gives.
	StartError string `json:"start_error,omitempty"`
	// WorkFile is the file the command appended its work reports to
	// (JOULEBENCH_WORK_FILE), and WorkLines how many lines it read.
	WorkFile  string `json:"work_file,omitempty"`
	WorkLines int    `json:"work_lines,omitempty"`
	// WorkErrors lists the work file's lines that were refused, with why.
	WorkErrors []string `json:"work_errors,omitempty"`
	// GPUShare is, per GPU domain, the share of the device's compute the
	// command's process tree had while it ran (0..1), from the driver's
	// per-process utilisation; absent where the driver does not say.
	GPUShare map[string]float64 `json:"gpu_share,omitempty"`
	// GPUShareMethod says how GPUShare was found, and what it leaves out.
	GPUShareMethod string `json:"gpu_share_method,omitempty"`
	// PIDs are the processes of the command's tree that were seen.
	PIDs []int `json:"pids,omitempty"`
}

// Domain is one thing a meter measures (a CPU package, its DRAM, a GPU).
type Domain struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// Parent names the domain this one lies inside (a core zone inside its
	// package); such a domain is never added to a total.
	Parent string `json:"parent,omitempty"`
	// MaxEnergyUJ is the counter's range (RAPL's max_energy_range_uj): past
	// it the counter starts again from zero. Zero means it does not wrap.
	MaxEnergyUJ uint64 `json:"max_energy_uj,omitempty"`
	// InTotal says whether the domain counts towards the node total.
	InTotal bool `json:"in_total"`
}

// Phase is a measured stretch of time that is not a repetition: the idle
// baseline or a warm-up.
type Phase struct {
	// Edge names the readings that open and close the phase: Edge+"-start"
	// and Edge+"-end".
	Edge      string             `json:"edge,omitempty"`
	StartS    float64            `json:"start_s"`
	DurationS float64            `json:"duration_s"`
	EnergyJ   map[string]float64 `json:"energy_j"`
	Readings  int                `json:"readings"`
	// MeterFaults lists meter reads that failed during the phase; the
	// energy may then miss a counter wrap (see Rep.MeterFaults).
	MeterFaults []string `json:"meter_faults,omitempty"`
}

// Workload is what one workload did in the run.
type Workload struct {
	Name        string            `json:"name"`
	Version     string            `json:"version"`
	Params      map[string]string `json:"params,omitempty"`
	ContentHash string            `json:"content_hash,omitempty"`
	WorkUnit    string            `json:"work_unit"`
	// Info describes what ran: the BLAS provider, its library path, version,
	// threads and kernel, and any warning that the figures describe our code
	// rather than the hardware.
	Info map[string]string `json:"info,omitempty"`
	// Episodic workloads do a whole job per call (training to a target
	// accuracy): each repetition is exactly one call, lasting as long as
	// the job does, and there is no warm-up (it would be a whole job).
	Episodic bool   `json:"episodic,omitempty"`
	Warmup   *Phase `json:"warmup,omitempty"`
	Reps     []Rep  `json:"reps"`
	Check    *Check `json:"check,omitempty"`
	Error    string `json:"error,omitempty"`
}

// Rep is one measured repetition.
type Rep struct {
	Index int `json:"index"`
	// Edge names the readings that open and close the repetition: Edge+
	// "-start" and Edge+"-end". Attempts counts runs of it. It is 1: a run
	// that would end under the minimum time is extended with more calls
	// instead. Records from earlier versions may say more, when a short run
	// was redone longer (the discarded runs' readings stay in the trace
	// under their own edges).
	Edge      string  `json:"edge,omitempty"`
	Attempts  int     `json:"attempts,omitempty"`
	Iters     int     `json:"iters"`
	StartS    float64 `json:"start_s"`
	DurationS float64 `json:"duration_s"`
	// EnergyJ is the gross energy of the repetition by domain, in joules.
	EnergyJ  map[string]float64 `json:"energy_j"`
	Work     Work               `json:"work"`
	Readings int                `json:"readings"`
	// Check is the workload's check of this repetition's answer, made after
	// its calls and outside its measured time; absent for workloads that
	// cannot check, and in schema 1 records.
	Check *Check `json:"check,omitempty"`
	// MeterFaults lists the meter reads that failed during the
	// repetition, each with its meter, time and error. A repetition with
	// any is invalid: its energy may miss what the failed reads would have
	// seen (a counter wrap).
	MeterFaults []string `json:"meter_faults,omitempty"`
}

// Work is the useful work a repetition did.
type Work struct {
	FLOPs   float64            `json:"flops"`
	Items   int64              `json:"items"`
	Quality map[string]float64 `json:"quality,omitempty"`
}

// Check is a workload's own check that its answer was right.
type Check struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Limit  float64 `json:"limit"`
	OK     bool    `json:"ok"`
	Detail string  `json:"detail,omitempty"`
	// Verdict says what a failed check found, in a word a reader can act
	// on: "wrong" (the answer is not the product), "reduced-precision"
	// (the error is what TF32 or BF16 arithmetic gives, not the precision
	// the workload names); empty when the check passed.
	Verdict string `json:"verdict,omitempty"`
}

// Reading is one reading of one meter: the cumulative raw counter of each of
// its domains, in the order of the meter's Domains, at TS seconds after the
// run started. Edge names the phase boundary the reading marks, if any.
type Reading struct {
	TS       float64 `json:"t_s"`
	Meter    string  `json:"meter"`
	Edge     string  `json:"edge,omitempty"`
	EnergyUJ []int64 `json:"energy_uj"`
}

// Carbon methods: how the grid intensity was applied.
const (
	CarbonAnnual = "annual-average" // one figure for the region, from the embedded table
	CarbonSeries = "time-series"    // each part of the energy weighted by the intensity at its time
)

// Carbon is the carbon accounting of a run, kept in the record so that any
// later tool computes the same grams from the same joules.
type Carbon struct {
	Method string `json:"method"`
	// Region is the table row used (annual-average), or what the series
	// describes, if known.
	Region string `json:"region,omitempty"`
	// GramsPerKWh is the annual average used; for a time series, the
	// intensity the repetitions' energy met, weighted by when it was spent
	// (each part of the energy is still weighted by its own point).
	GramsPerKWh  float64 `json:"g_per_kwh"`
	Year         int     `json:"year,omitempty"`
	Source       string  `json:"source"`
	TableVersion string  `json:"table_version,omitempty"`
	// Series holds the points of the intensity file that cover the run,
	// and SeriesStepS how long the last one holds.
	Series      []IntensityPoint `json:"series,omitempty"`
	SeriesStepS float64          `json:"series_step_s,omitempty"`
	// PUE multiplies the metered energy to include the data centre's
	// overhead (cooling, power conversion); 1 means none.
	PUE float64 `json:"pue"`
	// Embodied is absent when unknown: output then says "embodied not
	// included" rather than count it as zero.
	Embodied *EmbodiedCarbon `json:"embodied,omitempty"`
	// Boundary says what the energy covers (which domains) and what not.
	Boundary string   `json:"boundary"`
	Notes    []string `json:"notes,omitempty"`
}

// IntensityPoint is one point of a carbon intensity time series: the value
// holds from T until the next point.
type IntensityPoint struct {
	T           time.Time `json:"t"`
	GramsPerKWh float64   `json:"g_per_kwh"`
}

// EmbodiedCarbon is the device's embodied carbon and the share of it a
// run carries: KgCO2e × (run time / lifetime) × Share.
type EmbodiedCarbon struct {
	Device        string  `json:"device,omitempty"`
	KgCO2e        float64 `json:"kg_co2e"`
	LifetimeYears float64 `json:"lifetime_years"`
	Share         float64 `json:"share"`
	Source        string  `json:"source"`
}

// Names the model workloads use in a workload's params and a repetition's
// quality measures; metrics and reports read them from there.
const (
	// Params: the model ("mnist-mlp"), the variant ("fp32", "int8", ...),
	// the MLPerf Inference scenario ("offline", "singlestream") and, for
	// transfer learning, the strategy ("scratch", "head", "full",
	// "pretrain").
	ParamModel    = "model"
	ParamVariant  = "variant"
	ParamScenario = "scenario"
	ParamStrategy = "strategy"

	// Quality: accuracy on the full test set (a fraction), the fp32
	// reference's on the same set, and their ratio.
	QAccuracy          = "accuracy"
	QReferenceAccuracy = "reference_accuracy"
	QAccuracyMeasured  = "accuracy_measured"
	// Latency percentiles of a SingleStream repetition's queries, in
	// milliseconds.
	QLatencyP50 = "latency_p50_ms"
	QLatencyP90 = "latency_p90_ms"
	QLatencyP99 = "latency_p99_ms"
	// Transfer learning: 1 when the job reached its target accuracy, the
	// accuracy it stopped at, the SGD steps it took and its seed.
	QConverged = "converged"
	QSteps     = "steps"
	QSeed      = "seed"
	QTarget    = "target_accuracy"
	// QCurvePrefix starts the keys of a transfer job's evaluations:
	// curve_NNNN_s (seconds since the job began) and curve_NNNN_acc.
	QCurvePrefix = "curve_"
)
