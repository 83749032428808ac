package harness

import (
	"strings"
	"testing"
)

func env(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

func TestNodeIdentitySlurm(t *testing.T) {
	n := NodeIdentity(env(map[string]string{
		"SLURM_JOB_ID": "4711", "SLURM_STEP_ID": "0", "SLURM_NODEID": "1", "SLURM_PROCID": "1", "SLURMD_NODENAME": "cn02",
	}))
	if n == nil || n.Scheduler != "slurm" || n.Name != "cn02" || n.Job != "slurm-4711.0" || n.SlurmNodeID != "1" || n.SlurmProcID != "1" {
		t.Fatalf("slurm identity: %+v", n)
	}
	dir, ok := NodeDir("/shared/out", n)
	if !ok || dir != "/shared/out/slurm-4711.0/cn02" {
		t.Fatalf("NodeDir = %q, %v; want /shared/out/slurm-4711.0/cn02", dir, ok)
	}
}

func TestNodeIdentityKubernetes(t *testing.T) {
	n := NodeIdentity(env(map[string]string{
		"JOB_COMPLETION_INDEX": "3", "NODE_NAME": "worker-7", "POD_NAME": "joulebench-3-x7k2p",
	}))
	if n == nil || n.Scheduler != "kubernetes" || n.Name != "worker-7" || n.Job != "k8s-joulebench" || n.K8sCompletionIndex != "3" {
		t.Fatalf("kubernetes identity: %+v", n)
	}
	if dir, _ := NodeDir("out", n); dir != "out/k8s-joulebench/worker-7" {
		t.Fatalf("NodeDir = %q", dir)
	}
}

func TestNodeIdentityNone(t *testing.T) {
	if n := NodeIdentity(env(nil)); n != nil {
		t.Fatalf("no batch job: got %+v", n)
	}
	if _, ok := NodeDir("out", nil); ok {
		t.Fatal("NodeDir outside a batch job must say so")
	}
}

// A node name from the environment must not climb out of --out.
func TestNodeDirHostile(t *testing.T) {
	n := NodeIdentity(env(map[string]string{"SLURM_JOB_ID": "../../etc", "SLURMD_NODENAME": "../../root/.ssh"}))
	dir, _ := NodeDir("out", n)
	if !strings.HasPrefix(dir, "out/") || strings.Contains(dir, "..") || strings.Count(dir, "/") != 2 {
		t.Fatalf("hostile names escaped: %q", dir)
	}
}
