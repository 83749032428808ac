package deploy

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/joulebench/joulebench/results"
)

// renderTemplate fills a deploy/slurm template's ${VARIABLES}; a variable
// the template uses and vars lacks is an error, so the template and its
// documented variables cannot drift apart.
func renderTemplate(path string, vars map[string]string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	var missing []string
	out := os.Expand(string(data), func(k string) string {
		v, ok := vars[k]
		if !ok {
			missing = append(missing, k)
		}
		return v
	})
	if len(missing) != 0 {
		return "", fmt.Errorf("%s uses ${%s}, which nothing sets", path, strings.Join(missing, "}, ${"))
	}
	return out, nil
}

func TestSlurmTemplateVariables(t *testing.T) {
	if _, err := renderTemplate("slurm/slurm.conf.template", map[string]string{"SLURM_NODE": "n"}); err == nil || !strings.Contains(err.Error(), "SLURM_CPUS") {
		t.Errorf("a template variable left unset was not reported: %v", err)
	}
	out, err := renderTemplate("slurm/cgroup.conf.template", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "ConstrainCores=yes") {
		t.Errorf("cgroup.conf.template does not constrain cores:\n%s", out)
	}
}

// slurmCluster is a single-node Slurm started by a test: munged,
// slurmctld and slurmd, their state and logs in dir.
type slurmCluster struct {
	t    *testing.T
	dir  string
	env  []string
	logs []string
}

// slurmRequirements says why a real Slurm cannot run here, or "".
func slurmRequirements() string {
	var missing []string
	for _, b := range []string{"munged", "slurmctld", "slurmd", "slurmstepd", "sbatch", "srun", "sinfo", "scontrol", "scancel"} {
		if _, err := exec.LookPath(b); err != nil {
			missing = append(missing, b)
		}
	}
	switch {
	case len(missing) != 0:
		return fmt.Sprintf("%s not installed: install the Debian packages slurm-wlm and munge (make test-deps does, as root)", strings.Join(missing, ", "))
	case os.Geteuid() != 0:
		return "not root: slurmd must run as root to start job steps as the submitting user"
	case runtime.NumCPU() < 2:
		return "one CPU: the Slurm test runs a 2-task step on one node"
	}
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startSlurm writes slurm.conf from the template and starts munged,
// slurmctld and two slurmd on this machine; t.Cleanup cancels any job and
// stops them.
//
// Two slurmd, nodes n1 and n2 of one CPU each (slurmd -N, the way Slurm's
// own test suite emulates a cluster on one host), so that the script runs
// exactly as documented — --nodes=2 --ntasks-per-node=1, a 2-task step — and
// merge gets two distinct nodes. Two tasks on one node would be one node's
// energy counted twice, which merge rightly refuses.
func startSlurm(t *testing.T) *slurmCluster {
	// A short directory of its own: the munge socket's path must fit in
	// sun_path (108 bytes), which a deep TMPDIR could overflow.
	dir, err := os.MkdirTemp("", "jbslurm")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	host, _, _ = strings.Cut(host, ".") // slurmd looks itself up by the short name
	c := &slurmCluster{t: t, dir: dir}
	for _, d := range []string{"munge", "state"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	key := make([]byte, 1024)
	rand.Read(key)
	if err := os.WriteFile(filepath.Join(dir, "munge", "munge.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "munge", "munge.sock")
	conf, err := renderTemplate("slurm/slurm.conf.template", map[string]string{
		"SLURM_NODE":        host,
		"SLURM_CPUS":        "1",
		"SLURM_DIR":         dir,
		"MUNGE_SOCKET":      sock,
		"SLURMCTLD_PORT":    fmt.Sprint(freePort(t)),
		"SLURMD_PORT":       fmt.Sprint(freePort(t)),
		"SLURM_PROCTRACK":   "proctrack/linuxproc",
		"SLURM_TASK_PLUGIN": "task/none",
	})
	if err != nil {
		t.Fatal(err)
	}
	nodeLine := fmt.Sprintf("NodeName=%s NodeAddr=127.0.0.1 CPUs=1 State=UNKNOWN\n", host)
	if !strings.Contains(conf, nodeLine) {
		t.Fatalf("slurm.conf.template: no line %q to replace with the test's two nodes", nodeLine)
	}
	conf = strings.Replace(conf, nodeLine, fmt.Sprintf(
		"NodeName=n1 NodeHostname=%[1]s NodeAddr=127.0.0.1 Port=%[2]d CPUs=1 State=UNKNOWN\n"+
			"NodeName=n2 NodeHostname=%[1]s NodeAddr=127.0.0.1 Port=%[3]d CPUs=1 State=UNKNOWN\n",
		host, freePort(t), freePort(t)), 1)
	confPath := filepath.Join(dir, "slurm.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	c.env = append(os.Environ(), "SLURM_CONF="+confPath)
	c.logs = []string{filepath.Join(dir, "munge", "munged.log"), filepath.Join(dir, "slurmctld.log"),
		filepath.Join(dir, "slurmd-n1.log"), filepath.Join(dir, "slurmd-n2.log")}

	c.daemon("munged", "munged", "--foreground", "--force", "--key-file="+filepath.Join(dir, "munge", "munge.key"),
		"--socket="+sock, "--pid-file="+filepath.Join(dir, "munge", "munged.pid"),
		"--log-file="+c.logs[0], "--seed-file="+filepath.Join(dir, "munge", "munged.seed"))
	c.waitFor("munged's socket", 10*time.Second, func() (bool, string) {
		_, err := os.Stat(sock)
		return err == nil, fmt.Sprint(err)
	})
	c.daemon("slurmctld", "slurmctld", "-D", "-i", "-f", confPath)
	c.daemon("slurmd-n1", "slurmd", "-D", "-N", "n1", "-f", confPath)
	c.daemon("slurmd-n2", "slurmd", "-D", "-N", "n2", "-f", confPath)
	t.Cleanup(func() {
		// A job left running (a failed test) would outlive slurmd in its
		// slurmstepd; cancel everything in this private cluster first.
		c.command(10*time.Second, "scancel", "--partition=joulebench")
	})
	c.waitFor("sinfo to show both nodes idle", 30*time.Second, func() (bool, string) {
		out, _ := c.command(5*time.Second, "sinfo", "--noheader", "--Node", "--format=%N %T")
		return strings.TrimSpace(out) == "n1 idle\nn2 idle", out
	})
	return c
}

// daemon starts a Slurm or munge daemon in the foreground, and stops it in
// t.Cleanup: SIGTERM, then SIGKILL after 10 s.
func (c *slurmCluster) daemon(logName, name string, args ...string) {
	c.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = c.env
	log, err := os.Create(filepath.Join(c.dir, logName+".out"))
	if err != nil {
		c.t.Fatal(err)
	}
	c.logs = append(c.logs, log.Name())
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		log.Close()
		c.t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); log.Close(); close(done) }()
	c.t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
}

// command runs a Slurm client command against this cluster.
func (c *slurmCluster) command(timeout time.Duration, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = c.env
	cmd.Dir = c.dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func (c *slurmCluster) waitFor(what string, timeout time.Duration, ok func() (bool, string)) {
	c.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		done, last := ok()
		if done {
			return
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("waited %v for %s; last: %s\n%s", timeout, what, last, c.logTails())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// logTails is the end of every daemon log, for a failure message.
func (c *slurmCluster) logTails() string {
	var b strings.Builder
	for _, p := range c.logs {
		data, _ := os.ReadFile(p)
		if len(data) > 3000 {
			data = data[len(data)-3000:]
		}
		fmt.Fprintf(&b, "--- %s\n%s\n", p, data)
	}
	return b.String()
}

// findRecords lists the record files under dir, however deep run nests them
// (OUT/RUN-ID/, or OUT/JOB.STEP/NODE/ under a scheduler).
func findRecords(dir string) []string {
	var paths []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() == results.RecordFile {
			paths = append(paths, p)
		}
		return nil
	})
	return paths
}

// hasMerge reports whether this joulebench has the merge command.
func hasMerge(bin string) bool {
	out, _ := exec.Command(bin, "merge", "-h").CombinedOutput()
	return strings.Contains(string(out), "Usage of joulebench merge")
}

// TestSlurmSbatch runs deploy/slurm/joulebench.sbatch, as docs/slurm.md
// tells users to, on a real single-node Slurm: a 2-task step of a short
// fake-meter run, then the merge the script does. It checks each task
// wrote its own complete record, labelled with its job and rank, inside the
// job's time as Slurm saw it, and that the cluster record holds both.
func TestSlurmSbatch(t *testing.T) {
	if testing.Short() {
		t.Skip("slurm: skipped under -short (starts munged, slurmctld and slurmd)")
	}
	if why := slurmRequirements(); why != "" {
		t.Skip("slurm: " + why)
	}
	bin := joulebenchBinary(t)
	merge := hasMerge(bin)
	c := startSlurm(t)

	suite := filepath.Join(c.dir, "suite.json")
	if err := os.WriteFile(suite, []byte(`{"name":"slurm-smoke","version":"1","idle_s":0.2,"warmup_s":0.1,"min_time_s":0.2,"reps":2,"min_readings":1,"max_cv":1,"workloads":["gemm-fp32-512"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	script, err := filepath.Abs("slurm/joulebench.sbatch")
	if err != nil {
		t.Fatal(err)
	}
	outDir := filepath.Join(c.dir, "results")
	mergeFlag := "0"
	if merge {
		mergeFlag = "1"
	} else {
		t.Log("this joulebench has no merge command: the script runs with JOULEBENCH_MERGE=0 and the cluster record is not checked")
	}
	c.env = append(c.env, "JOULEBENCH="+bin, "JOULEBENCH_OUT="+outDir, "JOULEBENCH_MERGE="+mergeFlag)
	// The script's own #SBATCH lines ask for 2 nodes, one task each.
	out, err := c.command(60*time.Second, "sbatch", "--parsable", "--wait", "--output="+filepath.Join(c.dir, "job-%j.out"),
		script, "--suite="+suite, "--meter=fake", "--threads=1")
	jobID := strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	jobOut, _ := os.ReadFile(filepath.Join(c.dir, "job-"+jobID+".out"))
	if err != nil {
		t.Fatalf("sbatch --wait: %v\n%s\njob output:\n%s\n%s", err, out, jobOut, c.logTails())
	}
	t.Logf("job %s output:\n%s", jobID, jobOut)

	// Slurm's own view of the job, beside ours: with no accounting storage
	// sacct has nothing, but slurmctld keeps a finished job for MinJobAge.
	view, err := c.command(10*time.Second, "scontrol", "--oneliner", "show", "job", jobID)
	if err != nil {
		t.Fatalf("scontrol show job %s: %v\n%s", jobID, err, view)
	}
	fields := map[string]string{}
	for _, f := range strings.Fields(view) {
		if k, v, ok := strings.Cut(f, "="); ok {
			fields[k] = v
		}
	}
	if fields["JobState"] != "COMPLETED" || fields["NumTasks"] != "2" {
		t.Errorf("Slurm says JobState=%s NumTasks=%s, want COMPLETED and 2:\n%s", fields["JobState"], fields["NumTasks"], view)
	}
	// scontrol prints local time to the second.
	jobStart, err1 := time.ParseInLocation("2006-01-02T15:04:05", fields["StartTime"], time.Local)
	jobEnd, err2 := time.ParseInLocation("2006-01-02T15:04:05", fields["EndTime"], time.Local)
	if err1 != nil || err2 != nil {
		t.Fatalf("scontrol StartTime/EndTime: %v %v\n%s", err1, err2, view)
	}

	jobDir := filepath.Join(outDir, "slurm-"+jobID)
	digests := map[string]string{} // run ID -> sha256 of the record file
	var nodes []string
	for rank := range 2 {
		paths := findRecords(filepath.Join(jobDir, fmt.Sprintf("task-%d", rank)))
		if len(paths) != 1 {
			t.Fatalf("task %d: want one record under %s/task-%d, found %v", rank, jobDir, rank, paths)
		}
		data, rec, err := results.ReadFileBytes(paths[0])
		if err != nil {
			t.Fatalf("task %d: %v", rank, err)
		}
		sum := sha256.Sum256(data)
		digests[rec.RunID] = hex.EncodeToString(sum[:])
		if !rec.Complete || rec.Config.Suite != "slurm-smoke" || len(rec.Workloads) != 1 {
			t.Errorf("task %d: record %s: complete=%v suite=%q workloads=%d, want a complete slurm-smoke run of one workload", rank, paths[0], rec.Complete, rec.Config.Suite, len(rec.Workloads))
		}
		if n := rec.Node; n == nil || n.Scheduler != "slurm" || n.SlurmJobID != jobID || n.SlurmProcID != fmt.Sprint(rank) {
			t.Errorf("task %d: record's node block %+v: want scheduler slurm, job %s, proc %d (from SLURM_*)", rank, n, jobID, rank)
		} else {
			nodes = append(nodes, n.Name)
		}
		if rec.StartedAt.Before(jobStart.Add(-time.Second)) || rec.FinishedAt.After(jobEnd.Add(time.Second)) {
			t.Errorf("task %d: record runs %v–%v, outside the job's %v–%v as Slurm saw it", rank, rec.StartedAt, rec.FinishedAt, jobStart, jobEnd)
		}
	}
	if len(digests) != 2 {
		t.Fatalf("the two tasks' records share a run ID: %v", digests)
	}
	if slices.Sort(nodes); !slices.Equal(nodes, []string{"n1", "n2"}) {
		t.Errorf("records name the nodes %v, want n1 and n2 (SLURMD_NODENAME): one task per node", nodes)
	}
	if !merge {
		return
	}
	clusterPath := filepath.Join(jobDir, "cluster", results.RecordFile)
	rec, err := results.ReadFile(clusterPath)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Cluster == nil || len(rec.Cluster.Nodes) != 2 {
		t.Fatalf("%s: want a cluster record of 2 node records, got cluster=%+v", clusterPath, rec.Cluster)
	}
	for _, n := range rec.Cluster.Nodes {
		if want, ok := digests[n.RunID]; !ok || n.SHA256 != want {
			t.Errorf("cluster record lists run %s with sha256 %s; the tasks wrote %v (run ID -> sha256)", n.RunID, n.SHA256, digests)
		}
	}
	if !slices.ContainsFunc(rec.Workloads, func(w results.Workload) bool { return len(w.Reps) == 2 }) {
		t.Errorf("cluster record has no workload with the 2 repetitions each node ran: %+v", rec.Workloads)
	}
}
