package exporter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/joulebench/joulebench/harness/meter"
	"github.com/joulebench/joulebench/metrics"
)

// The metrics the exporter serves. The names follow Prometheus's
// conventions (base units, _total for counters) as node_exporter's
// node_rapl_*_joules_total and Kepler's kepler_node_*_joules_total do.
const (
	// MetricEnergy is a counter: joules each domain used since the
	// exporter started, wrap-corrected. Labels node, meter, domain, method.
	MetricEnergy = "joulebench_energy_joules_total"
	// MetricPower is a gauge: each domain's mean power, in watts, between
	// the last two readings of its meter. Labels as MetricEnergy.
	MetricPower = "joulebench_power_watts"
	// MetricUp is a gauge: 1 when the meter's last read succeeded, 0 when
	// it failed. Labels node, meter.
	MetricUp = "joulebench_meter_up"
	// MetricDomainInfo is a gauge, always 1, that says what each domain
	// covers (kind) and whether it is added to the node total (in_total):
	// a core domain lies inside its package and psys overlaps everything,
	// so summing every domain would count energy twice. Labels node,
	// meter, domain, kind, in_total.
	MetricDomainInfo = "joulebench_domain_info"
	// MetricBuildInfo is a gauge, always 1. Labels version, commit,
	// goversion.
	MetricBuildInfo = "joulebench_build_info"
)

// Defaults for joulebench serve.
const (
	// DefaultListen is loopback only: an exporter is reachable from other
	// machines only when the operator says so.
	DefaultListen = "127.0.0.1:9478"
	// DefaultInterval is the shortest time between two reads of the
	// meters, and so the span the power gauge averages over.
	DefaultInterval = time.Second
	// DefaultReadTimeout bounds one read of all the meters.
	DefaultReadTimeout = 5 * time.Second
	// MaxNodeLen bounds the node label (a DNS name is at most 253 bytes).
	MaxNodeLen = 253
)

// Options configure an Exporter.
type Options struct {
	// Node is the node label: this machine's name in the fleet.
	Node string
	// Interval is the shortest time between two reads of the meters: a
	// scrape within Interval of the last read is answered from it.
	Interval time.Duration
	// Version and Commit are joulebench's, for joulebench_build_info.
	Version, Commit string
	// Now is the clock that decides when the cached reading is stale;
	// nil means time.Now.
	Now func() time.Time
	// ReadTimeout bounds one read of all the meters; 0 means
	// DefaultReadTimeout.
	ReadTimeout time.Duration
	// Log, when set, is told when a meter stops or starts answering.
	Log io.Writer
}

// Exporter is a prometheus.Collector over a set of meters. It reads them
// at most once per Options.Interval, from one goroutine at a time, and
// answers every scrape from the last reading.
type Exporter struct {
	opts   Options
	reg    *prometheus.Registry
	energy *prometheus.Desc
	power  *prometheus.Desc
	up     *prometheus.Desc
	info   *prometheus.Desc
	build  *prometheus.Desc

	mu     sync.Mutex // guards everything below, and serialises reads
	meters []*meterState
	last   time.Time // when the meters were last read, by opts.Now
	read   bool      // whether they have been read at all
	reads  int       // rounds of reads so far
}

var _ prometheus.Collector = (*Exporter)(nil)

// meterState is what the exporter knows of one meter: its counters since
// the exporter started and its last raw reading.
type meterState struct {
	m       meter.Meter
	name    string
	method  string
	domains []meter.Domain
	up      bool
	err     error // the last read's error, nil when up
	started bool  // a first reading has been taken: the counters count
	prev    []metrics.Energy
	prevT   time.Time
	total   []metrics.Energy
	power   []float64 // watts over the last interval; NaN when unknown
}

// New returns an exporter over meters, which it reads but does not close.
// The meters must not be read by anyone else while the exporter is in use.
// The first read happens at the first Refresh or scrape: the counters
// count from then.
func New(meters []meter.Meter, opts Options) (*Exporter, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ReadTimeout <= 0 {
		opts.ReadTimeout = DefaultReadTimeout
	}
	if err := CheckNode(opts.Node); err != nil {
		return nil, err
	}
	if opts.Interval <= 0 {
		return nil, fmt.Errorf("interval %v: must be positive", opts.Interval)
	}
	if len(meters) == 0 {
		return nil, errors.New("no meter to export")
	}
	e := &Exporter{opts: opts}
	seen := map[string]bool{}
	for _, m := range meters {
		name := m.Name()
		if seen[name] {
			return nil, fmt.Errorf("meter %s is given twice: each meter's series must be told apart by its name; name it once", name)
		}
		seen[name] = true
		if g := meter.MaxGapOf(m); g > 0 && opts.Interval >= g {
			return nil, fmt.Errorf("interval %v: meter %s's counters can wrap unseen between readings %v apart; choose an interval under %v", opts.Interval, name, g, g)
		}
		ds := m.Domains()
		dseen := map[string]bool{}
		for _, d := range ds {
			if d.Name == "" || dseen[d.Name] {
				return nil, fmt.Errorf("meter %s: domain name %q is empty or repeated", name, d.Name)
			}
			dseen[d.Name] = true
		}
		s := &meterState{m: m, name: name, method: string(m.Method()), domains: ds,
			prev: make([]metrics.Energy, len(ds)), total: make([]metrics.Energy, len(ds)), power: make([]float64, len(ds))}
		for i := range s.power {
			s.power[i] = math.NaN()
		}
		e.meters = append(e.meters, s)
	}
	constLabels := prometheus.Labels{"node": opts.Node}
	dl := []string{"meter", "domain", "method"}
	e.energy = prometheus.NewDesc(MetricEnergy, "Energy each domain used since the exporter started, in joules, corrected for counter wrap-around (never decreases). method=\"model\" is an estimate, not a measurement; method=\"synthetic\" is the fake meter's made-up figure.", dl, constLabels)
	e.power = prometheus.NewDesc(MetricPower, "Mean power of each domain between its meter's last two readings, in watts. method=\"model\" is an estimate, not a measurement.", dl, constLabels)
	e.up = prometheus.NewDesc(MetricUp, "1 if the meter's last read succeeded, 0 if it failed (its counters then hold their last values).", []string{"meter"}, constLabels)
	e.info = prometheus.NewDesc(MetricDomainInfo, "What each domain covers; in_total=\"false\" marks a domain inside or overlapping another (core, psys), left out of a node's total.", []string{"meter", "domain", "kind", "in_total"}, constLabels)
	e.build = prometheus.NewDesc(MetricBuildInfo, "The joulebench build serving these metrics; always 1.", []string{"version", "commit", "goversion"}, nil)
	e.reg = prometheus.NewRegistry()
	if err := e.reg.Register(e); err != nil {
		return nil, fmt.Errorf("register the collector: %w", err)
	}
	return e, nil
}

// CheckNode reports whether node can be the node label: non-empty, valid
// UTF-8, printable, at most MaxNodeLen bytes.
func CheckNode(node string) error {
	switch {
	case node == "":
		return errors.New("node name is empty: give --node NAME")
	case len(node) > MaxNodeLen:
		return fmt.Errorf("node name is %d bytes long: give a --node of at most %d", len(node), MaxNodeLen)
	case !utf8.ValidString(node):
		return fmt.Errorf("node name %q is not valid UTF-8: give --node NAME", node)
	}
	for _, r := range node {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("node name %q has an unprintable character: give --node NAME", node)
		}
	}
	return nil
}

// Describe implements prometheus.Collector.
func (e *Exporter) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{e.energy, e.power, e.up, e.info, e.build} {
		ch <- d
	}
}

// Collect implements prometheus.Collector: it reads the meters if the
// last reading is at least an interval old, then sends the cached figures.
func (e *Exporter) Collect(ch chan<- prometheus.Metric) {
	// Not the scrape's context: one scraper giving up must not fail the
	// read that every other scraper shares.
	ctx, cancel := context.WithTimeout(context.Background(), e.opts.ReadTimeout)
	defer cancel()
	for _, m := range e.snapshot(ctx) {
		ch <- m
	}
}

// Refresh reads the meters unless they were read less than an interval
// ago. Scrapes call it; Run calls it every interval.
func (e *Exporter) Refresh(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.refreshLocked(ctx)
}

// Reads returns how many times the meters have been read.
func (e *Exporter) Reads() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.reads
}

func (e *Exporter) refreshLocked(ctx context.Context) {
	now := e.opts.Now()
	if e.read && now.Sub(e.last) < e.opts.Interval {
		return
	}
	e.read, e.last = true, now
	e.reads++
	for _, s := range e.meters {
		wasUp := s.up || !s.started && s.err == nil
		s.update(ctx)
		if e.opts.Log == nil {
			continue
		}
		switch {
		case wasUp && !s.up:
			fmt.Fprintf(e.opts.Log, "joulebench serve: meter %s: %v; %s=0 and its counters hold until it answers again\n", s.name, s.err, MetricUp)
		case !wasUp && s.up:
			fmt.Fprintf(e.opts.Log, "joulebench serve: meter %s answers again\n", s.name)
		}
	}
}

// update reads the meter once and adds what each domain used since the
// last good reading.
func (s *meterState) update(ctx context.Context) {
	r, err := s.m.Read(ctx)
	if err == nil && len(r.Energy) != len(s.domains) {
		err = fmt.Errorf("read %d values for %d domains", len(r.Energy), len(s.domains))
	}
	if err != nil {
		s.up, s.err = false, fmt.Errorf("read failed: %w", err)
		return
	}
	s.up, s.err = true, nil
	if !s.started {
		s.started = true
		copy(s.prev, r.Energy)
		s.prevT = r.Time
		return
	}
	dt := r.Time.Sub(s.prevT).Seconds()
	for i, d := range s.domains {
		// A raw value above the range, or a negative one, would make the
		// delta negative: a counter must never go down.
		de := max(metrics.CounterDelta(s.prev[i], r.Energy[i], d.Wrap), 0)
		s.total[i] += de
		s.power[i] = math.NaN()
		if dt > 0 {
			s.power[i] = de.Joules() / dt
		}
	}
	copy(s.prev, r.Energy)
	s.prevT = r.Time
}

// snapshot refreshes if need be and returns the metrics to send, built
// under the lock so that a scrape sees one consistent reading.
func (e *Exporter) snapshot(ctx context.Context) []prometheus.Metric {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.refreshLocked(ctx)
	out := make([]prometheus.Metric, 0, 1+len(e.meters)*(1+3*8))
	ver, commit := e.opts.Version, e.opts.Commit
	if ver == "" {
		ver = "dev"
	}
	out = append(out, constMetric(e.build, prometheus.GaugeValue, 1, ver, commit, runtime.Version()))
	for _, s := range e.meters {
		up := 0.0
		if s.up {
			up = 1
		}
		out = append(out, constMetric(e.up, prometheus.GaugeValue, up, s.name))
		for i, d := range s.domains {
			out = append(out, constMetric(e.info, prometheus.GaugeValue, 1, s.name, d.Name, string(d.Kind), strconv.FormatBool(d.InTotal)))
			if !s.started {
				continue // nothing counted yet: no series rather than a made-up 0
			}
			out = append(out, constMetric(e.energy, prometheus.CounterValue, s.total[i].Joules(), s.name, d.Name, s.method))
			if s.up && !math.IsNaN(s.power[i]) {
				out = append(out, constMetric(e.power, prometheus.GaugeValue, s.power[i], s.name, d.Name, s.method))
			}
		}
	}
	return out
}

// constMetric is prometheus.NewConstMetric, with an invalid label value
// (not UTF-8) reported in the scrape instead of a panic.
func constMetric(d *prometheus.Desc, t prometheus.ValueType, v float64, labels ...string) prometheus.Metric {
	m, err := prometheus.NewConstMetric(d, t, v, labels...)
	if err != nil {
		return prometheus.NewInvalidMetric(d, err)
	}
	return m
}

// Handler serves /metrics (Prometheus's text and OpenMetrics formats),
// /healthz and a short index at /.
func (e *Exporter) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(e.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: 64,
		Timeout:             e.opts.ReadTimeout + 5*time.Second,
	}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<html><head><title>joulebench</title></head><body><h1>joulebench serve</h1><p><a href="/metrics">metrics</a> · <a href="/healthz">healthz</a></p></body></html>`+"\n")
	})
	return mux
}

// Run reads the meters every interval until ctx is done, so that the
// counters follow every wrap and the power gauge stays current between
// scrapes. Scrapes share these reads; a scrape that finds the reading an
// interval old reads itself, and Run's next tick then finds it fresh.
func (e *Exporter) Run(ctx context.Context) {
	t := time.NewTicker(e.opts.Interval)
	defer t.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, e.opts.ReadTimeout)
		e.Refresh(rctx)
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ShutdownTimeout is how long Serve waits for scrapes in flight to finish
// once ctx is done.
const ShutdownTimeout = 5 * time.Second

// Serve serves e.Handler on ln and reads the meters every interval until
// ctx is done, then shuts down gracefully: scrapes in flight finish (for
// up to ShutdownTimeout) and no read is in progress when it returns, so
// the caller may close the meters. It returns nil after a shutdown asked
// for by ctx.
func Serve(ctx context.Context, ln net.Listener, e *Exporter) error {
	srv := &http.Server{
		Handler:           e.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      e.opts.ReadTimeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
	runCtx, stopRun := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { e.Run(runCtx) })
	defer func() {
		stopRun()
		wg.Wait()
	}()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve on %s: %w", ln.Addr(), err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	return nil
}

// CheckListen reports whether addr is a host:port to listen on: the port
// a number from 0 to 65535, the host empty (every interface), an IP
// address or a name.
func CheckListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--listen %q: %v: give HOST:PORT, e.g. %s", addr, err, DefaultListen)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("--listen %q: port %q is not a number from 0 to 65535: give HOST:PORT, e.g. %s", addr, port, DefaultListen)
	}
	if len(host) > 253 || !utf8.ValidString(host) || containsSpace(host) {
		return fmt.Errorf("--listen %q: host %q is no address or name: give HOST:PORT, e.g. %s", addr, host, DefaultListen)
	}
	return nil
}

func containsSpace(s string) bool {
	for _, r := range s {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
	}
	return false
}

// IsLoopback reports whether a listener's address can be reached only
// from this machine.
func IsLoopback(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}
