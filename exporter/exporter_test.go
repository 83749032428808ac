package exporter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/tools/txtar"

	"github.com/joulebench/joulebench/harness/meter"
	"github.com/joulebench/joulebench/metrics"
)

// clock is a settable clock shared by a fake meter and the exporter.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// countingMeter counts its reads and fails them while fail is set.
type countingMeter struct {
	meter.Meter
	reads atomic.Int64
	fail  atomic.Bool
	// busy detects two reads at once: meters are not safe for that.
	busy       atomic.Bool
	concurrent atomic.Bool
	// method, when set, replaces the wrapped meter's.
	method meter.Method
	name   string
}

func (m *countingMeter) Read(ctx context.Context) (meter.Reading, error) {
	if !m.busy.CompareAndSwap(false, true) {
		m.concurrent.Store(true)
	} else {
		defer m.busy.Store(false)
	}
	m.reads.Add(1)
	time.Sleep(time.Millisecond) // give concurrent scrapes a chance to overlap
	if m.fail.Load() {
		return meter.Reading{}, errors.New("injected failure")
	}
	return m.Meter.Read(ctx)
}

func (m *countingMeter) Method() meter.Method {
	if m.method != "" {
		return m.method
	}
	return m.Meter.Method()
}

func (m *countingMeter) Name() string {
	if m.name != "" {
		return m.name
	}
	return m.Meter.Name()
}

// twoDomains is a fake package at 50 W whose counter starts 30 J short of
// its range, and its DRAM at 5 W.
func twoDomains(c *clock) *meter.Fake {
	return meter.NewFake(c.Now,
		meter.FakeDomain{Domain: meter.Domain{Name: "package-0", Kind: meter.KindPackage, Wrap: 262143328850, InTotal: true}, Power: 50 * metrics.Watt, Start: 262143328850 - 30*metrics.Joule},
		meter.FakeDomain{Domain: meter.Domain{Name: "dram-0", Kind: meter.KindDRAM, Wrap: 65712999613, InTotal: true}, Power: 5 * metrics.Watt},
		meter.FakeDomain{Domain: meter.Domain{Name: "core-0", Kind: meter.KindCore, Parent: "package-0"}, Power: 30 * metrics.Watt},
	)
}

func newExporter(t testing.TB, c *clock, ms ...meter.Meter) *Exporter {
	t.Helper()
	e, err := New(ms, Options{Node: "node-a", Interval: time.Second, Version: "v1.2.3", Commit: "abc", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// scrape fetches /metrics and parses it with Prometheus's own text parser.
func scrape(t testing.TB, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	req := httptest.NewRequest("GET", "/metrics", nil)
	req.Header.Set("Accept", "text/plain")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	return parse(t, rec.Body)
}

func parse(t testing.TB, r io.Reader) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("parse the exposition: %v", err)
	}
	return mfs
}

// series returns the value of the series of family name whose labels
// include want, and whether there is exactly one.
func series(mfs map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
	var v float64
	n := 0
next:
	for _, m := range mf.GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		for k, w := range want {
			if got[k] != w {
				continue next
			}
		}
		n++
		switch {
		case m.Counter != nil:
			v = m.GetCounter().GetValue()
		case m.Gauge != nil:
			v = m.GetGauge().GetValue()
		}
	}
	return v, n == 1
}

func mustSeries(t *testing.T, mfs map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	t.Helper()
	v, ok := series(mfs, name, want)
	if !ok {
		t.Fatalf("no single series %s%v", name, want)
	}
	return v
}

func within(got, want, rel float64) bool { return math.Abs(got-want) <= rel*math.Abs(want) }

// Two scrapes 10 s apart: each counter rises by its power × 10 s and the
// power gauge says that power. Catches a counter that exports the raw
// reading (it would start at 262 kJ, not 0, and wrap back), one that
// does not count from the exporter's start, and a power gauge in the
// wrong unit.
func TestCountersRiseByPowerTimesTime(t *testing.T) {
	c := newClock()
	e := newExporter(t, c, twoDomains(c))
	h := e.Handler()
	first := scrape(t, h)
	for _, d := range []string{"package-0", "dram-0", "core-0"} {
		if v := mustSeries(t, first, MetricEnergy, map[string]string{"domain": d}); v != 0 {
			t.Errorf("%s: first scrape %g J, want 0 (counting from the exporter's start)", d, v)
		}
		if _, ok := series(first, MetricPower, map[string]string{"domain": d}); ok {
			t.Errorf("%s: a power gauge from a single reading", d)
		}
	}
	if mf := first[MetricEnergy]; mf.GetType() != dto.MetricType_COUNTER {
		t.Errorf("%s is a %v, want a counter", MetricEnergy, mf.GetType())
	}
	if mf := first[MetricPower]; mf != nil && mf.GetType() != dto.MetricType_GAUGE {
		t.Errorf("%s is a %v, want a gauge", MetricPower, mf.GetType())
	}
	const el = 10 * time.Second
	c.Advance(el)
	second := scrape(t, h)
	c.Advance(el)
	third := scrape(t, h)
	for _, tc := range []struct {
		domain string
		watts  float64
	}{{"package-0", 50}, {"dram-0", 5}, {"core-0", 30}} {
		l := map[string]string{"node": "node-a", "meter": "fake", "domain": tc.domain, "method": "synthetic"}
		e2 := mustSeries(t, second, MetricEnergy, l)
		e3 := mustSeries(t, third, MetricEnergy, l)
		if want := tc.watts * el.Seconds(); !within(e2, want, 0.01) || !within(e3-e2, want, 0.01) {
			t.Errorf("%s: counters %g then %g J, want each to rise by %g J (%g W × %v)", tc.domain, e2, e3, want, tc.watts, el)
		}
		if p := mustSeries(t, third, MetricPower, l); !within(p, tc.watts, 0.01) {
			t.Errorf("%s: power %g W, want %g W", tc.domain, p, tc.watts)
		}
	}
	if v := mustSeries(t, third, MetricUp, map[string]string{"node": "node-a", "meter": "fake"}); v != 1 {
		t.Errorf("meter_up %g, want 1", v)
	}
	if _, ok := series(third, MetricBuildInfo, map[string]string{"version": "v1.2.3", "commit": "abc"}); !ok {
		t.Errorf("no build info with the version and commit given")
	}
	if _, ok := series(third, MetricDomainInfo, map[string]string{"domain": "core-0", "kind": "core", "in_total": "false"}); !ok {
		t.Errorf("core-0 is not marked in_total=false")
	}
	if _, ok := series(third, MetricDomainInfo, map[string]string{"domain": "package-0", "kind": "package", "in_total": "true"}); !ok {
		t.Errorf("package-0 is not marked in_total=true")
	}
}

// A 10 J counter at 50 W wraps every 0.2 s; read every 0.1 s, the exported
// counter never falls and adds up to 50 W × the time. Catches exporting
// the raw value (it falls at each wrap) and dropping the delta across a
// wrap instead of correcting it (the total falls short).
func TestCounterNeverFallsAcrossWrap(t *testing.T) {
	c := newClock()
	f := meter.NewFake(c.Now, meter.FakeDomain{Domain: meter.Domain{Name: "package-0", Kind: meter.KindPackage, Wrap: 10 * metrics.Joule, InTotal: true}, Power: 50 * metrics.Watt, Start: 8 * metrics.Joule})
	e, err := New([]meter.Meter{f}, Options{Node: "n", Interval: 100 * time.Millisecond, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	h := e.Handler()
	l := map[string]string{"domain": "package-0"}
	prev := mustSeries(t, scrape(t, h), MetricEnergy, l)
	const steps = 50
	for i := range steps {
		c.Advance(100 * time.Millisecond)
		v := mustSeries(t, scrape(t, h), MetricEnergy, l)
		if v < prev {
			t.Fatalf("step %d: the counter fell from %g to %g J across a wrap", i, prev, v)
		}
		prev = v
	}
	if want := 50 * 0.1 * steps; !within(prev, want, 0.01) {
		t.Errorf("after %d wraps the counter is %g J, want %g J", steps/2, prev, want)
	}
}

// estimateMeter opens the real estimate meter on a recorded /proc.
func estimateMeter(t *testing.T, c *clock) meter.Meter {
	t.Helper()
	a, err := txtar.ParseFile(filepath.Join("..", "harness", "meter", "testdata", "estimate", "vm-xeon-8380.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, f := range a.Files {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	m, err := meter.OpenEstimate(meter.EstimateOptions{ProcRoot: dir, Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// The fake meter's series say method="synthetic", the estimate's
// method="model", a counter's method="counter", and no energy or power
// series lacks a method. Catches an estimate exported as if measured.
func TestMethodLabels(t *testing.T) {
	c := newClock()
	counter := &countingMeter{Meter: meter.NewFake(c.Now, meter.FakeDomain{Domain: meter.Domain{Name: "package-0", Kind: meter.KindPackage, InTotal: true}, Power: metrics.Watt}), method: meter.Counter, name: "rapl"}
	e := newExporter(t, c, twoDomains(c), estimateMeter(t, c), counter)
	h := e.Handler()
	scrape(t, h)
	c.Advance(2 * time.Second)
	mfs := scrape(t, h)
	for meterName, want := range map[string]string{"fake": "synthetic", "estimate": "model", "rapl": "counter"} {
		for _, name := range []string{MetricEnergy, MetricPower} {
			mf := mfs[name]
			n := 0
			for _, m := range mf.GetMetric() {
				labels := map[string]string{}
				for _, l := range m.GetLabel() {
					labels[l.GetName()] = l.GetValue()
				}
				if labels["method"] == "" {
					t.Errorf("%s%v has no method", name, labels)
				}
				if labels["meter"] == meterName {
					n++
					if labels["method"] != want {
						t.Errorf("%s%v: method %q, want %q", name, labels, labels["method"], want)
					}
				}
			}
			if n == 0 {
				t.Errorf("no %s series for meter %s", name, meterName)
			}
		}
	}
}

// 50 scrapes at once cost one meter read; 50 more an interval later one
// more; 50 more within that interval none. Catches an exporter that reads
// on every scrape (50 reads, and concurrent reads of a meter that is not
// safe for them).
func TestConcurrentScrapesShareOneRead(t *testing.T) {
	c := newClock()
	m := &countingMeter{Meter: twoDomains(c)}
	e := newExporter(t, c, m)
	srv := httptest.NewServer(e.Handler())
	defer srv.Close()
	burst := func() {
		var wg sync.WaitGroup
		errs := make(chan error, 50)
		for range 50 {
			wg.Go(func() {
				resp, err := http.Get(srv.URL + "/metrics")
				if err != nil {
					errs <- err
					return
				}
				defer resp.Body.Close()
				if _, err := io.Copy(io.Discard, resp.Body); err != nil {
					errs <- err
				}
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("status %d", resp.StatusCode)
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
	}
	for _, step := range []struct {
		advance time.Duration
		reads   int64
	}{{0, 1}, {time.Second, 2}, {500 * time.Millisecond, 2}, {500 * time.Millisecond, 3}} {
		c.Advance(step.advance)
		burst()
		if got := m.reads.Load(); got != step.reads {
			t.Fatalf("after 50 concurrent scrapes (clock +%v): %d meter reads, want %d", step.advance, got, step.reads)
		}
	}
	if m.concurrent.Load() {
		t.Errorf("the meter was read by two goroutines at once")
	}
	if e.Reads() != 3 {
		t.Errorf("Reads() = %d, want 3", e.Reads())
	}
}

// A meter whose read fails: meter_up 0, its counters where they were and
// no power gauge; when it answers again the counters take up the energy
// of the outage. Catches a counter reset or dropped on failure (Prometheus
// would see a reset) and a stale power figure shown as current.
func TestFailedReadKeepsCounters(t *testing.T) {
	c := newClock()
	m := &countingMeter{Meter: twoDomains(c)}
	var log bytes.Buffer
	e, err := New([]meter.Meter{m}, Options{Node: "n", Interval: time.Second, Now: c.Now, Log: &log})
	if err != nil {
		t.Fatal(err)
	}
	h := e.Handler()
	scrape(t, h)
	c.Advance(4 * time.Second)
	before := scrape(t, h)
	pkg := map[string]string{"domain": "package-0"}
	e0 := mustSeries(t, before, MetricEnergy, pkg)
	m.fail.Store(true)
	for range 3 {
		c.Advance(2 * time.Second)
		during := scrape(t, h)
		if up := mustSeries(t, during, MetricUp, map[string]string{"meter": "fake"}); up != 0 {
			t.Errorf("meter_up %g after a failed read, want 0", up)
		}
		if v := mustSeries(t, during, MetricEnergy, pkg); v != e0 {
			t.Errorf("counter %g J after a failed read, want it kept at %g J", v, e0)
		}
		if _, ok := series(during, MetricPower, pkg); ok {
			t.Errorf("a power gauge while the meter is down")
		}
	}
	if !strings.Contains(log.String(), "meter fake: read failed: injected failure") || strings.Count(log.String(), "read failed") != 1 {
		t.Errorf("log %q: want one line saying the meter failed", log.String())
	}
	m.fail.Store(false)
	c.Advance(2 * time.Second)
	after := scrape(t, h)
	if up := mustSeries(t, after, MetricUp, map[string]string{"meter": "fake"}); up != 1 {
		t.Errorf("meter_up %g after a good read, want 1", up)
	}
	if v, want := mustSeries(t, after, MetricEnergy, pkg), e0+50*8; !within(v, want, 0.01) {
		t.Errorf("counter %g J once the meter answers again, want %g J (the outage's energy too)", v, want)
	}
	if !strings.Contains(log.String(), "answers again") {
		t.Errorf("log %q does not say the meter answers again", log.String())
	}
}

// A meter that fails from the start has meter_up 0 and no energy series
// until it answers: no made-up 0 J.
func TestMeterDownFromStart(t *testing.T) {
	c := newClock()
	m := &countingMeter{Meter: twoDomains(c)}
	m.fail.Store(true)
	e := newExporter(t, c, m)
	mfs := scrape(t, e.Handler())
	if up := mustSeries(t, mfs, MetricUp, map[string]string{"meter": "fake"}); up != 0 {
		t.Errorf("meter_up %g, want 0", up)
	}
	if mf := mfs[MetricEnergy]; mf != nil {
		t.Errorf("energy series before any reading: %v", mf)
	}
}

func TestNewRejects(t *testing.T) {
	c := newClock()
	wrapFast := meter.NewFake(c.Now, meter.FakeDomain{Domain: meter.Domain{Name: "package-0", Wrap: metrics.Joule}, Power: 10 * metrics.Watt}) // wraps every 100 ms
	for _, tc := range []struct {
		name   string
		meters []meter.Meter
		opts   Options
		want   string
	}{
		{"no meter", nil, Options{Node: "n", Interval: time.Second}, "no meter"},
		{"twice", []meter.Meter{twoDomains(c), twoDomains(c)}, Options{Node: "n", Interval: time.Second}, "given twice"},
		{"no node", []meter.Meter{twoDomains(c)}, Options{Interval: time.Second}, "--node"},
		{"bad node", []meter.Meter{twoDomains(c)}, Options{Node: "a\nb", Interval: time.Second}, "unprintable"},
		{"long node", []meter.Meter{twoDomains(c)}, Options{Node: strings.Repeat("a", 254), Interval: time.Second}, "at most 253"},
		{"zero interval", []meter.Meter{twoDomains(c)}, Options{Node: "n"}, "positive"},
		{"interval past the wrap", []meter.Meter{wrapFast}, Options{Node: "n", Interval: time.Second}, "wrap unseen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.meters, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("New: %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

func TestCheckListen(t *testing.T) {
	for _, addr := range []string{"127.0.0.1:9478", ":9478", "[::1]:0", "localhost:80", "0.0.0.0:65535"} {
		if err := CheckListen(addr); err != nil {
			t.Errorf("CheckListen(%q): %v", addr, err)
		}
	}
	for _, addr := range []string{"", "nope", "127.0.0.1", "127.0.0.1:99999", "127.0.0.1:-1", "127.0.0.1:http", "a b:80", "::1:80"} {
		if err := CheckListen(addr); err == nil || !strings.Contains(err.Error(), "--listen") {
			t.Errorf("CheckListen(%q): %v, want an error naming --listen", addr, err)
		}
	}
}

func FuzzCheckListen(f *testing.F) {
	for _, s := range []string{"127.0.0.1:9478", ":0", "[::1]:80", "x", "a:b:c", "[::1", "h:65536"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		if CheckListen(addr) != nil {
			return
		}
		if _, _, err := net.SplitHostPort(addr); err != nil {
			t.Errorf("accepted %q, which is no HOST:PORT: %v", addr, err)
		}
	})
}

func FuzzCheckNode(f *testing.F) {
	for _, s := range []string{"node-a", "", "a\x00b", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, node string) {
		if CheckNode(node) != nil {
			return
		}
		// An accepted node must make valid series.
		c := newClock()
		e, err := New([]meter.Meter{twoDomains(c)}, Options{Node: node, Interval: time.Second, Now: c.Now})
		if err != nil {
			t.Fatal(err)
		}
		mfs := scrape(t, e.Handler())
		if _, ok := series(mfs, MetricUp, map[string]string{"node": node}); !ok {
			t.Errorf("node %q: no meter_up series with that node label", node)
		}
	})
}

// Serve answers /healthz and /metrics on a real socket, reads the meters
// in the background, and returns nil once ctx is cancelled, with no read
// after it returns (the caller closes the meters then).
func TestServeShutsDownGracefully(t *testing.T) {
	m := &countingMeter{Meter: meter.DefaultFake()}
	e, err := New([]meter.Meter{m}, Options{Node: "n", Interval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !IsLoopback(ln.Addr()) {
		t.Errorf("%v is not loopback", ln.Addr())
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, e) }()
	base := "http://" + ln.Addr().String()
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Errorf("/healthz: %d %q", resp.StatusCode, body)
	}
	// The background reads run without any scrape.
	deadline := time.Now().Add(5 * time.Second)
	for m.reads.Load() < 3 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if m.reads.Load() < 3 {
		t.Errorf("%d reads in 5 s at a 10 ms interval with no scrape", m.reads.Load())
	}
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	mfs := parse(t, resp.Body)
	resp.Body.Close()
	if v := mustSeries(t, mfs, MetricEnergy, map[string]string{"domain": "package-0", "method": "synthetic"}); v <= 0 {
		t.Errorf("package-0 %g J after several reads, want more than 0", v)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve after cancel: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return within 10 s of cancel")
	}
	n := m.reads.Load()
	time.Sleep(50 * time.Millisecond)
	if m.reads.Load() != n {
		t.Errorf("the meter was read after Serve returned")
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Errorf("still answering after shutdown")
	}
}

func TestIndexAndUnknownPaths(t *testing.T) {
	c := newClock()
	h := newExporter(t, c, twoDomains(c)).Handler()
	for path, code := range map[string]int{"/": 200, "/healthz": 200, "/nope": 404} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != code {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, code)
		}
	}
}
