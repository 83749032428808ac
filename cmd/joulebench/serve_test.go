package main

import (
	"context"
	"io"
	"net"
	"net/http"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/joulebench/joulebench/exporter"
)

// Bad input to serve is exit status 2, with a message naming the flag.
func TestServeBadInput(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--listen", "nope"}, "--listen"},
		{[]string{"--listen", "127.0.0.1"}, "--listen"},
		{[]string{"--listen", "127.0.0.1:99999"}, "--listen"},
		{[]string{"--listen", busy.Addr().String()}, "--listen"}, // in use
		{[]string{"--listen", "192.0.2.1:0"}, "--listen"},        // not this machine's (TEST-NET-1)
		{[]string{"--interval", "0s"}, "--interval"},
		{[]string{"--interval", "2m"}, "--interval"},
		{[]string{"--node", "a\tb"}, "--node"},
		{[]string{"--meter", "nosuch"}, "unknown meter"},
		{[]string{"--sysfs-root", "/no/such/dir"}, "--sysfs-root"},
		{[]string{"extra"}, "no arguments"},
	} {
		args := append([]string{"serve", "--meter", "fake", "--listen", "127.0.0.1:0"}, tc.args...)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, stderr, err := runCLIContext(t, ctx, args...)
		cancel()
		if code := exitCode(err); code != 2 || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("serve %q: exit %d, %v (stderr %q); want exit 2 naming %s", tc.args, code, err, stderr, tc.want)
		}
	}
}

func runCLIContext(t *testing.T, ctx context.Context, args ...string) (string, string, error) {
	t.Helper()
	var out, errb lockedBuffer
	err := run(ctx, args, &out, &errb)
	return out.String(), errb.String(), err
}

var metricsURL = regexp.MustCompile(`metrics at (http://\S+/metrics)`)

// startServe runs serve in this process until the returned cancel, and
// returns the /metrics URL it printed.
func startServe(t *testing.T, args ...string) (url string, stderr *lockedBuffer, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr = &lockedBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, append([]string{"serve"}, args...), io.Discard, stderr) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := metricsURL.FindStringSubmatch(stderr.String()); m != nil {
			url = m[1]
			break
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve ended before serving: %v\n%s", err, stderr)
		case <-time.After(10 * time.Millisecond):
		}
	}
	if url == "" {
		cancel()
		t.Fatalf("serve printed no metrics URL in 10 s:\n%s", stderr)
	}
	return url, stderr, func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("serve did not stop within 10 s of cancel")
			return nil
		}
	}
}

// serve on loopback answers with the fake meter's synthetic series under
// the node given, and stops cleanly (nil, exit 0) when its context ends.
func TestServeEndToEnd(t *testing.T) {
	url, stderr, stop := startServe(t, "--listen", "127.0.0.1:0", "--meter", "fake", "--node", "n1", "--interval", "20ms")
	if strings.Contains(stderr.String(), "WARNING") {
		t.Errorf("a warning on loopback: %s", stderr)
	}
	time.Sleep(100 * time.Millisecond)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range mfs[exporter.MetricEnergy].GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["node"] != "n1" || labels["meter"] != "fake" || labels["method"] != "synthetic" {
			t.Errorf("series %v: want node n1, meter fake, method synthetic", labels)
		}
		if m.GetCounter().GetValue() <= 0 {
			t.Errorf("series %v: %g J after 100 ms at 50 W and 5 W", labels, m.GetCounter().GetValue())
		}
		n++
	}
	if n != 2 {
		t.Errorf("%d energy series, want 2 (package-0, dram-0)", n)
	}
	if _, ok := mfs[exporter.MetricBuildInfo]; !ok {
		t.Errorf("no %s", exporter.MetricBuildInfo)
	}
	if err := stop(); err != nil {
		t.Errorf("serve after cancel: %v", err)
	}
	if !strings.Contains(stderr.String(), "stopped") {
		t.Errorf("stderr %q does not say it stopped", stderr)
	}
}

// Listening on every interface is allowed when asked for, with a warning.
func TestServeWarnsOffLoopback(t *testing.T) {
	_, stderr, stop := startServe(t, "--listen", "0.0.0.0:0", "--meter", "fake", "--node", "n1")
	if err := stop(); err != nil {
		t.Errorf("serve after cancel: %v", err)
	}
	if !strings.Contains(stderr.String(), "WARNING: --listen 0.0.0.0:0") {
		t.Errorf("no warning for a non-loopback address: %s", stderr)
	}
}

// Ctrl-C stops a real serve process gracefully: exit status 0.
func TestServeInterrupt(t *testing.T) {
	cmd, out := startJoulebench(t, "serve", "--listen", "127.0.0.1:0", "--meter", "fake", "--node", "n1")
	deadline := time.Now().Add(20 * time.Second)
	for metricsURL.FindStringSubmatch(out.String()) == nil {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("serve printed no metrics URL in 20 s:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	url := metricsURL.FindStringSubmatch(out.String())[1]
	resp, err := http.Get(strings.TrimSuffix(url, "/metrics") + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve after Ctrl-C: %v\n%s", err, out)
		}
	case <-time.After(15 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("serve still running 15 s after Ctrl-C:\n%s", out)
	}
}
