package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

const k8sDir = "k8s"

// The image the manifests run; kustomization.yaml pins its tag.
const imageName = "ghcr.io/joulebench/joulebench"

// kustomization is the part of kustomize's Kustomization these manifests
// use. It is decoded strictly: a field kustomize would not know (a typo)
// fails the test instead of being ignored.
type kustomization struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace"`
	Labels     []struct {
		Pairs            map[string]string `json:"pairs"`
		IncludeSelectors bool              `json:"includeSelectors,omitempty"`
		IncludeTemplates bool              `json:"includeTemplates,omitempty"`
	} `json:"labels,omitempty"`
	Resources []string `json:"resources"`
	Images    []struct {
		Name    string `json:"name"`
		NewName string `json:"newName,omitempty"`
		NewTag  string `json:"newTag,omitempty"`
		Digest  string `json:"digest,omitempty"`
	} `json:"images,omitempty"`
}

// manifests is deploy/k8s decoded into the Kubernetes API's types.
type manifests struct {
	kust            kustomization
	namespaces      []*corev1.Namespace
	serviceAccounts []*corev1.ServiceAccount
	pvcs            []*corev1.PersistentVolumeClaim
	daemonSets      []*appsv1.DaemonSet
	jobs            []*batchv1.Job
	// objects is every object's kind/name and namespace, for the checks
	// that apply to all of them.
	objects []objectRef
}

type objectRef struct {
	file, kind, name, namespace string
}

// loadManifests decodes kustomization.yaml and every resource it lists.
func loadManifests(dir string) (*manifests, error) {
	m := &manifests{}
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		return nil, err
	}
	if err := decodeStrict(data, &m.kust); err != nil {
		return nil, fmt.Errorf("%s/kustomization.yaml: %w", dir, err)
	}
	for _, res := range m.kust.Resources {
		data, err := os.ReadFile(filepath.Join(dir, res))
		if err != nil {
			return nil, fmt.Errorf("kustomization.yaml lists %s: %w", res, err)
		}
		for i, doc := range splitDocuments(data) {
			if err := m.decode(res, i, doc); err != nil {
				return nil, err
			}
		}
	}
	return m, nil
}

// decodeStrict decodes YAML the way the API server does with strict field
// validation: field names are case-sensitive (encoding/json would take
// "readonly" for readOnly), and unknown or duplicate fields are errors.
func decodeStrict(doc []byte, into any) error {
	data, err := yaml.YAMLToJSON(doc)
	if err != nil {
		return err
	}
	strictErrs, err := sigsjson.UnmarshalStrict(data, into, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil {
		return err
	}
	return errors.Join(strictErrs...)
}

// splitDocuments splits a multi-document YAML file at its "---" lines,
// dropping documents that are only comments or blank.
func splitDocuments(data []byte) [][]byte {
	var docs [][]byte
	for _, doc := range regexp.MustCompile(`(?m)^---\s*$`).Split(string(data), -1) {
		empty := true
		for _, line := range strings.Split(doc, "\n") {
			if s := strings.TrimSpace(line); s != "" && !strings.HasPrefix(s, "#") {
				empty = false
			}
		}
		if !empty {
			docs = append(docs, []byte(doc))
		}
	}
	return docs
}

func (m *manifests) decode(file string, i int, doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return fmt.Errorf("%s document %d: %w", file, i, err)
	}
	strict := func(into interface{ GetName() string }) error {
		if err := decodeStrict(doc, into); err != nil {
			return fmt.Errorf("%s document %d (%s): %w", file, i, tm.Kind, err)
		}
		return nil
	}
	var obj interface {
		GetName() string
		GetNamespace() string
	}
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 Namespace":
		o := &corev1.Namespace{}
		obj, m.namespaces = o, append(m.namespaces, o)
	case "v1 ServiceAccount":
		o := &corev1.ServiceAccount{}
		obj, m.serviceAccounts = o, append(m.serviceAccounts, o)
	case "v1 PersistentVolumeClaim":
		o := &corev1.PersistentVolumeClaim{}
		obj, m.pvcs = o, append(m.pvcs, o)
	case "apps/v1 DaemonSet":
		o := &appsv1.DaemonSet{}
		obj, m.daemonSets = o, append(m.daemonSets, o)
	case "batch/v1 Job":
		o := &batchv1.Job{}
		obj, m.jobs = o, append(m.jobs, o)
	default:
		return fmt.Errorf("%s document %d: %q %q is not a kind these tests check; add it to manifests.decode", file, i, tm.APIVersion, tm.Kind)
	}
	if err := strict(obj); err != nil {
		return err
	}
	m.objects = append(m.objects, objectRef{file: file, kind: tm.Kind, name: obj.GetName(), namespace: obj.GetNamespace()})
	return nil
}

// checkListsEveryFile: kustomize applies only what kustomization.yaml
// lists, so a manifest added to the directory but not to the list would
// silently never be deployed; a listed file that is gone breaks the build.
func checkListsEveryFile(dir string, k kustomization) []error {
	var errs []error
	entries, err := os.ReadDir(dir)
	if err != nil {
		return []error{err}
	}
	seen := map[string]bool{}
	for _, r := range k.Resources {
		if seen[r] {
			errs = append(errs, fmt.Errorf("kustomization.yaml lists %s twice", r))
		}
		seen[r] = true
		if _, err := os.Stat(filepath.Join(dir, r)); err != nil {
			errs = append(errs, fmt.Errorf("kustomization.yaml lists %s, which is not in %s", r, dir))
		}
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || name == "kustomization.yaml" {
			continue
		}
		if !strings.HasSuffix(name, ".yaml") && !strings.HasSuffix(name, ".yml") {
			errs = append(errs, fmt.Errorf("%s/%s is not YAML: only manifests belong in %s", dir, name, dir))
			continue
		}
		if !seen[name] {
			errs = append(errs, fmt.Errorf("%s/%s is not listed in kustomization.yaml's resources, so kubectl apply -k would skip it", dir, name))
		}
	}
	return errs
}

// cliFlags are the flags of each joulebench subcommand the manifests call.
type cliFlags map[string]map[string]cliFlag

// checkManifests is every invariant of the manifests; each error names the
// object, the field and what is wrong.
func checkManifests(m *manifests, cli cliFlags) []error {
	var errs []error
	errs = append(errs, checkNamespace(m)...)
	errs = append(errs, checkImagePin(m.kust)...)
	if len(m.daemonSets) != 1 {
		errs = append(errs, fmt.Errorf("want exactly one DaemonSet (joulebench serve), found %d", len(m.daemonSets)))
	}
	if len(m.jobs) != 1 {
		errs = append(errs, fmt.Errorf("want exactly one Job (the benchmark), found %d", len(m.jobs)))
	}
	for _, ds := range m.daemonSets {
		errs = append(errs, checkServe(m, ds, cli["serve"])...)
	}
	for _, job := range m.jobs {
		errs = append(errs, checkBenchmarkJob(m, job, cli["run"])...)
	}
	return errs
}

func checkNamespace(m *manifests) []error {
	var errs []error
	ns := m.kust.Namespace
	if ns == "" {
		errs = append(errs, fmt.Errorf("kustomization.yaml: namespace is empty; the pods would land in whatever namespace kubectl defaults to"))
	}
	if len(m.namespaces) != 1 || m.namespaces[0].Name != ns {
		errs = append(errs, fmt.Errorf("want one Namespace object named %q (kustomization.yaml's namespace), found %d", ns, len(m.namespaces)))
	} else if m.namespaces[0].Labels["pod-security.kubernetes.io/enforce"] == "" {
		errs = append(errs, fmt.Errorf("Namespace %s: no pod-security.kubernetes.io/enforce label; say which Pod Security level the hostPath /sys needs", ns))
	}
	for _, o := range m.objects {
		if o.namespace != "" && o.namespace != ns {
			errs = append(errs, fmt.Errorf("%s %s (%s): metadata.namespace %q differs from kustomization.yaml's %q", o.kind, o.name, o.file, o.namespace, ns))
		}
	}
	return errs
}

func checkImagePin(k kustomization) []error {
	for _, img := range k.Images {
		if img.Name != imageName {
			continue
		}
		if img.Digest == "" && (img.NewTag == "" || img.NewTag == "latest") {
			return []error{fmt.Errorf("kustomization.yaml: images %s: pin a version with newTag (not latest) or digest", imageName)}
		}
		return nil
	}
	return []error{fmt.Errorf("kustomization.yaml: no images entry for %s; pin its version there", imageName)}
}

// checkPod is what both pods need: one per node, read-only host mounts,
// the least privilege, requests and limits, NODE_NAME, and the CLI's
// flags.
func checkPod(m *manifests, where string, spec corev1.PodSpec, podLabels map[string]string, sub string, flags map[string]cliFlag) []error {
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(where+": "+format, a...)) }

	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		fail("hostNetwork, hostPID and hostIPC must be off: reading /sys needs none of them")
	}
	if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
		fail("automountServiceAccountToken must be false: joulebench never calls the Kubernetes API")
	}
	if spec.ServiceAccountName != "" && !slices.ContainsFunc(m.serviceAccounts, func(sa *corev1.ServiceAccount) bool { return sa.Name == spec.ServiceAccountName }) {
		fail("serviceAccountName %q is not among the manifests", spec.ServiceAccountName)
	}
	if !hasHostnameAntiAffinity(spec, podLabels) {
		fail("no required podAntiAffinity on kubernetes.io/hostname selecting the pod's own labels %v: two pods could share a node and measure each other", podLabels)
	}

	hostPaths := map[string]string{} // volume name -> host path
	for _, v := range spec.Volumes {
		if v.HostPath != nil {
			if v.HostPath.Path != "/sys" {
				fail("volume %s: hostPath %s; /sys is the only host path joulebench needs", v.Name, v.HostPath.Path)
			}
			hostPaths[v.Name] = v.HostPath.Path
		}
	}
	if len(spec.Containers) != 1 {
		fail("want one container, found %d", len(spec.Containers))
		return errs
	}
	if len(spec.InitContainers) != 0 {
		fail("init containers are not checked here; add checks before adding one")
	}
	c := spec.Containers[0]
	where = where + " container " + c.Name
	fail = func(format string, a ...any) { errs = append(errs, fmt.Errorf(where+": "+format, a...)) }

	sysMount := ""
	for _, vm := range c.VolumeMounts {
		if _, ok := hostPaths[vm.Name]; !ok {
			continue
		}
		if !vm.ReadOnly {
			fail("volumeMount %s (hostPath /sys) at %s must be readOnly: true", vm.Name, vm.MountPath)
		}
		if vm.MountPropagation != nil && *vm.MountPropagation != corev1.MountPropagationNone {
			fail("volumeMount %s: mountPropagation %s; host mounts must not propagate", vm.Name, *vm.MountPropagation)
		}
		sysMount = vm.MountPath
	}
	if sysMount == "" {
		fail("no hostPath /sys mount: RAPL is masked inside containers (/sys/devices/virtual/powercap)")
	}

	sc := c.SecurityContext
	switch {
	case sc == nil:
		fail("no securityContext: drop all capabilities, forbid privilege escalation, read-only root filesystem")
	default:
		if sc.Privileged != nil && *sc.Privileged {
			fail("privileged: true; reading energy_uj needs only uid 0")
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			fail("securityContext.allowPrivilegeEscalation must be false")
		}
		if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
			fail("securityContext.readOnlyRootFilesystem must be true")
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			fail("securityContext.capabilities.drop must be [ALL]")
		} else if len(sc.Capabilities.Add) != 0 {
			fail("securityContext.capabilities.add %v: uid 0 owns energy_uj, no capability is needed", sc.Capabilities.Add)
		}
	}

	req, lim := c.Resources.Requests, c.Resources.Limits
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q, ok := req[r]; !ok || q.Sign() <= 0 {
			fail("resources.requests.%s is missing: the scheduler would place the pod blind", r)
		}
		if l, ok := lim[r]; ok && l.Cmp(req[r]) < 0 {
			fail("resources.limits.%s %s is below the request %s", r, l.String(), ptr(req[r]).String())
		}
	}
	if _, ok := lim[corev1.ResourceMemory]; !ok {
		fail("resources.limits.memory is missing")
	}

	env := map[string]corev1.EnvVar{}
	for _, e := range c.Env {
		env[e.Name] = e
	}
	if e, ok := env["NODE_NAME"]; !ok || e.ValueFrom == nil || e.ValueFrom.FieldRef == nil || e.ValueFrom.FieldRef.FieldPath != "spec.nodeName" {
		fail("env NODE_NAME must come from the downward API (valueFrom.fieldRef.fieldPath: spec.nodeName)")
	}

	if i := strings.LastIndex(c.Image, ":"); c.Image != imageName && (i < 0 || c.Image[:i] != imageName || c.Image[i+1:] == "latest") {
		fail("image %q: want %s, its version pinned in kustomization.yaml", c.Image, imageName)
	}
	if !slices.Equal(c.Command, []string{"joulebench"}) {
		fail("command %q: want [joulebench]", c.Command)
	}
	args, argErrs := parseArgs(c, sub, flags)
	for _, err := range argErrs {
		fail("%v", err)
	}
	if sysMount != "" && args["sysfs-root"] != sysMount {
		fail("--sysfs-root=%q, but the host's /sys is mounted at %q: the meters would read the container's masked /sys", args["sysfs-root"], sysMount)
	}
	return errs
}

func isLoopback(host string) bool {
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func ptr[T any](v T) *T { return &v }

// hasHostnameAntiAffinity reports whether spec requires that no two pods
// with these labels share a node.
func hasHostnameAntiAffinity(spec corev1.PodSpec, podLabels map[string]string) bool {
	if spec.Affinity == nil || spec.Affinity.PodAntiAffinity == nil {
		return false
	}
	for _, term := range spec.Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution {
		if term.TopologyKey != "kubernetes.io/hostname" || term.LabelSelector == nil {
			continue
		}
		sel, err := metav1.LabelSelectorAsSelector(term.LabelSelector)
		if err != nil || sel.Empty() {
			continue
		}
		if sel.Matches(labels.Set(podLabels)) {
			return true
		}
	}
	return false
}

var envRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// parseArgs checks the container's args against `joulebench SUB -h`: the
// subcommand first, then --name=value for each flag that takes a value (so
// a value can never be read as a flag or the other way round) and --name
// for a boolean; every $(VAR) must be an env var of the container, since
// Kubernetes leaves an unknown one as literal text. It returns the flags'
// values by name.
func parseArgs(c corev1.Container, sub string, flags map[string]cliFlag) (map[string]string, []error) {
	var errs []error
	vals := map[string]string{}
	if len(c.Args) == 0 || c.Args[0] != sub {
		return vals, []error{fmt.Errorf("args %q: want the subcommand %q first", c.Args, sub)}
	}
	env := map[string]bool{}
	for _, e := range c.Env {
		env[e.Name] = true
	}
	for _, a := range c.Args[1:] {
		for _, ref := range envRef.FindAllStringSubmatch(a, -1) {
			if !env[ref[1]] {
				errs = append(errs, fmt.Errorf("arg %q refers to $(%s), which is not in the container's env; Kubernetes would pass it literally", a, ref[1]))
			}
		}
		name, val, hasVal := strings.Cut(strings.TrimPrefix(a, "--"), "=")
		if !strings.HasPrefix(a, "--") || name == "" {
			errs = append(errs, fmt.Errorf("arg %q: want --flag=value (joulebench %s takes no positional arguments)", a, sub))
			continue
		}
		f, ok := flags[name]
		if !ok {
			errs = append(errs, fmt.Errorf("arg %q: joulebench %s has no flag --%s", a, sub, name))
			continue
		}
		if _, dup := vals[name]; dup {
			errs = append(errs, fmt.Errorf("arg %q: --%s given twice", a, name))
		}
		switch {
		case f.Type == "" && hasVal:
			if _, err := strconv.ParseBool(val); err != nil {
				errs = append(errs, fmt.Errorf("arg %q: --%s is a boolean", a, name))
			}
		case f.Type == "":
			val = "true"
		case !hasVal:
			errs = append(errs, fmt.Errorf("arg %q: --%s takes a %s; write --%s=VALUE", a, name, f.Type, name))
		case f.Type == "duration" && !strings.Contains(val, "$("):
			if _, err := time.ParseDuration(val); err != nil {
				errs = append(errs, fmt.Errorf("arg %q: --%s: %v", a, name, err))
			}
		}
		vals[name] = val
	}
	return vals, errs
}

func checkServe(m *manifests, ds *appsv1.DaemonSet, flags map[string]cliFlag) []error {
	where := "DaemonSet " + ds.Name
	tpl := ds.Spec.Template
	errs := checkPod(m, where, tpl.Spec, tpl.Labels, "serve", flags)
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(where+": "+format, a...)) }
	if ds.Spec.Selector == nil {
		fail("no selector")
	} else if sel, err := metav1.LabelSelectorAsSelector(ds.Spec.Selector); err != nil || !sel.Matches(labels.Set(tpl.Labels)) {
		fail("selector %v does not select the template's labels %v", ds.Spec.Selector, tpl.Labels)
	}
	if len(tpl.Spec.Containers) != 1 {
		return errs
	}
	c := tpl.Spec.Containers[0]
	args, _ := parseArgs(c, "serve", flags)
	if args["node"] != "$(NODE_NAME)" {
		fail("--node=%q: want --node=$(NODE_NAME), the node's name from the downward API (the pod's hostname is the pod's)", args["node"])
	}
	listen, ok := args["listen"]
	host, port, err := net.SplitHostPort(listen)
	switch {
	case !ok:
		fail("no --listen=[HOST]:PORT: serve listens on loopback by default, which Prometheus cannot scrape")
	case err != nil:
		fail("--listen=%s: %v", listen, err)
	case host == "localhost" || isLoopback(host):
		fail("--listen=%s is loopback: Prometheus cannot scrape it", listen)
	}
	if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return strconv.Itoa(int(p.ContainerPort)) == port }) {
		fail("--listen port %q is not a containerPort", port)
	}
	ann := tpl.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != port || ann["prometheus.io/path"] != "/metrics" {
		fail("annotations prometheus.io/scrape=true, port=%s, path=/metrics needed for annotation-based scraping; have %v", port, ann)
	}
	if _, ok := c.Resources.Limits[corev1.ResourceCPU]; !ok {
		fail("resources.limits.cpu is missing: a daemon on every node must be bounded")
	}
	for name, p := range map[string]*corev1.Probe{"livenessProbe": c.LivenessProbe, "readinessProbe": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" {
			fail("%s: want httpGet /healthz", name)
		}
	}
	return errs
}

func checkBenchmarkJob(m *manifests, job *batchv1.Job, flags map[string]cliFlag) []error {
	where := "Job " + job.Name
	tpl := job.Spec.Template
	errs := checkPod(m, where, tpl.Spec, tpl.Labels, "run", flags)
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(where+": "+format, a...)) }
	if job.Spec.CompletionMode == nil || *job.Spec.CompletionMode != batchv1.IndexedCompletion {
		fail("completionMode must be Indexed: each pod needs its own index for its record")
	}
	if job.Spec.Completions == nil || job.Spec.Parallelism == nil || *job.Spec.Completions < 1 || *job.Spec.Completions != *job.Spec.Parallelism {
		fail("completions and parallelism must be equal (the number of nodes): every node's run must be measured at the same time")
	}
	if tpl.Spec.RestartPolicy != corev1.RestartPolicyNever {
		fail("restartPolicy %q: want Never; a restarted run would start out of step with the other nodes", tpl.Spec.RestartPolicy)
	}
	if len(tpl.Spec.Containers) != 1 {
		return errs
	}
	c := tpl.Spec.Containers[0]
	if !slices.ContainsFunc(c.Env, func(e corev1.EnvVar) bool { return e.Name == "JOB_COMPLETION_INDEX" }) {
		fail("env JOB_COMPLETION_INDEX is not declared")
	}
	args, _ := parseArgs(c, "run", flags)
	out := args["out"]
	if !strings.Contains(out, "$(JOB_COMPLETION_INDEX)") {
		fail("--out=%q does not contain $(JOB_COMPLETION_INDEX): the pods would write into one directory and one joulebench.db", out)
	}
	claims := map[string]string{}
	for _, v := range tpl.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			claims[v.Name] = v.PersistentVolumeClaim.ClaimName
		}
	}
	shared := false
	for _, vm := range c.VolumeMounts {
		claim, ok := claims[vm.Name]
		if !ok || vm.ReadOnly || !strings.HasPrefix(out, strings.TrimSuffix(vm.MountPath, "/")+"/") {
			continue
		}
		for _, pvc := range m.pvcs {
			if pvc.Name == claim && slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
				shared = true
			}
		}
	}
	if !shared {
		fail("--out=%q is not on a writable mount of a ReadWriteMany PersistentVolumeClaim in the manifests: the nodes' records must meet in one place for merge", out)
	}
	return errs
}

func loadCLIFlags(t *testing.T) cliFlags {
	return cliFlags{"serve": subcommandFlags(t, "serve"), "run": subcommandFlags(t, "run")}
}

func TestK8sManifests(t *testing.T) {
	for _, err := range checkListsEveryFile(k8sDir, mustLoad(t).kust) {
		t.Error(err)
	}
	m := mustLoad(t)
	for _, err := range checkManifests(m, loadCLIFlags(t)) {
		t.Error(err)
	}
}

func mustLoad(t *testing.T) *manifests {
	t.Helper()
	m, err := loadManifests(k8sDir)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestK8sManifestCheatsCaught breaks the honest manifests one way at a
// time, each the way a hurried edit would, and requires the check meant
// for it to say so.
func TestK8sManifestCheatsCaught(t *testing.T) {
	cli := loadCLIFlags(t)
	if errs := checkManifests(mustLoad(t), cli); len(errs) != 0 {
		t.Fatalf("the honest manifests fail: %v", errs)
	}
	serve := func(m *manifests) *corev1.PodSpec { return &m.daemonSets[0].Spec.Template.Spec }
	bench := func(m *manifests) *corev1.PodSpec { return &m.jobs[0].Spec.Template.Spec }
	setArg := func(spec *corev1.PodSpec, prefix, arg string) {
		c := &spec.Containers[0]
		for i, a := range c.Args {
			if strings.HasPrefix(a, prefix) {
				c.Args[i] = arg
				return
			}
		}
		c.Args = append(c.Args, arg)
	}
	cases := []struct {
		name   string
		mutate func(*manifests)
		want   string
	}{
		{"writable hostPath /sys", func(m *manifests) { serve(m).Containers[0].VolumeMounts[0].ReadOnly = false }, "must be readOnly"},
		{"host root mounted", func(m *manifests) { bench(m).Volumes[0].HostPath.Path = "/" }, "the only host path"},
		{"no anti-affinity", func(m *manifests) { bench(m).Affinity = nil }, "podAntiAffinity"},
		{"anti-affinity on the zone", func(m *manifests) {
			bench(m).Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].TopologyKey = "topology.kubernetes.io/zone"
		}, "podAntiAffinity"},
		{"anti-affinity selecting other pods", func(m *manifests) {
			bench(m).Affinity.PodAntiAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector.MatchLabels = map[string]string{"app": "other"}
		}, "podAntiAffinity"},
		{"preferred anti-affinity only", func(m *manifests) {
			a := bench(m).Affinity.PodAntiAffinity
			a.PreferredDuringSchedulingIgnoredDuringExecution = []corev1.WeightedPodAffinityTerm{{Weight: 100, PodAffinityTerm: a.RequiredDuringSchedulingIgnoredDuringExecution[0]}}
			a.RequiredDuringSchedulingIgnoredDuringExecution = nil
		}, "podAntiAffinity"},
		{"no memory request", func(m *manifests) { delete(bench(m).Containers[0].Resources.Requests, corev1.ResourceMemory) }, "requests.memory"},
		{"no memory limit", func(m *manifests) { delete(serve(m).Containers[0].Resources.Limits, corev1.ResourceMemory) }, "limits.memory"},
		{"limit below request", func(m *manifests) {
			serve(m).Containers[0].Resources.Limits[corev1.ResourceMemory] = resource.MustParse("1Mi")
		}, "below the request"},
		{"serve unbounded CPU", func(m *manifests) { delete(serve(m).Containers[0].Resources.Limits, corev1.ResourceCPU) }, "limits.cpu"},
		{"NODE_NAME hard-coded", func(m *manifests) {
			serve(m).Containers[0].Env[0] = corev1.EnvVar{Name: "NODE_NAME", Value: "node-1"}
		}, "downward API"},
		{"NODE_NAME from the pod name", func(m *manifests) {
			bench(m).Containers[0].Env[0].ValueFrom.FieldRef.FieldPath = "metadata.name"
		}, "downward API"},
		{"unknown serve flag", func(m *manifests) { setArg(serve(m), "--listen", "--listen-address=:9478") }, "has no flag --listen-address"},
		{"unknown run flag", func(m *manifests) { setArg(bench(m), "--suite", "--suites=certify") }, "has no flag --suites"},
		{"value as a separate arg", func(m *manifests) { setArg(bench(m), "--suite", "--suite") }, "write --suite=VALUE"},
		{"positional arg", func(m *manifests) { setArg(bench(m), "--suite", "certify") }, "positional"},
		{"wrong subcommand", func(m *manifests) { serve(m).Containers[0].Args[0] = "meters" }, "want the subcommand"},
		{"bad duration", func(m *manifests) { setArg(serve(m), "--interval", "--interval=1") }, "missing unit"},
		{"undeclared env in args", func(m *manifests) { setArg(serve(m), "--node", "--node=$(HOSTNAME)") }, "Kubernetes would pass it literally"},
		{"node from the hostname", func(m *manifests) {
			c := &serve(m).Containers[0]
			c.Env = append(c.Env, corev1.EnvVar{Name: "HOST", Value: "x"})
			setArg(serve(m), "--node", "--node=$(HOST)")
		}, "want --node=$(NODE_NAME)"},
		{"serve on loopback", func(m *manifests) { setArg(serve(m), "--listen", "--listen=127.0.0.1:9478") }, "loopback"},
		{"serve without --listen", func(m *manifests) {
			c := &serve(m).Containers[0]
			c.Args = slices.DeleteFunc(c.Args, func(a string) bool { return strings.HasPrefix(a, "--listen") })
		}, "no --listen"},
		{"scrape port mismatch", func(m *manifests) { m.daemonSets[0].Spec.Template.Annotations["prometheus.io/port"] = "9100" }, "annotations prometheus.io"},
		{"sysfs-root not the mount", func(m *manifests) { setArg(serve(m), "--sysfs-root", "--sysfs-root=/sys") }, "masked /sys"},
		{"privileged", func(m *manifests) { serve(m).Containers[0].SecurityContext.Privileged = ptr(true) }, "privileged: true"},
		{"capability added", func(m *manifests) {
			serve(m).Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"SYS_RAWIO"}
		}, "capabilities.add"},
		{"capabilities kept", func(m *manifests) { bench(m).Containers[0].SecurityContext.Capabilities = nil }, "drop must be [ALL]"},
		{"escalation allowed", func(m *manifests) { bench(m).Containers[0].SecurityContext.AllowPrivilegeEscalation = nil }, "allowPrivilegeEscalation"},
		{"writable root fs", func(m *manifests) { serve(m).Containers[0].SecurityContext.ReadOnlyRootFilesystem = ptr(false) }, "readOnlyRootFilesystem"},
		{"host PID", func(m *manifests) { serve(m).HostPID = true }, "hostPID"},
		{"API token mounted", func(m *manifests) { bench(m).AutomountServiceAccountToken = nil }, "automountServiceAccountToken"},
		{"latest image", func(m *manifests) { serve(m).Containers[0].Image = imageName + ":latest" }, "image"},
		{"other image", func(m *manifests) { bench(m).Containers[0].Image = "docker.io/library/busybox" }, "image"},
		{"image unpinned", func(m *manifests) { m.kust.Images[0].NewTag = "latest" }, "pin a version"},
		{"not Indexed", func(m *manifests) { m.jobs[0].Spec.CompletionMode = ptr(batchv1.NonIndexedCompletion) }, "Indexed"},
		{"parallelism below completions", func(m *manifests) { m.jobs[0].Spec.Parallelism = ptr(int32(1)) }, "same time"},
		{"one output directory", func(m *manifests) { setArg(bench(m), "--out", "--out=/results") }, "one directory"},
		{"output off the shared volume", func(m *manifests) {
			setArg(bench(m), "--out", "--out=/tmp/$(JOB_COMPLETION_INDEX)")
		}, "ReadWriteMany"},
		{"volume not shared", func(m *manifests) {
			m.pvcs[0].Spec.AccessModes = []corev1.PersistentVolumeAccessMode{corev1.ReadWriteOnce}
		}, "ReadWriteMany"},
		{"restarted pods", func(m *manifests) { bench(m).RestartPolicy = corev1.RestartPolicyOnFailure }, "restartPolicy"},
		{"selector misses template", func(m *manifests) { m.daemonSets[0].Spec.Selector.MatchLabels = map[string]string{"app": "x"} }, "selector"},
		{"object in another namespace", func(m *manifests) { m.objects[0].namespace = "default" }, "differs from"},
		{"no liveness probe", func(m *manifests) { serve(m).Containers[0].LivenessProbe = nil }, "livenessProbe"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := mustLoad(t)
			tc.mutate(m)
			errs := checkManifests(m, cli)
			for _, err := range errs {
				if strings.Contains(err.Error(), tc.want) {
					return
				}
			}
			t.Errorf("not caught: want an error containing %q, got %v", tc.want, errs)
		})
	}
}

// TestK8sStrictDecode: a misspelt field (readonly for readOnly) is an error,
// not a mount that is silently writable.
func TestK8sStrictDecode(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(k8sDir, "serve-daemonset.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := bytes.Replace(data, []byte("readOnly: true"), []byte("readonly: true"), 1)
	if bytes.Equal(bad, data) {
		t.Fatal("serve-daemonset.yaml has no readOnly: true to misspell")
	}
	m := &manifests{}
	if err := m.decode("serve-daemonset.yaml", 0, bad); err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Errorf("misspelt readOnly decoded without an error (%v)", err)
	}
}

// TestK8sKustomizationListsEveryFile: a manifest left out of the list, and a
// listed one that is gone, are both caught.
func TestK8sKustomizationListsEveryFile(t *testing.T) {
	dir := t.TempDir()
	entries, err := os.ReadDir(k8sDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(k8sDir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	k := mustLoad(t).kust
	if errs := checkListsEveryFile(dir, k); len(errs) != 0 {
		t.Fatalf("honest copy: %v", errs)
	}
	if err := os.WriteFile(filepath.Join(dir, "service.yaml"), []byte("apiVersion: v1\nkind: Service\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if errs := checkListsEveryFile(dir, k); len(errs) != 1 || !strings.Contains(errs[0].Error(), "service.yaml is not listed") {
		t.Errorf("unlisted file: got %v", errs)
	}
	os.Remove(filepath.Join(dir, "service.yaml"))
	os.Remove(filepath.Join(dir, k.Resources[0]))
	if errs := checkListsEveryFile(dir, k); len(errs) != 1 || !strings.Contains(errs[0].Error(), "not in") {
		t.Errorf("missing listed file: got %v", errs)
	}
}

// TestK8sServeArgsRun starts `joulebench serve` with the DaemonSet's own
// arguments — $(NODE_NAME) filled in as the kubelet would, only the listen
// address moved to a free loopback port and the host's /sys read where it
// is — and scrapes it: the manifest's command line is one serve accepts,
// and the node label is the downward API's value.
func TestK8sServeArgsRun(t *testing.T) {
	m := mustLoad(t)
	c := m.daemonSets[0].Spec.Template.Spec.Containers[0]
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	var args []string
	for _, a := range c.Args {
		switch {
		case strings.HasPrefix(a, "--listen="):
			a = "--listen=" + addr
		case strings.HasPrefix(a, "--sysfs-root="):
			a = "--sysfs-root=/sys"
		case strings.HasPrefix(a, "--meter="):
			// auto would pick RAPL where the test machine has it readable;
			// the fake meter makes the scrape the same everywhere.
			a = "--meter=fake"
		}
		args = append(args, strings.ReplaceAll(a, "$(NODE_NAME)", "node-from-downward-api"))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, joulebenchBinary(t), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	var body string
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				body = string(b)
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("joulebench %s: no /metrics on %s after 15 s (%v); it printed:\n%s", strings.Join(args, " "), addr, err, out.String())
		}
	}
	if !strings.Contains(body, `node="node-from-downward-api"`) {
		t.Errorf("/metrics has no node=\"node-from-downward-api\" label; got:\n%.2000s", body)
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/healthz (the probes' path): status %d", resp.StatusCode)
	}
}
