// Package deploy holds no code: it is the home of the tests for the
// deployment files beside it — the Kubernetes manifests in k8s/ and the
// Slurm batch script and configuration templates in slurm/.
//
// The tests decode the manifests into the Kubernetes API's own types and
// check what a cluster would otherwise find out the hard way (one pod per
// node, read-only host mounts, resources, arguments the CLI accepts), and
// run the Slurm script on a real single-node Slurm when slurm-wlm and munge
// are installed. Nothing here may be imported by joulebench itself.
package deploy
