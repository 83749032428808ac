package command

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/joulebench/joulebench/internal/infile"
	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/workloads"
)

// Name and Version identify the workload in a record. Version changes when
// what a repetition measures, or how its work is counted, changes.
const (
	Name    = "command"
	Version = "1"
)

// WorkFileEnv is the environment variable that names the work file.
const WorkFileEnv = "JOULEBENCH_WORK_FILE"

// Work units: a repetition counts one "run" unless the command reported
// items, and then it counts those.
const (
	UnitRun  = "run"
	UnitItem = "item the command reported"
)

// MaxPIDs bounds Command.PIDs: a command that forks without end is still
// tracked (its share is computed over every process seen), but the record
// lists only the first MaxPIDs.
const MaxPIDs = 4096

// maxWorkErrors bounds the refused work lines listed in the record; the
// count in the notes is of all of them.
const maxWorkErrors = 100

// StartError is why a command cannot be started, with the exit status a
// shell, env(1) or timeout(1) gives for it: 127 when it is not found, 126
// when it is found but cannot be executed.
type StartError struct {
	Name string
	Code int
	Err  error
}

func (e *StartError) Error() string { return e.Name + ": " + e.Err.Error() }
func (e *StartError) Unwrap() error { return e.Err }

// ExitCode is the exit status joulebench gives for e.
func (e *StartError) ExitCode() int { return e.Code }

// Resolve finds the executable that argv0 names, as exec.Command would,
// and tells a missing command (127) from one that cannot be executed
// (126) before anything is measured.
func Resolve(argv0 string) (string, error) {
	if argv0 == "" {
		return "", &StartError{Name: `""`, Code: 127, Err: errors.New("command not found: the command name is empty")}
	}
	p, err := exec.LookPath(argv0)
	if err == nil {
		return p, nil
	}
	switch {
	case errors.Is(err, exec.ErrDot):
		return "", &StartError{Name: argv0, Code: 126, Err: fmt.Errorf("found only relative to the current directory through PATH (%s), which is not searched for safety; give it as ./%s", os.Getenv("PATH"), argv0)}
	case !strings.ContainsRune(argv0, '/') && errors.Is(err, exec.ErrNotFound):
		return "", &StartError{Name: argv0, Code: 127, Err: fmt.Errorf("command not found in PATH (%s)", os.Getenv("PATH"))}
	case errors.Is(err, fs.ErrNotExist):
		return "", &StartError{Name: argv0, Code: 127, Err: errors.New("no such file")}
	case errors.Is(err, fs.ErrPermission):
		return "", &StartError{Name: argv0, Code: 126, Err: errors.New("not executable (permission denied); chmod +x it, or run it through its interpreter, e.g. sh FILE or python3 FILE")}
	case errors.Is(err, syscall.EISDIR):
		return "", &StartError{Name: argv0, Code: 126, Err: errors.New("is a directory, not an executable")}
	}
	return "", &StartError{Name: argv0, Code: 126, Err: err}
}

// Options configure a Command.
type Options struct {
	// Argv is the command and its arguments as given; Path is the
	// executable Resolve found for Argv[0].
	Argv []string
	Path string
	// WorkFile is the file the command may append work lines to; it is
	// created if missing and never truncated (see OpenWorkFile).
	WorkFile string
	// ProcRoot is where procfs is mounted, for tracking the command's
	// process tree; "" is /proc.
	ProcRoot string
	// Interval is how often the process tree is polled; 0 is 100 ms.
	Interval time.Duration
	// Stdin, Stdout and Stderr are the command's; nil is the null device.
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Env is the command's environment before WorkFileEnv is added; nil
	// is joulebench's own.
	Env []string
}

// Command is an external command as an Episodic workload: each repetition
// runs it once, to its end, in its own process group.
type Command struct {
	opts     Options
	workFile *os.File
	spec     workloads.Spec

	mu sync.Mutex
	// pid is the running child's, 0 between repetitions; it is also its
	// process group's id.
	pid int
	// stopped: a terminating signal was forwarded, so no further
	// repetition starts.
	stopped bool
	// forwarded lists the signals forwarded during the current repetition.
	forwarded   []string
	interrupted bool
	// seen is every process of the tree seen so far, in order of discovery.
	seen    []int
	seenSet map[int]bool
	// reps holds each repetition's outcome, in order.
	reps []repOutcome
	res  results.Command
}

// repOutcome is how one repetition's command ended and what it reported.
type repOutcome struct {
	exitCode  int
	signal    string
	signum    int
	forwarded []string
	// interrupted: a terminating signal was among those forwarded.
	interrupted bool
	work        WorkReport
	startErr    string
	// leftBehind: processes of the command's group were still running
	// when the command itself exited (a daemon, a background job); what
	// they do after that is not measured.
	leftBehind bool
}

// failed reports whether the command did not end with status 0.
func (o repOutcome) failed() bool { return o.exitCode != 0 || o.signal != "" || o.startErr != "" }

// status describes how the command ended.
func (o repOutcome) status() string {
	switch {
	case o.startErr != "":
		return "could not be started: " + o.startErr
	case o.signal != "":
		return "was killed by " + o.signal
	}
	return fmt.Sprintf("exited with status %d", o.exitCode)
}

var (
	_ workloads.Workload  = (*Command)(nil)
	_ workloads.Episodic  = (*Command)(nil)
	_ workloads.Describer = (*Command)(nil)
	_ workloads.Closer    = (*Command)(nil)
)

// ErrStopped is returned by Run when a terminating signal was forwarded
// before the repetition could start: the run is being interrupted.
var ErrStopped = errors.New("not started: joulebench was interrupted")

// New makes the workload and opens its work file, so that a bad
// --work-file is refused before anything is measured.
func New(o Options) (*Command, error) {
	if len(o.Argv) == 0 {
		return nil, errors.New("command: no command to run")
	}
	if o.Path == "" {
		p, err := Resolve(o.Argv[0])
		if err != nil {
			return nil, err
		}
		o.Path = p
	}
	if o.ProcRoot == "" {
		o.ProcRoot = "/proc"
	}
	if o.Interval <= 0 {
		o.Interval = 100 * time.Millisecond
	}
	c := &Command{opts: o, seenSet: map[int]bool{}}
	if o.WorkFile != "" {
		abs, err := filepath.Abs(o.WorkFile)
		if err != nil {
			return nil, fmt.Errorf("work file %s: %w", o.WorkFile, err)
		}
		f, err := OpenWorkFile(abs)
		if err != nil {
			return nil, err
		}
		c.opts.WorkFile, c.workFile = abs, f
	}
	c.spec = NewSpec(o.Argv)
	c.res = results.Command{Argv: slices.Clone(o.Argv), WorkFile: c.opts.WorkFile}
	return c, nil
}

// NewSpec is the spec of a command: what makes two measurements "the same
// work" is the argv as given, so it is the only parameter (as JSON, so
// that arguments with spaces cannot run together). What the command did
// in each run (the items and FLOPs it reported) is its work, not its
// identity; the time, directory and environment are not part of it.
func NewSpec(argv []string) workloads.Spec {
	// Without HTML escaping, so that a shell's > and & read as typed.
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(argv); err != nil {
		panic(err) // strings only: cannot fail
	}
	params := map[string]string{"argv": strings.TrimSuffix(b.String(), "\n")}
	return workloads.Spec{
		Name: Name, Version: Version, Params: params, WorkUnit: UnitRun,
		Hash: workloads.SpecHash(Name, Version, params),
	}
}

// OpenWorkFile opens or creates the work file at path for reading,
// without following a symbolic link in its last component (a link planted
// there cannot send joulebench to another file) and without blocking on a
// FIFO; anything but a regular file is refused. It does not truncate an
// existing file: a file someone named may hold data they want, and each
// repetition reads only what was appended after it began.
func OpenWorkFile(path string) (*os.File, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CREAT|syscall.O_NOFOLLOW|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0o644)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("work file %s: is a symbolic link; name the file itself", path)
		}
		return nil, fmt.Errorf("work file %s: %w", path, err)
	}
	f := os.NewFile(uintptr(fd), path)
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("work file %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("work file %s: is %s, not a regular file", path, infile.Describe(fi.Mode()))
	}
	if err := syscall.SetNonblock(fd, false); err != nil {
		f.Close()
		return nil, fmt.Errorf("work file %s: %w", path, err)
	}
	return f, nil
}

// Spec returns the command's spec (see NewSpec).
func (c *Command) Spec() workloads.Spec { return c.spec }

// Prepare does nothing: everything is ready once New returns.
func (c *Command) Prepare(context.Context) error { return nil }

// Episodic is true: a repetition is one whole run of the command.
func (c *Command) Episodic() bool { return true }

// Info says which executable ran, for the record.
func (c *Command) Info() map[string]string {
	info := map[string]string{"path": c.opts.Path}
	if c.opts.WorkFile != "" {
		info["work_file"] = c.opts.WorkFile
	}
	return info
}

// Close closes the work file.
func (c *Command) Close() error {
	if c.workFile == nil {
		return nil
	}
	err := c.workFile.Close()
	c.workFile = nil
	return err
}

// Run runs the command once, to its end, and returns the work it
// reported: the sum of its items (one run when it reported none), the sum
// of its FLOPs, and its last accuracy. It does not stop the command when
// ctx is cancelled: joulebench forwards signals to the command (Forward)
// and measures until the command exits, so that its own clean-up is
// metered. A command that fails is still a measured repetition: Run
// returns no error for it, and Finish says so in the record. Run returns
// an error only when the command could not be started, when a terminating
// signal was forwarded before it started (ErrStopped), or when an earlier
// repetition failed (the rest are not run).
func (c *Command) Run(ctx context.Context, _ int) (workloads.Work, error) {
	c.mu.Lock()
	if c.stopped || ctx.Err() != nil {
		c.mu.Unlock()
		return workloads.Work{}, ErrStopped
	}
	if n := len(c.reps); n > 0 && c.reps[n-1].failed() {
		c.mu.Unlock()
		return workloads.Work{}, fmt.Errorf("not started: the command %s in repetition %d, so the remaining repetitions were not run", c.reps[n-1].status(), n)
	}
	var off int64
	if c.workFile != nil {
		fi, err := c.workFile.Stat()
		if err != nil {
			c.mu.Unlock()
			return workloads.Work{}, fmt.Errorf("work file %s: %w", c.opts.WorkFile, err)
		}
		off = fi.Size()
	}
	cmd := exec.Command(c.opts.Path, c.opts.Argv[1:]...)
	cmd.Args[0] = c.opts.Argv[0]
	env := c.opts.Env
	if env == nil {
		env = os.Environ()
	}
	env = slices.DeleteFunc(slices.Clone(env), func(kv string) bool { return strings.HasPrefix(kv, WorkFileEnv+"=") })
	if c.opts.WorkFile != "" {
		env = append(env, WorkFileEnv+"="+c.opts.WorkFile)
	}
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = c.opts.Stdin, c.opts.Stdout, c.opts.Stderr
	// Its own process group: a terminal's Ctrl-C reaches joulebench only,
	// and joulebench forwards it once; a group can be signalled whole.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// When the command's output goes through a pipe (not a file), a
	// background process that keeps it open must not hold the run.
	cmd.WaitDelay = time.Second
	c.forwarded, c.interrupted = nil, false
	if err := cmd.Start(); err != nil {
		c.mu.Unlock()
		code := 126
		if errors.Is(err, fs.ErrNotExist) {
			code = 127
		}
		o := repOutcome{exitCode: code, startErr: err.Error()}
		c.finishRep(o)
		return workloads.Work{}, &StartError{Name: c.opts.Argv[0], Code: code, Err: err}
	}
	c.pid = cmd.Process.Pid
	c.addSeen(c.pid)
	c.mu.Unlock()

	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.track(cmd.Process.Pid, done)
	}()
	werr := cmd.Wait()
	close(done)
	wg.Wait()
	// Signal 0 to the group tests whether any of it is still alive.
	leftBehind := syscall.Kill(-cmd.Process.Pid, 0) == nil

	c.mu.Lock()
	c.pid = 0
	o := repOutcome{forwarded: c.forwarded, interrupted: c.interrupted, leftBehind: leftBehind}
	c.mu.Unlock()
	if ps := cmd.ProcessState; ps != nil {
		o.exitCode = ps.ExitCode()
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			o.exitCode, o.signal, o.signum = -1, SignalName(ws.Signal()), int(ws.Signal())
		}
	} else if werr != nil {
		o.startErr = werr.Error()
	}
	if c.workFile != nil {
		rep, err := ParseWorkFile(io.NewSectionReader(c.workFile, off, MaxWorkBytes+1))
		if err != nil {
			rep.Refused = append(rep.Refused, fmt.Sprintf("reading the work file: %v", err))
		}
		o.work = rep
	}
	c.finishRep(o)
	work := workloads.Work{Items: 1, FLOPs: o.work.FLOPs}
	if o.work.ItemsReported {
		work.Items = o.work.Items
	}
	if o.work.HasAccuracy {
		work.Quality = map[string]float64{results.QAccuracy: o.work.Accuracy}
	}
	return work, nil
}

// finishRep records a repetition's outcome in the result.
func (c *Command) finishRep(o repOutcome) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reps = append(c.reps, o)
	n := len(c.reps)
	c.res.ExitCode, c.res.Signal, c.res.StartError = o.exitCode, o.signal, o.startErr
	c.res.WorkLines += o.work.Lines
	for _, e := range o.work.Refused {
		if len(c.res.WorkErrors) < maxWorkErrors {
			c.res.WorkErrors = append(c.res.WorkErrors, fmt.Sprintf("repetition %d, %s", n, e))
		}
	}
}

// Forward sends sig to the running command's process group, and reports
// whether there was one to send it to. A terminating signal (anything but
// SIGUSR1 and SIGUSR2) also means that no further repetition starts.
func (c *Command) Forward(sig syscall.Signal) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if sig != syscall.SIGUSR1 && sig != syscall.SIGUSR2 {
		c.stopped = true
	}
	if c.pid == 0 {
		return false
	}
	c.forwarded = append(c.forwarded, SignalName(sig))
	c.interrupted = c.interrupted || c.stopped
	return syscall.Kill(-c.pid, sig) == nil
}

// Kill sends SIGKILL to the running command's process group, for when
// joulebench itself must quit at once; no further repetition starts.
func (c *Command) Kill() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stopped = true
	if c.pid != 0 {
		syscall.Kill(-c.pid, syscall.SIGKILL)
	}
}

// Result is the record's account of the command so far.
func (c *Command) Result() results.Command {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := c.res
	r.Argv = slices.Clone(r.Argv)
	r.WorkErrors = slices.Clone(r.WorkErrors)
	r.PIDs = slices.Clone(c.seen[:min(len(c.seen), MaxPIDs)])
	// A record written while the command runs (a checkpoint) says so:
	// its exit_code means nothing yet.
	r.Running = c.pid != 0
	if len(c.seen) > 0 {
		r.PID = c.seen[0]
	}
	return r
}

// SignalName is a signal's name as kill -l gives it, with SIG: "SIGKILL".
func SignalName(s syscall.Signal) string {
	if n, ok := signalNames[s]; ok {
		return n
	}
	return "signal " + strconv.Itoa(int(s))
}

var signalNames = map[syscall.Signal]string{
	syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT", syscall.SIGILL: "SIGILL",
	syscall.SIGTRAP: "SIGTRAP", syscall.SIGABRT: "SIGABRT", syscall.SIGBUS: "SIGBUS", syscall.SIGFPE: "SIGFPE",
	syscall.SIGKILL: "SIGKILL", syscall.SIGUSR1: "SIGUSR1", syscall.SIGSEGV: "SIGSEGV", syscall.SIGUSR2: "SIGUSR2",
	syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGTERM: "SIGTERM", syscall.SIGXCPU: "SIGXCPU",
	syscall.SIGXFSZ: "SIGXFSZ",
}

// addSeen adds pid to the processes seen; c.mu must be held.
func (c *Command) addSeen(pid int) {
	if !c.seenSet[pid] {
		c.seenSet[pid] = true
		c.seen = append(c.seen, pid)
	}
}

// track polls procfs every interval until done is closed, adding every
// process of the command's tree to the processes seen.
func (c *Command) track(root int, done <-chan struct{}) {
	t := time.NewTicker(c.opts.Interval)
	defer t.Stop()
	for {
		pids := Tree(c.opts.ProcRoot, root)
		c.mu.Lock()
		for _, p := range pids {
			c.addSeen(p)
		}
		c.mu.Unlock()
		select {
		case <-done:
			return
		case <-t.C:
		}
	}
}

// Tree lists the processes under procRoot that belong to root's tree:
// root, its descendants by parent PID, and the members of its process
// group (which keeps a child whose parent exited, and was re-parented to
// init, in the tree). The list is sorted. Unreadable entries are skipped:
// a process may exit while it is read.
func Tree(procRoot string, root int) []int {
	ents, err := os.ReadDir(procRoot)
	if err != nil {
		return nil
	}
	parent := map[int]int{}
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		b, err := os.ReadFile(filepath.Join(procRoot, e.Name(), "stat"))
		if err != nil {
			continue
		}
		ppid, pgrp, ok := ParseStat(b)
		if !ok {
			continue
		}
		parent[pid] = ppid
		if pid == root || pgrp == root {
			out = append(out, pid)
		}
	}
	in := map[int]bool{}
	for _, p := range out {
		in[p] = true
	}
	// A process is in the tree if an ancestor is root; the walk is
	// bounded, since a forged procfs could hold a loop.
	for pid := range parent {
		if in[pid] {
			continue
		}
		for p, hops := parent[pid], 0; p > 0 && hops < len(parent); p, hops = parent[p], hops+1 {
			if p == root {
				in[pid] = true
				out = append(out, pid)
				break
			}
		}
	}
	sort.Ints(out)
	return out
}

// ParseStat reads the parent PID and process group from the contents of
// /proc/PID/stat ("pid (comm) state ppid pgrp ..."). The command name may
// hold spaces and parentheses, so fields are counted from its last ')'.
func ParseStat(b []byte) (ppid, pgrp int, ok bool) {
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 3 {
		return 0, 0, false
	}
	ppid, err1 := strconv.Atoi(f[1])
	pgrp, err2 := strconv.Atoi(f[2])
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return ppid, pgrp, true
}

// Finish completes rec after the run: rec.Command from res, the work unit
// ("item" when any repetition reported items, else "run"), a failed
// command as the workload's error, and notes on how each repetition
// ended, on refused work lines and on the GPU share. It returns the exit
// status joulebench should give: the failed repetition's (128 + the signal
// number for a signal, as shells give), else 0.
func (c *Command) Finish(rec *results.Record) int {
	res := c.Result()
	c.mu.Lock()
	reps := slices.Clone(c.reps)
	seen := slices.Clone(c.seen)
	c.mu.Unlock()

	status := 0
	var notes []string
	refused := 0
	anyItems := false
	for i, o := range reps {
		refused += len(o.work.Refused)
		anyItems = anyItems || o.work.ItemsReported
		if o.leftBehind {
			notes = append(notes, fmt.Sprintf("command: repetition %d: processes the command started were still running when it exited (in its process group); what they did after that is not in this record", i+1))
		}
		if !o.failed() && len(o.forwarded) == 0 {
			continue
		}
		msg := fmt.Sprintf("command: repetition %d: the command %s", i+1, o.status())
		if len(o.forwarded) > 0 {
			msg += " after joulebench forwarded " + strings.Join(o.forwarded, ", ") + " to its process group"
		}
		if o.failed() {
			msg += "; its energy is measured all the same, and the record says it failed"
			switch {
			case o.signal != "":
				status = 128 + o.signum
			default:
				status = o.exitCode
			}
		}
		notes = append(notes, msg)
	}
	if refused > 0 {
		notes = append(notes, fmt.Sprintf("command: %d work %s refused, and the work %s reported is not counted (listed in command.work_errors)", refused, plural(refused, "line was", "lines were"), plural(refused, "it", "they")))
	}
	if rec != nil && len(rec.Workloads) > 0 {
		w := &rec.Workloads[len(rec.Workloads)-1]
		if anyItems {
			// Its figures are per item, like a suite workload's: the
			// reports' episodic tables are of one-job-one-item workloads
			// (metrics.Episodic), so the record does not call it episodic,
			// though each repetition is still one whole run.
			w.WorkUnit = UnitItem
			w.Episodic = false
			notes = append(notes, "command: the command reported items, so its figures are per item; each repetition is still one whole run of the command, with no warm-up")
			for i := range w.Reps {
				if i < len(reps) && !reps[i].work.ItemsReported {
					w.Reps[i].Work.Items = 0
				}
			}
		}
		// A command that failed on its own failed the workload; one ended
		// by a signal joulebench forwarded was interrupted, which the
		// record's incomplete_reason says instead.
		for i, o := range reps {
			if o.failed() && !o.interrupted && w.Error == "" {
				w.Error = fmt.Sprintf("repetition %d: the command %s", i+1, o.status())
			}
		}
	}
	if rec != nil {
		share, method := GPUShare(rec, seen)
		res.GPUShare, res.GPUShareMethod = share, method
		rec.Command = &res
		rec.Notes = append(rec.Notes, notes...)
	}
	return status
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// GPUShare computes, for each GPU domain of rec that reported processes
// in its trace, the share of the device's compute that the processes pids
// had while the command ran: over the trace samples of that domain taken
// during a repetition of the record's last workload,
//
//	share = Σ SMUtilPct of pids' processes / Σ SMUtilPct of all processes.
//
// The driver's per-process SM utilisation is the share of the period's
// time a kernel of that process was running; summing it over samples
// weights each sample equally. Where the domain's samples report no
// per-process utilisation but do report memory, the share is instead the
// tree's device memory over all processes' (Σ over samples of
// UsedMemBytes), a cruder proxy: it says who held the device, not who
// kept it busy. method says, per domain, which was used and over how many
// samples. A domain with no process figures at all, or whose processes
// used nothing, gets no share. GPUShare returns nil and "" when rec has no
// GPU domain.
func GPUShare(rec *results.Record, pids []int) (map[string]float64, string) {
	gpus := map[string]bool{}
	for _, m := range rec.Meters {
		for _, d := range m.Domains {
			if d.Kind == "gpu" {
				gpus[d.Name] = true
			}
		}
	}
	if len(gpus) == 0 {
		return nil, ""
	}
	tree := map[int]bool{}
	for _, p := range pids {
		tree[p] = true
	}
	type span struct{ from, to float64 }
	var spans []span
	if n := len(rec.Workloads); n > 0 {
		for _, r := range rec.Workloads[n-1].Reps {
			spans = append(spans, span{r.StartS, r.StartS + r.DurationS})
		}
	}
	during := func(t float64) bool {
		for _, s := range spans {
			if t >= s.from && t <= s.to {
				return true
			}
		}
		return false
	}
	type sums struct {
		treeSM, allSM, treeMem, allMem float64
		smSamples, memSamples          int
	}
	by := map[string]*sums{}
	for _, s := range rec.Trace {
		if !gpus[s.Domain] || !during(s.TS) {
			continue
		}
		a := by[s.Domain]
		if a == nil {
			a = &sums{}
			by[s.Domain] = a
		}
		hasSM, hasMem := false, false
		for _, p := range s.Procs {
			if v := p.SMUtilPct; v != nil && *v >= 0 && !math.IsInf(*v, 0) {
				hasSM = true
				a.allSM += *v
				if tree[p.PID] {
					a.treeSM += *v
				}
			}
			if v := p.UsedMemBytes; v != nil {
				hasMem = true
				a.allMem += float64(*v)
				if tree[p.PID] {
					a.treeMem += float64(*v)
				}
			}
		}
		if hasSM {
			a.smSamples++
		}
		if hasMem {
			a.memSamples++
		}
	}
	share := map[string]float64{}
	var method []string
	doms := make([]string, 0, len(gpus))
	for d := range gpus {
		doms = append(doms, d)
	}
	sort.Strings(doms)
	for _, d := range doms {
		a := by[d]
		switch {
		case a != nil && a.smSamples > 0 && a.allSM > 0:
			share[d] = a.treeSM / a.allSM
			method = append(method, fmt.Sprintf("%s: per-process SM utilisation, %d %s", d, a.smSamples, plural(a.smSamples, "sample", "samples")))
		case a != nil && a.memSamples > 0 && a.allMem > 0:
			share[d] = a.treeMem / a.allMem
			why := "no per-process utilisation reported"
			if a.smSamples > 0 {
				why = "no process used the compute"
			}
			method = append(method, fmt.Sprintf("%s: device memory held (%s), %d %s", d, why, a.memSamples, plural(a.memSamples, "sample", "samples")))
		default:
			method = append(method, fmt.Sprintf("%s: no share: the GPU meter reported no process using the device while the command ran", d))
		}
	}
	if len(share) == 0 {
		share = nil
	}
	return share, strings.Join(method, "; ")
}

// ShareLines formats a record's GPU share for people, one line a domain:
// "GPU share: gpu-0 87% of the compute (per-process SM utilisation, 42
// samples)".
func ShareLines(c *results.Command) []string {
	if c == nil || c.GPUShareMethod == "" {
		return nil
	}
	var out []string
	for _, part := range strings.Split(c.GPUShareMethod, "; ") {
		dom, how, _ := strings.Cut(part, ": ")
		v, ok := c.GPUShare[dom]
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("GPU share: %s unknown (%s)", dom, how))
		case strings.HasPrefix(how, "device memory"):
			out = append(out, fmt.Sprintf("GPU share: %s %.0f%% of the device memory in use (%s)", dom, 100*v, how))
		default:
			out = append(out, fmt.Sprintf("GPU share: %s %.0f%% of the compute (%s)", dom, 100*v, how))
		}
	}
	return out
}
