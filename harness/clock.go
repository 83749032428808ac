package harness

import (
	"os"
	"path"
	"regexp"
	"strings"

	"github.com/joulebench/joulebench/results"
)

// NodeIdentity says which node of which batch job this run is, from the
// environment Slurm (srun) and Kubernetes (an Indexed Job, NODE_NAME and
// POD_NAME from the downward API) give a task; getenv is os.Getenv in
// use. It returns nil outside a batch job, where the record names its
// host by the fingerprint's hostname alone.
func NodeIdentity(getenv func(string) string) *results.Node {
	switch {
	case getenv("SLURM_JOB_ID") != "":
		n := &results.Node{
			Scheduler:   "slurm",
			Name:        firstOf(getenv("SLURMD_NODENAME"), hostname()),
			SlurmJobID:  getenv("SLURM_JOB_ID"),
			SlurmStepID: getenv("SLURM_STEP_ID"),
			SlurmNodeID: getenv("SLURM_NODEID"),
			SlurmProcID: getenv("SLURM_PROCID"),
		}
		n.Job = "slurm-" + n.SlurmJobID
		if n.SlurmStepID != "" {
			n.Job += "." + n.SlurmStepID
		}
		return n
	case getenv("JOB_COMPLETION_INDEX") != "" || getenv("NODE_NAME") != "" && getenv("POD_NAME") != "":
		n := &results.Node{
			Scheduler:          "kubernetes",
			Name:               firstOf(getenv("NODE_NAME"), hostname()),
			K8sCompletionIndex: getenv("JOB_COMPLETION_INDEX"),
			K8sPod:             getenv("POD_NAME"),
		}
		n.Job = "k8s-" + firstOf(k8sJobName(n.K8sPod, n.K8sCompletionIndex), "job")
		return n
	}
	return nil
}

// k8sPodSuffix is what the Job controller adds to an Indexed Job's pod
// names: "-<index>-<5 random characters>".
var k8sPodSuffix = regexp.MustCompile(`-[0-9]+-[a-z0-9]{5}$`)

// k8sJobName is the Job's name from one of its pods' names.
func k8sJobName(pod, index string) string {
	if index != "" && k8sPodSuffix.MatchString(pod) {
		return k8sPodSuffix.ReplaceAllString(pod, "")
	}
	return pod
}

// nodeDirName keeps what a file name may hold: a hostile or odd
// environment value cannot climb out of the output directory.
var nodeDirName = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// NodeDir is where, under out, the record of a node of a batch job goes:
// OUT/<job>/<node>, so that the nodes of one job writing to one shared
// filesystem never collide, and a later job never overwrites an earlier
// one's. ok is false outside a batch job (the run-ID directory is used).
func NodeDir(out string, n *results.Node) (dir string, ok bool) {
	if n == nil {
		return "", false
	}
	return path.Join(out, safeName(n.Job), safeName(n.Name)), true
}

func safeName(s string) string {
	s = nodeDirName.ReplaceAllString(s, "_")
	s = strings.ReplaceAll(strings.TrimLeft(s, "."), "..", "_")
	if s == "" {
		return "_"
	}
	if len(s) > 128 {
		s = s[:128]
	}
	return s
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
