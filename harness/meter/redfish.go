package meter

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/stmcginnis/gofish"
	"github.com/stmcginnis/gofish/schemas"

	"github.com/joulebench/joulebench/internal/infile"
	"github.com/joulebench/joulebench/metrics"
)

// The environment variables the Redfish meter takes its credentials from.
// Never a flag: a command line is visible to every user of the machine
// (ps, /proc/PID/cmdline) and lands in the record's config.args.
const (
	RedfishUserEnv        = "JOULEBENCH_REDFISH_USER"
	RedfishPasswordEnv    = "JOULEBENCH_REDFISH_PASSWORD"
	RedfishCredentialsEnv = "JOULEBENCH_REDFISH_CREDENTIALS" // a file: one line USER:PASSWORD, mode 0600
)

// ErrRedfishConfig is wrapped by every Redfish error the user can fix by
// giving something else: a malformed URL, credentials the BMC refuses or a
// file that leaks them, a certificate that is not trusted. It is bad input
// (exit status 2), not a broken meter.
var ErrRedfishConfig = errors.New("redfish: bad BMC address, credentials or certificate")

// Defaults of RedfishOptions.
const (
	// DefaultRedfishPoll is how often the background poller asks the BMC.
	// BMCs refresh their readings every few seconds to a minute, so a
	// faster poll only finds the same reading again.
	DefaultRedfishPoll = time.Second
	// DefaultRedfishTimeout bounds each request to the BMC.
	DefaultRedfishTimeout = 5 * time.Second
	// redfishAssumedInterval is the update interval assumed when the BMC
	// does not state its sensor's SensingInterval: the low end of the
	// 30–60 s that BMCs are reported to use (docs/redfish.md).
	redfishAssumedInterval = 30 * time.Second
	// redfishMinRepIntervals is how many update intervals a repetition
	// must last: the reading lags the load by up to one interval at each
	// end of a repetition.
	redfishMinRepIntervals = 3
	// redfishMaxBody bounds one answer of the BMC: a Sensor or
	// EnvironmentMetrics resource is a few kilobytes.
	redfishMaxBody = 1 << 20
	// redfishMaxWatts and redfishMaxJoules bound what a reading may say:
	// a megawatt is no one node, and 1e15 J is 280 GWh.
	redfishMaxWatts  = 1e6
	redfishMaxJoules = 1e15
)

// RedfishOptions say which BMC to read and how.
type RedfishOptions struct {
	// URL is https://BMC[:PORT][/CHASSIS-ID], or the chassis's full path
	// /redfish/v1/Chassis/ID. Without a chassis the BMC must have exactly one.
	URL string
	// Insecure skips verifying the BMC's TLS certificate (and allows
	// http://). It is recorded in the meter's notes.
	Insecure bool
	// User and Password authenticate with HTTP basic auth; see
	// RedfishCredentials. Empty: no authentication.
	User, Password string
	// RootCAs are the certificate authorities trusted for the BMC; nil
	// means the system's.
	RootCAs *x509.CertPool
	// Poll is how often the BMC is read in the background; Timeout bounds
	// each request. Zero means the default.
	Poll, Timeout time.Duration
	// Now is the clock; nil means time.Now. Tests replace it.
	Now func() time.Time
}

// redfishSource is what the BMC offers, strongest first.
type redfishSource int

const (
	redfishEnergyJoules redfishSource = iota // EnvironmentMetrics.EnergyJoules: a counter
	redfishEnergyKWh                         // EnvironmentMetrics.EnergykWh: a counter
	redfishPowerWatts                        // EnvironmentMetrics.PowerWatts: integrated
	redfishLegacyPower                       // Chassis/Power PowerControl[0].PowerConsumedWatts: integrated
)

func (s redfishSource) String() string {
	return [...]string{"EnvironmentMetrics EnergyJoules", "EnvironmentMetrics EnergykWh", "EnvironmentMetrics PowerWatts", "Power PowerControl[0].PowerConsumedWatts"}[s]
}

func (s redfishSource) counter() bool { return s == redfishEnergyJoules || s == redfishEnergyKWh }

// redfishSample is one value read from the BMC: joules for a counter,
// watts otherwise, with the sensor's ReadingTime when it gives one.
type redfishSample struct {
	value   float64
	at      time.Time
	hasTime bool
}

// Redfish reads a whole node's energy from its BMC over Redfish: an
// energy sensor where the BMC has one, else its power reading integrated
// over the sensor's ReadingTime. A poller goroutine reads the BMC at its
// own pace, each request under a deadline; Read serves the latest sample
// at once, so a slow or hung BMC never holds up the run.
type Redfish struct {
	opts      RedfishOptions
	endpoint  string // scheme://host[:port]
	chassis   string // the chassis's path
	client    *gofish.APIClient
	source    redfishSource
	resource  string // EnvironmentMetrics or Power path
	sensor    string // the Sensor behind the reading, "" if none
	interval  time.Duration
	stated    bool // the interval is the sensor's own SensingInterval
	accuracy  *float64
	staleLim  time.Duration // no answer for this long: Read fails
	stuckLim  time.Duration // no new ReadingTime for this long: Read fails
	notes     []string
	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once

	mu        sync.Mutex
	started   bool
	energy    metrics.Energy // µJ since Open
	lastJ     float64        // counter: the last value, J
	lastAt    time.Time      // ReadingTime (or local time) of the last sample counted
	lastNew   time.Time      // local time the last new sample arrived
	lastOK    time.Time      // local time of the last answer
	lastErr   error
	fault     error // reported by the next Read, once
	stale     int   // samples whose ReadingTime had not advanced
	pollsDone int
}

var (
	_ Meter     = (*Redfish)(nil)
	_ Describer = (*Redfish)(nil)
	_ MinPhaser = (*Redfish)(nil)
	_ MinReper  = (*Redfish)(nil)
)

// RedfishCredentials returns the BMC's user and password from the
// environment (getenv, normally os.Getenv): the file named by
// JOULEBENCH_REDFISH_CREDENTIALS (one line USER:PASSWORD, refused when
// group or others may read it), else JOULEBENCH_REDFISH_USER and
// JOULEBENCH_REDFISH_PASSWORD. Both empty: no credentials.
func RedfishCredentials(getenv func(string) string) (user, password string, err error) {
	file, u, p := getenv(RedfishCredentialsEnv), getenv(RedfishUserEnv), getenv(RedfishPasswordEnv)
	if file != "" {
		if u != "" || p != "" {
			return "", "", fmt.Errorf("%w: both %s and %s/%s are set; set one of them", ErrRedfishConfig, RedfishCredentialsEnv, RedfishUserEnv, RedfishPasswordEnv)
		}
		data, err := redfishReadSecret(file)
		if err != nil {
			return "", "", fmt.Errorf("%w: %s=%s: %w", ErrRedfishConfig, RedfishCredentialsEnv, file, err)
		}
		u, p, err := parseRedfishCredentials(data)
		if err != nil {
			return "", "", fmt.Errorf("%w: %s=%s: %w", ErrRedfishConfig, RedfishCredentialsEnv, file, err)
		}
		return u, p, nil
	}
	switch {
	case u != "" && p == "":
		return "", "", fmt.Errorf("%w: %s is set but %s is not; set both, or neither", ErrRedfishConfig, RedfishUserEnv, RedfishPasswordEnv)
	case u == "" && p != "":
		return "", "", fmt.Errorf("%w: %s is set but %s is not; set both, or neither", ErrRedfishConfig, RedfishPasswordEnv, RedfishUserEnv)
	}
	return u, p, nil
}

// redfishReadSecret reads a small regular file that only its owner may
// read, as certify's private key loader does.
func redfishReadSecret(path string) ([]byte, error) {
	f, fi, err := infile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("mode %04o lets group or others read the BMC's password; run chmod 600 %s", fi.Mode().Perm(), path)
	}
	data, err := io.ReadAll(io.LimitReader(f, 4<<10+1))
	if err != nil {
		return nil, err
	}
	if len(data) > 4<<10 {
		return nil, fmt.Errorf("%w: more than 4 KiB, so not a credentials file (one line USER:PASSWORD)", infile.ErrTooLarge)
	}
	return data, nil
}

// parseRedfishCredentials parses a credentials file: its first non-empty
// line is USER:PASSWORD (the user cannot hold a colon; the password can).
func parseRedfishCredentials(data []byte) (user, password string, err error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		u, p, ok := strings.Cut(line, ":")
		if !ok || u == "" || p == "" {
			return "", "", errors.New("the first line must be USER:PASSWORD")
		}
		return u, p, nil
	}
	if err := sc.Err(); err != nil {
		return "", "", err
	}
	return "", "", errors.New("empty: write one line USER:PASSWORD")
}

// parseRedfishURL splits a --meter redfish= value into the BMC's endpoint
// (scheme://host[:port]) and the chassis path ("" to find the only one).
func parseRedfishURL(raw string, insecure bool) (endpoint, chassis string, err error) {
	bad := func(format string, a ...any) (string, string, error) {
		return "", "", fmt.Errorf("%w: --meter redfish=%s: %s (give https://BMC[/CHASSIS-ID])", ErrRedfishConfig, RedactURL(raw), fmt.Sprintf(format, a...))
	}
	if len(raw) > 2048 {
		return bad("longer than 2048 bytes")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return bad("%v", err)
	}
	switch {
	case u.Scheme == "http" && !insecure:
		return bad("http:// sends the BMC's password in the clear; use https://, or --redfish-insecure to allow it")
	case u.Scheme != "https" && u.Scheme != "http":
		return bad("the scheme must be https://")
	case u.User != nil:
		return bad("credentials do not belong in the URL, which is recorded; set %s and %s, or %s", RedfishUserEnv, RedfishPasswordEnv, RedfishCredentialsEnv)
	case u.Host == "" || u.Hostname() == "":
		return bad("no BMC host")
	case u.RawQuery != "" || u.Fragment != "" || u.Opaque != "":
		return bad("a query or fragment names no chassis")
	}
	endpoint = u.Scheme + "://" + u.Host
	p := strings.Trim(u.Path, "/")
	const prefix = "redfish/v1/Chassis"
	switch {
	case p == "":
		return endpoint, "", nil
	case strings.HasPrefix(p, prefix+"/"):
		p = strings.TrimPrefix(p, prefix+"/")
	}
	if p == "" || strings.Contains(p, "/") || p == "." || p == ".." {
		return bad("%q is not a chassis id (one path segment, or /redfish/v1/Chassis/ID)", u.Path)
	}
	return endpoint, "/" + prefix + "/" + url.PathEscape(p), nil
}

// parseISODuration parses the ISO 8601 durations Redfish uses for
// SensingInterval: PnDTnHnMn.nS (days and time only; no years or months,
// whose length varies). It refuses negative, empty and over-long values.
func parseISODuration(s string) (time.Duration, error) {
	if len(s) > 64 {
		return 0, fmt.Errorf("duration %.64q… is too long", s)
	}
	rest, ok := strings.CutPrefix(s, "P")
	if !ok || rest == "" || rest == "T" {
		return 0, fmt.Errorf("duration %q: not ISO 8601 (PT30S)", s)
	}
	var total float64
	inTime, seen := false, false
	for rest != "" {
		if rest[0] == 'T' {
			if inTime {
				return 0, fmt.Errorf("duration %q: two T", s)
			}
			inTime, rest = true, rest[1:]
			if rest == "" {
				return 0, fmt.Errorf("duration %q: nothing after T", s)
			}
			continue
		}
		i := 0
		for i < len(rest) && (rest[i] >= '0' && rest[i] <= '9' || rest[i] == '.') {
			i++
		}
		if i == 0 || i == len(rest) {
			return 0, fmt.Errorf("duration %q: a number must be followed by D, H, M or S", s)
		}
		v, err := strconv.ParseFloat(rest[:i], 64)
		if err != nil || v < 0 || math.IsInf(v, 0) {
			return 0, fmt.Errorf("duration %q: bad number %q", s, rest[:i])
		}
		var unit float64
		switch c := rest[i]; {
		case c == 'D' && !inTime:
			unit = 86400
		case c == 'H' && inTime:
			unit = 3600
		case c == 'M' && inTime:
			unit = 60
		case c == 'S' && inTime:
			unit = 1
		default:
			return 0, fmt.Errorf("duration %q: unit %q not allowed here (PnDTnHnMnS)", s, c)
		}
		total += v * unit
		seen = true
		rest = rest[i+1:]
	}
	if !seen {
		return 0, fmt.Errorf("duration %q: no value", s)
	}
	if total > 7*86400 {
		return 0, fmt.Errorf("duration %q: longer than a week", s)
	}
	return time.Duration(total * float64(time.Second)), nil
}

// limitedBody bounds what one BMC answer may make us read.
type limitedBody struct {
	rt http.RoundTripper
}

func (l limitedBody) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := l.rt.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &capReader{r: resp.Body, left: redfishMaxBody}
	return resp, nil
}

type capReader struct {
	r    io.ReadCloser
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, fmt.Errorf("the BMC's answer is longer than %s, far more than a Redfish resource", infile.Human(redfishMaxBody))
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

func (c *capReader) Close() error { return c.r.Close() }

// OpenRedfish connects to the BMC, finds the chassis's strongest energy
// or power reading, takes a first sample and starts the poller. Every
// request has a deadline, so a BMC that does not answer fails here.
func OpenRedfish(ctx context.Context, opts RedfishOptions) (*Redfish, error) {
	if opts.Poll <= 0 {
		opts.Poll = DefaultRedfishPoll
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultRedfishTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	endpoint, chassis, err := parseRedfishURL(opts.URL, opts.Insecure)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: opts.Timeout}).DialContext,
		TLSClientConfig:       &tls.Config{RootCAs: opts.RootCAs, InsecureSkipVerify: opts.Insecure, MinVersion: tls.VersionTLS12}, //nolint:gosec // --redfish-insecure, recorded
		TLSHandshakeTimeout:   opts.Timeout,
		ResponseHeaderTimeout: opts.Timeout,
		MaxIdleConnsPerHost:   1,
		IdleConnTimeout:       time.Minute,
	}
	hc := &http.Client{Transport: limitedBody{tr}, Timeout: opts.Timeout,
		// A redirect could take the password elsewhere.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	r := &Redfish{opts: opts, endpoint: endpoint, chassis: chassis}
	fail := func(what string, err error) (*Redfish, error) {
		tr.CloseIdleConnections()
		return nil, r.explain(what, err)
	}
	cctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	c, err := gofish.ConnectContext(cctx, gofish.ClientConfig{Endpoint: endpoint, Username: opts.User, Password: opts.Password,
		BasicAuth: true, HTTPClient: hc, NoModifyTransport: true, ReuseConnections: true})
	cancel()
	if err != nil {
		return fail("GET /redfish/v1/", err)
	}
	r.client = c
	if r.chassis == "" {
		if err := r.findChassis(ctx); err != nil {
			return fail("GET /redfish/v1/Chassis", err)
		}
	}
	if err := r.discover(ctx); err != nil {
		tr.CloseIdleConnections()
		return nil, err
	}
	s, err := r.poll(ctx)
	if err != nil {
		return fail("read "+r.what(), err)
	}
	r.apply(s, opts.Now())
	r.notes = r.describe()
	pctx, pcancel := context.WithCancel(context.Background())
	r.cancel, r.done = pcancel, make(chan struct{})
	go r.run(pctx, tr)
	return r, nil
}

// get fetches one resource under the request deadline.
func redfishGet[T any, PT schemas.GenericSchemaObjectPointer[T]](ctx context.Context, r *Redfish, path string) (*T, error) {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	return schemas.GetObject[T, PT](r.client.WithContext(ctx), path)
}

func (r *Redfish) findChassis(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	resp, err := r.client.WithContext(ctx).Get("/redfish/v1/Chassis")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var col schemas.Collection
	if err := json.NewDecoder(resp.Body).Decode(&col); err != nil {
		return err
	}
	switch n := len(col.ItemLinks); {
	case n == 1:
		r.chassis = col.ItemLinks[0]
		return nil
	case n == 0:
		return fmt.Errorf("the BMC lists no chassis")
	default:
		ids := col.ItemLinks[:min(n, 10)]
		return fmt.Errorf("%w: the BMC has %d chassis (%s); name one: --meter redfish=%s/ID", ErrRedfishConfig, n, strings.Join(ids, ", "), r.endpoint)
	}
}

// discover picks the strongest reading the chassis offers.
func (r *Redfish) discover(ctx context.Context) error {
	ch, err := redfishGet[schemas.Chassis](ctx, r, r.chassis)
	if err != nil {
		return r.explain("GET "+r.chassis, err)
	}
	var raw struct {
		EnvironmentMetrics struct {
			ID string `json:"@odata.id"`
		}
		Power struct {
			ID string `json:"@odata.id"`
		}
	}
	if err := json.Unmarshal(ch.RawData, &raw); err != nil {
		return r.explain("GET "+r.chassis, err)
	}
	if em := raw.EnvironmentMetrics.ID; em != "" {
		env, err := redfishGet[schemas.EnvironmentMetrics](ctx, r, em)
		if err != nil {
			return r.explain("GET "+em, err)
		}
		r.resource = em
		switch {
		case env.EnergyJoules.Reading != nil || env.EnergyJoules.DataSourceURI != "":
			r.source, r.sensor = redfishEnergyJoules, env.EnergyJoules.DataSourceURI
		case env.EnergykWh.Reading != nil || env.EnergykWh.DataSourceURI != "":
			r.source, r.sensor = redfishEnergyKWh, env.EnergykWh.DataSourceURI
		case env.PowerWatts.Reading != nil || env.PowerWatts.DataSourceURI != "":
			r.source, r.sensor = redfishPowerWatts, env.PowerWatts.DataSourceURI
		default:
			r.resource = ""
		}
	}
	if r.resource == "" && raw.Power.ID != "" {
		r.source, r.resource = redfishLegacyPower, raw.Power.ID
	}
	if r.resource == "" {
		return &unsupportedError{msg: fmt.Sprintf("redfish %s%s: the chassis has no EnvironmentMetrics EnergyJoules, EnergykWh or PowerWatts, and no Power resource: this BMC cannot meter the node", r.endpoint, r.chassis)}
	}
	r.interval = redfishAssumedInterval
	if r.sensor != "" {
		s, err := redfishGet[schemas.Sensor](ctx, r, r.sensor)
		if err != nil {
			return r.explain("GET "+r.sensor, err)
		}
		if s.SensingInterval != "" {
			d, err := parseISODuration(s.SensingInterval)
			if err != nil {
				return fmt.Errorf("redfish %s%s: SensingInterval: %w", r.endpoint, r.sensor, err)
			}
			if d > 0 {
				r.interval, r.stated = d, true
			}
		}
		if a := s.ReadingAccuracy; a != nil && *a >= 0 && *a < 100 {
			r.accuracy = a
		}
	}
	upd := max(r.interval, r.opts.Poll)
	r.staleLim = 2*r.opts.Poll + 2*r.opts.Timeout
	r.stuckLim = 3*upd + r.staleLim
	return nil
}

// what names the reading being polled.
func (r *Redfish) what() string {
	if r.sensor != "" {
		return r.sensor
	}
	return r.resource
}

// poll takes one sample from the BMC.
func (r *Redfish) poll(ctx context.Context) (redfishSample, error) {
	if r.sensor != "" {
		s, err := redfishGet[schemas.Sensor](ctx, r, r.sensor)
		if err != nil {
			return redfishSample{}, err
		}
		return redfishSensorSample(s, r.source)
	}
	if r.source == redfishLegacyPower {
		p, err := redfishGet[schemas.Power](ctx, r, r.resource)
		if err != nil {
			return redfishSample{}, err
		}
		if len(p.PowerControl) == 0 || p.PowerControl[0].PowerConsumedWatts == nil {
			return redfishSample{}, errors.New("PowerControl[0].PowerConsumedWatts is absent")
		}
		return redfishCheck(float64(*p.PowerControl[0].PowerConsumedWatts), r.source, "")
	}
	env, err := redfishGet[schemas.EnvironmentMetrics](ctx, r, r.resource)
	if err != nil {
		return redfishSample{}, err
	}
	var v *float64
	switch r.source {
	case redfishEnergyJoules:
		v = env.EnergyJoules.Reading
	case redfishEnergyKWh:
		v = env.EnergykWh.Reading
	case redfishPowerWatts:
		v = env.PowerWatts.Reading
	}
	if v == nil {
		return redfishSample{}, fmt.Errorf("%s has no Reading", r.source)
	}
	return redfishCheck(*v, r.source, "")
}

// redfishSensorSample takes the value and ReadingTime of a Sensor.
func redfishSensorSample(s *schemas.Sensor, src redfishSource) (redfishSample, error) {
	if s.Reading == nil {
		return redfishSample{}, fmt.Errorf("sensor %s has no Reading", s.ID)
	}
	return redfishCheck(*s.Reading, src, s.ReadingTime)
}

// redfishCheck bounds a reading and converts it to joules or watts.
func redfishCheck(v float64, src redfishSource, readingTime string) (redfishSample, error) {
	if src == redfishEnergyKWh {
		v *= 3.6e6
	}
	lim, unit := redfishMaxWatts, "W"
	if src.counter() {
		lim, unit = redfishMaxJoules, "J"
	}
	if !(v >= 0 && v <= lim) {
		return redfishSample{}, fmt.Errorf("%s reads %g %s, outside 0..%g %s: not a node's reading", src, v, unit, lim, unit)
	}
	s := redfishSample{value: v}
	if readingTime != "" {
		if len(readingTime) > 64 {
			return redfishSample{}, fmt.Errorf("ReadingTime %.64q… is too long", readingTime)
		}
		t, err := time.Parse(time.RFC3339Nano, readingTime)
		if err != nil {
			return redfishSample{}, fmt.Errorf("ReadingTime %q: not an RFC 3339 time", readingTime)
		}
		s.at, s.hasTime = t, true
	}
	return s, nil
}

// apply adds a sample to the energy. A counter adds its increase; power
// is integrated from the previous sample's ReadingTime (or, without one,
// from the previous poll) to this one's, the reading standing for that
// period. A sample whose ReadingTime has not advanced is the same reading
// again: it is not counted.
func (r *Redfish) apply(s redfishSample, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lastOK, r.lastErr = now, nil
	r.pollsDone++
	at := s.at
	if !s.hasTime {
		at = now
	}
	if !r.started {
		r.started, r.lastJ, r.lastAt, r.lastNew = true, s.value, at, now
		return
	}
	if s.hasTime && !at.After(r.lastAt) {
		r.stale++
		return
	}
	dt := at.Sub(r.lastAt)
	if dt > r.stuckLim && !r.source.counter() {
		r.fault = fmt.Errorf("redfish %s: %s between two readings of %s (ReadingTime %s, then %s): the energy in that gap is unknown",
			r.endpoint, dt.Round(time.Millisecond), r.what(), r.lastAt.Format(time.RFC3339), at.Format(time.RFC3339))
		r.lastJ, r.lastAt, r.lastNew = s.value, at, now
		return
	}
	var add float64 // J
	if r.source.counter() {
		if s.value < r.lastJ {
			r.fault = fmt.Errorf("redfish %s: the energy counter %s went back from %g J to %g J (reset?): the energy across the reset is unknown",
				r.endpoint, r.what(), r.lastJ, s.value)
		} else {
			add = s.value - r.lastJ
		}
	} else {
		add = s.value * dt.Seconds()
	}
	r.energy += metrics.Energy(math.Round(add * 1e6))
	r.lastJ, r.lastAt, r.lastNew = s.value, at, now
}

// run polls the BMC until Close.
func (r *Redfish) run(ctx context.Context, tr *http.Transport) {
	defer close(r.done)
	defer tr.CloseIdleConnections()
	t := time.NewTicker(r.opts.Poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s, err := r.poll(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.mu.Lock()
			r.lastErr = r.explain("read "+r.what(), err)
			r.mu.Unlock()
			continue
		}
		r.apply(s, r.opts.Now())
	}
}

// explain turns a BMC failure into what went wrong and how to fix it.
func (r *Redfish) explain(what string, err error) error {
	at := "redfish " + r.endpoint + ": " + what
	var re *schemas.Error
	var uae x509.UnknownAuthorityError
	var he x509.HostnameError
	var cve *tls.CertificateVerificationError
	var ne net.Error
	switch {
	case errors.As(err, &re) && (re.HTTPReturnedStatusCode == http.StatusUnauthorized || re.HTTPReturnedStatusCode == http.StatusForbidden):
		who := "no credentials were given"
		if r.opts.User != "" {
			who = fmt.Sprintf("user %q was refused", r.opts.User)
		}
		return fmt.Errorf("%w: %s: the BMC answered %d %s: %s; set %s and %s, or %s=FILE (one line USER:PASSWORD, mode 0600), to an account the BMC accepts",
			ErrRedfishConfig, at, re.HTTPReturnedStatusCode, http.StatusText(re.HTTPReturnedStatusCode), who, RedfishUserEnv, RedfishPasswordEnv, RedfishCredentialsEnv)
	case errors.As(err, &re) && re.HTTPReturnedStatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %s: the BMC answered 404 Not Found: check the chassis id (GET %s/redfish/v1/Chassis lists them)", ErrRedfishConfig, at, r.endpoint)
	case errors.As(err, &re):
		return fmt.Errorf("%s: the BMC answered %d %s: %.200s", at, re.HTTPReturnedStatusCode, http.StatusText(re.HTTPReturnedStatusCode), re.Message)
	case errors.As(err, &cve) || errors.As(err, &uae) || errors.As(err, &he):
		return fmt.Errorf("%w: %s: the BMC's TLS certificate is not trusted (%v): add its CA to the system's trust store, or pass --redfish-insecure to skip the check (recorded in the record)",
			ErrRedfishConfig, at, err)
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return fmt.Errorf("%s: the BMC did not answer within %s (is it hung or overloaded?): %w", at, r.opts.Timeout, err)
	}
	return fmt.Errorf("%s: %w", at, err)
}

// describe is the meter's notes: what it reads, how often the BMC
// updates it, how accurate it says it is, and what follows.
func (r *Redfish) describe() []string {
	var n []string
	if r.source.counter() {
		n = append(n, fmt.Sprintf("whole-node energy from the BMC's energy counter (%s), read over Redfish; it lags the load by up to one update interval", r.source))
	} else if r.sensor != "" {
		n = append(n, fmt.Sprintf("whole-node power from the BMC (%s), integrated over the sensor's ReadingTime: each new reading stands for the time since the previous one, and a reading whose ReadingTime has not advanced is not counted again", r.source))
	} else {
		n = append(n, fmt.Sprintf("whole-node power from the BMC (%s), integrated over the time between polls: the BMC gives no ReadingTime, so an unrefreshed reading is counted again as the same power", r.source))
	}
	if r.stated {
		n = append(n, fmt.Sprintf("the BMC updates this reading every %s (SensingInterval)", r.interval))
	} else {
		n = append(n, fmt.Sprintf("the BMC does not state how often it updates this reading (no SensingInterval): assumed %s, the low end of what BMCs do", r.interval))
	}
	if r.accuracy != nil {
		n = append(n, fmt.Sprintf("the BMC states its accuracy as ±%g%% of the reading (ReadingAccuracy)", *r.accuracy))
	} else {
		n = append(n, "the BMC does not state its accuracy (no ReadingAccuracy)")
	}
	n = append(n, fmt.Sprintf("repetitions shorter than %s (%d update intervals) are invalid: the reading lags the load", r.MinRep(), redfishMinRepIntervals),
		"it covers the whole node: a run cannot add RAPL, NVML or the estimate to its total (they are inside it)")
	if r.opts.Insecure {
		n = append(n, "WARNING: the BMC's TLS certificate was NOT verified (--redfish-insecure): the readings could come from anyone on the path")
	}
	return n
}

// Name is "redfish".
func (r *Redfish) Name() string { return "redfish" }

// Method is External: a meter outside the chips, the BMC's.
func (r *Redfish) Method() Method { return External }

// Domains is the whole node.
func (r *Redfish) Domains() []Domain {
	return []Domain{{Name: "node-0", Kind: KindNode, InTotal: true}}
}

// Source names the BMC and the reading; never the credentials.
func (r *Redfish) Source() string {
	s := fmt.Sprintf("Redfish %s%s %s", r.endpoint, r.resource, r.source)
	if r.sensor != "" {
		s += " (sensor " + r.sensor + ")"
	}
	return s
}

// Notes say what the BMC gives and how far to trust it.
func (r *Redfish) Notes() []string { return r.notes }

// MinRep is a few of the BMC's update intervals (or of the poll interval,
// when that is longer).
func (r *Redfish) MinRep() time.Duration {
	return redfishMinRepIntervals * max(r.interval, r.opts.Poll)
}

// MinPhase is MinRep: an idle baseline shorter than that is flagged.
func (r *Redfish) MinPhase() time.Duration { return r.MinRep() }

// Read returns the energy of the latest sample the poller took, at once.
// It fails when the BMC has not answered for a while, when its reading
// has not been refreshed for several update intervals (a stuck sensor),
// and once after a counter reset or a gap in the readings.
func (r *Redfish) Read(ctx context.Context) (Reading, error) {
	if err := ctx.Err(); err != nil {
		return Reading{}, err
	}
	now := r.opts.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if f := r.fault; f != nil {
		r.fault = nil
		return Reading{}, f
	}
	if silent := now.Sub(r.lastOK); silent > r.staleLim {
		why := "no error"
		if r.lastErr != nil {
			why = r.lastErr.Error()
		}
		return Reading{}, fmt.Errorf("redfish %s: no answer from the BMC for %s (last error: %s)", r.endpoint, silent.Round(time.Millisecond), why)
	}
	if stuck := now.Sub(r.lastNew); stuck > r.stuckLim {
		return Reading{}, fmt.Errorf("redfish %s: %s has not been refreshed for %s (its ReadingTime stays at %s; %d readings not counted again): the BMC's sensor is stuck",
			r.endpoint, r.what(), stuck.Round(time.Millisecond), r.lastAt.Format(time.RFC3339Nano), r.stale)
	}
	return Reading{Time: now, Energy: []metrics.Energy{r.energy}}, nil
}

// Close stops the poller.
func (r *Redfish) Close() error {
	r.closeOnce.Do(func() {
		if r.cancel != nil {
			r.cancel()
			<-r.done
		}
	})
	return nil
}

// RedactURL is raw with any password in it replaced by "xxxxx", for
// messages: a URL given with credentials is refused, and the refusal must
// not print them to a terminal, a Slurm log or a pod's log. A URL that
// does not parse loses everything before its last '@'.
func RedactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	if i := strings.LastIndex(raw, "@"); i >= 0 {
		return "xxxxx" + raw[i:]
	}
	return raw
}

// Insecure reports whether the BMC's TLS certificate goes unverified.
func (r *Redfish) Insecure() bool { return r.opts.Insecure }
