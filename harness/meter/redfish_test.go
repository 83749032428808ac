package meter

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"golang.org/x/tools/txtar"
)

// bmcState is what the fake BMC's templates are filled with.
type bmcState struct {
	Joules, KWh, Watts float64
	Time, Interval     string
}

// testBMC is a Redfish service over TLS (httptest's self-signed
// certificate) serving a txtar fixture of testdata/redfish, each file
// named by its URL path and filled in from the current state.
type testBMC struct {
	t     *testing.T
	srv   *httptest.Server
	pages map[string]*template.Template

	mu       sync.Mutex
	state    bmcState
	user, pw string          // required basic auth, "" for none
	hang     map[string]bool // paths that never answer
	served   map[string]int
	release  chan struct{}
}

func newTestBMC(t *testing.T, fixture string, st bmcState) *testBMC {
	t.Helper()
	ar, err := txtar.ParseFile(filepath.Join("testdata", "redfish", fixture))
	if err != nil {
		t.Fatal(err)
	}
	b := &testBMC{t: t, pages: map[string]*template.Template{}, state: st, hang: map[string]bool{}, served: map[string]int{}, release: make(chan struct{})}
	for _, f := range ar.Files {
		b.pages[f.Name] = template.Must(template.New(f.Name).Parse(string(f.Data)))
	}
	b.srv = httptest.NewTLSServer(http.HandlerFunc(b.serve))
	t.Cleanup(func() {
		close(b.release)
		b.srv.Close()
	})
	return b
}

func (b *testBMC) serve(w http.ResponseWriter, r *http.Request) {
	b.mu.Lock()
	page, ok := b.pages[r.URL.Path]
	hang := b.hang[r.URL.Path]
	user, pw := b.user, b.pw
	st := b.state
	b.mu.Unlock()
	if hang {
		select {
		case <-r.Context().Done():
		case <-b.release:
		}
		return
	}
	if user != "" && r.URL.Path != "/redfish/v1/" {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != pw {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error": {"code": "Base.1.8.GeneralError", "message": "Unauthorized", "@Message.ExtendedInfo": [{"MessageId": "Base.1.8.NoValidSession"}]}}`)
			return
		}
	}
	if !ok {
		http.NotFound(w, r)
		return
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, st); err != nil {
		b.t.Error(err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(buf.Bytes())
	b.mu.Lock()
	b.served[r.URL.Path]++
	b.mu.Unlock()
}

func (b *testBMC) set(f func(*bmcState)) {
	b.mu.Lock()
	f(&b.state)
	b.mu.Unlock()
}

// waitServed waits until path has been served n more times than now, so
// that the poller has seen the current state.
func (b *testBMC) waitServed(path string, n int) {
	b.t.Helper()
	b.mu.Lock()
	want := b.served[path] + n
	b.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		b.mu.Lock()
		got := b.served[path]
		b.mu.Unlock()
		if got >= want {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	b.t.Fatalf("%s not polled %d more times within 5 s", path, n)
}

func (b *testBMC) roots() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(b.srv.Certificate())
	return p
}

func (b *testBMC) open(t *testing.T, opts RedfishOptions) *Redfish {
	t.Helper()
	if opts.URL == "" {
		opts.URL = b.srv.URL
	}
	if opts.RootCAs == nil && !opts.Insecure {
		opts.RootCAs = b.roots()
	}
	if opts.Poll == 0 {
		opts.Poll = 5 * time.Millisecond
	}
	m, err := OpenRedfish(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func readJ(t *testing.T, m Meter) float64 {
	t.Helper()
	r, err := m.Read(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Energy) != 1 {
		t.Fatalf("%d energies, want 1 (node-0)", len(r.Energy))
	}
	return r.Energy[0].Joules()
}

var bmcT0 = time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)

func bmcTime(s float64) string {
	return bmcT0.Add(time.Duration(s * float64(time.Second))).Format(time.RFC3339Nano)
}

// The new schema's energy sensor: a counter, counted from its value at
// Open (a meter that reported the BMC's lifetime joules would give the
// first repetition the node's whole history), with the sensor's
// SensingInterval and ReadingAccuracy recorded and the interval setting
// the shortest valid repetition.
func TestRedfishEnergySensor(t *testing.T) {
	b := newTestBMC(t, "energy.txtar", bmcState{Joules: 1e9, Watts: 400, Time: bmcTime(0), Interval: "PT30S"})
	m := b.open(t, RedfishOptions{})
	if m.Name() != "redfish" || m.Method() != External {
		t.Errorf("name %s method %s", m.Name(), m.Method())
	}
	if d := m.Domains(); len(d) != 1 || d[0] != (Domain{Name: "node-0", Kind: KindNode, InTotal: true}) {
		t.Errorf("domains %+v", d)
	}
	if e := readJ(t, m); e != 0 {
		t.Errorf("first reading %g J, want 0 (counted from Open)", e)
	}
	b.set(func(s *bmcState) { s.Joules, s.Time = 1e9+12000, bmcTime(30) })
	b.waitServed("/redfish/v1/Chassis/1/Sensors/EnergyJ", 2)
	if e := readJ(t, m); e != 12000 {
		t.Errorf("after +12000 J: %g J", e)
	}
	if got := m.MinRep(); got != 90*time.Second {
		t.Errorf("MinRep %s, want 3 × the 30 s SensingInterval", got)
	}
	if m.MinPhase() != m.MinRep() {
		t.Errorf("MinPhase %s", m.MinPhase())
	}
	src, notes := m.Source(), strings.Join(m.Notes(), "\n")
	for _, want := range []string{"EnergyJoules", "/redfish/v1/Chassis/1/Sensors/EnergyJ"} {
		if !strings.Contains(src, want) {
			t.Errorf("source %q lacks %q", src, want)
		}
	}
	for _, want := range []string{"every 30s (SensingInterval)", "±1.5%", "shorter than 1m30s", "whole node"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if strings.Contains(notes, "NOT verified") {
		t.Error("a verified BMC is noted as unverified")
	}
}

// An EnergykWh excerpt with no sensor: kWh are converted, and the note
// says the interval is assumed.
func TestRedfishEnergyKWh(t *testing.T) {
	b := newTestBMC(t, "kwh.txtar", bmcState{KWh: 1234.5, Watts: 400})
	m := b.open(t, RedfishOptions{})
	b.set(func(s *bmcState) { s.KWh = 1234.502 })
	b.waitServed("/redfish/v1/Chassis/1/EnvironmentMetrics", 2)
	if e := readJ(t, m); e < 7199 || e > 7201 {
		t.Errorf("0.002 kWh read as %g J, want 7200", e)
	}
	if n := strings.Join(m.Notes(), "\n"); !strings.Contains(n, "assumed 30s") || !strings.Contains(n, "does not state its accuracy") {
		t.Errorf("notes:\n%s", n)
	}
	if m.MinRep() != 90*time.Second {
		t.Errorf("MinRep %s with an assumed 30 s interval", m.MinRep())
	}
}

// Watts only: power integrated over the sensor's ReadingTime, each new
// reading standing for the time since the previous one. A reading whose
// ReadingTime has not advanced is the same reading polled again: it is not
// counted twice, even if its value changed (a BMC's cache racing its
// update). A cheat that integrated over local poll time, or counted every
// poll, would get other numbers.
func TestRedfishWattsStaleReadingTime(t *testing.T) {
	b := newTestBMC(t, "watts.txtar", bmcState{Watts: 200, Time: bmcTime(0), Interval: "PT10S"})
	const sensor = "/redfish/v1/Chassis/1/Sensors/PowerW"
	m := b.open(t, RedfishOptions{})
	if e := readJ(t, m); e != 0 {
		t.Errorf("first %g J", e)
	}
	b.set(func(s *bmcState) { s.Watts, s.Time = 300, bmcTime(10) })
	b.waitServed(sensor, 3)
	if e := readJ(t, m); e != 3000 {
		t.Errorf("300 W for 10 s of ReadingTime: %g J, want 3000", e)
	}
	b.set(func(s *bmcState) { s.Watts = 999 }) // same ReadingTime
	b.waitServed(sensor, 3)
	if e := readJ(t, m); e != 3000 {
		t.Errorf("a stale ReadingTime was counted: %g J, want 3000", e)
	}
	b.set(func(s *bmcState) { s.Watts, s.Time = 100, bmcTime(20) })
	b.waitServed(sensor, 3)
	if e := readJ(t, m); e != 4000 {
		t.Errorf("then 100 W for 10 s: %g J, want 4000", e)
	}
	m.mu.Lock()
	stale := m.stale
	m.mu.Unlock()
	if stale == 0 {
		t.Error("no stale reading counted")
	}
	if n := strings.Join(m.Notes(), "\n"); !strings.Contains(n, "ReadingTime has not advanced is not counted again") || !strings.Contains(n, "±5%") {
		t.Errorf("notes:\n%s", n)
	}
}

// A sensor whose ReadingTime never advances is stuck: after a few update
// intervals Read fails (the repetition is invalid) and says so.
func TestRedfishStuckSensorFlagged(t *testing.T) {
	b := newTestBMC(t, "watts.txtar", bmcState{Watts: 200, Time: bmcTime(0), Interval: "PT0.02S"})
	m := b.open(t, RedfishOptions{Timeout: 20 * time.Millisecond})
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := m.Read(context.Background())
		if err != nil {
			if !strings.Contains(err.Error(), "stuck") || !strings.Contains(err.Error(), "not counted again") {
				t.Errorf("error %v", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a sensor stuck for 5 s was never flagged")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// The legacy Chassis/Power PowerConsumedWatts, with no ReadingTime:
// integrated over the local time between polls.
func TestRedfishLegacyPower(t *testing.T) {
	b := newTestBMC(t, "legacy.txtar", bmcState{Watts: 200})
	var mu sync.Mutex
	now := bmcT0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	m := b.open(t, RedfishOptions{Now: clock, Timeout: time.Hour})
	if !strings.Contains(m.Source(), "PowerConsumedWatts") {
		t.Errorf("source %s", m.Source())
	}
	b.set(func(s *bmcState) { s.Watts = 100 })
	mu.Lock()
	now = now.Add(5 * time.Second)
	mu.Unlock()
	b.waitServed("/redfish/v1/Chassis/1/Power", 3)
	if e := readJ(t, m); e != 500 {
		t.Errorf("100 W for 5 s: %g J, want 500", e)
	}
	if n := strings.Join(m.Notes(), "\n"); !strings.Contains(n, "no ReadingTime") {
		t.Errorf("notes:\n%s", n)
	}
}

// 401: the error says the credentials were refused and where to set
// them, is bad input, and never shows the password.
func TestRedfishUnauthorized(t *testing.T) {
	b := newTestBMC(t, "energy.txtar", bmcState{Joules: 1, Time: bmcTime(0), Interval: "PT1S"})
	b.user, b.pw = "monitor", "right-password"
	_, err := OpenRedfish(context.Background(), RedfishOptions{URL: b.srv.URL, RootCAs: b.roots(), User: "monitor", Password: "wrong-password"})
	if err == nil {
		t.Fatal("wrong password accepted")
	}
	msg := err.Error()
	for _, want := range []string{"401", `user "monitor" was refused`, RedfishUserEnv, RedfishCredentialsEnv} {
		if !strings.Contains(msg, want) {
			t.Errorf("error lacks %q: %s", want, msg)
		}
	}
	if strings.Contains(msg, "password\"") || strings.Contains(msg, "wrong-password") {
		t.Errorf("error shows the password: %s", msg)
	}
	if !errors.Is(err, ErrRedfishConfig) {
		t.Error("401 is not ErrRedfishConfig (bad input)")
	}
	m := b.open(t, RedfishOptions{User: "monitor", Password: "right-password"})
	for _, s := range append(m.Notes(), m.Source()) {
		if strings.Contains(s, "right-password") || strings.Contains(s, "monitor") {
			t.Errorf("credentials in the record: %s", s)
		}
	}
}

// A hung BMC: Open gives up at the request deadline; once open, Read
// answers at once from the last sample (well inside the harness's 2 s),
// and fails, naming the deadline, once the BMC has been silent too long.
func TestRedfishHungBMC(t *testing.T) {
	t.Run("at open", func(t *testing.T) {
		b := newTestBMC(t, "energy.txtar", bmcState{Joules: 1, Time: bmcTime(0), Interval: "PT1S"})
		b.hang["/redfish/v1/Chassis/1"] = true
		start := time.Now()
		_, err := OpenRedfish(context.Background(), RedfishOptions{URL: b.srv.URL, RootCAs: b.roots(), Timeout: 100 * time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), "did not answer within 100ms") {
			t.Errorf("error %v", err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Open took %s on a hung BMC", d)
		}
	})
	t.Run("while running", func(t *testing.T) {
		b := newTestBMC(t, "energy.txtar", bmcState{Joules: 1, Time: bmcTime(0), Interval: "PT1S"})
		m := b.open(t, RedfishOptions{Timeout: 50 * time.Millisecond, Poll: 10 * time.Millisecond})
		b.mu.Lock()
		b.hang["/redfish/v1/Chassis/1/Sensors/EnergyJ"] = true
		b.mu.Unlock()
		deadline := time.Now().Add(5 * time.Second)
		for {
			start := time.Now()
			_, err := m.Read(context.Background())
			if d := time.Since(start); d > 100*time.Millisecond {
				t.Fatalf("Read took %s with the BMC hung", d)
			}
			if err != nil {
				if !strings.Contains(err.Error(), "no answer from the BMC") || !strings.Contains(err.Error(), "did not answer within 50ms") {
					t.Errorf("error %v", err)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("a BMC hung for 5 s was never reported")
			}
			time.Sleep(5 * time.Millisecond)
		}
		start := time.Now()
		m.Close()
		if d := time.Since(start); d > time.Second {
			t.Errorf("Close took %s", d)
		}
	})
}

// httptest's certificate is self-signed: refused against the system's
// roots, with the fix; accepted with Insecure, which the notes say.
func TestRedfishSelfSignedCertificate(t *testing.T) {
	b := newTestBMC(t, "energy.txtar", bmcState{Joules: 1, Time: bmcTime(0), Interval: "PT1S"})
	_, err := OpenRedfish(context.Background(), RedfishOptions{URL: b.srv.URL, Timeout: time.Second})
	if err == nil {
		t.Fatal("a self-signed certificate was accepted")
	}
	if !errors.Is(err, ErrRedfishConfig) || !strings.Contains(err.Error(), "not trusted") || !strings.Contains(err.Error(), "--redfish-insecure") {
		t.Errorf("error %v", err)
	}
	m := b.open(t, RedfishOptions{Insecure: true})
	if n := strings.Join(m.Notes(), "\n"); !strings.Contains(n, "NOT verified (--redfish-insecure)") {
		t.Errorf("insecure not in the notes:\n%s", n)
	}
	// And in a field certify reads: no level 3 for such readings.
	if i, ok := Meter(m).(Insecurer); !ok || !i.Insecure() {
		t.Errorf("an insecure BMC meter does not say so as an Insecurer")
	}
}

// Through Open, as --meter redfish=URL reaches it: credentials from the
// environment, --redfish-insecure from Options.
func TestOpenRedfishByName(t *testing.T) {
	b := newTestBMC(t, "energy.txtar", bmcState{Joules: 1, Time: bmcTime(0), Interval: "PT1S"})
	b.user, b.pw = "u", "p:with:colons"
	t.Setenv(RedfishCredentialsEnv, "")
	t.Setenv(RedfishUserEnv, "u")
	t.Setenv(RedfishPasswordEnv, "p:with:colons")
	if _, err := Open("redfish="+b.srv.URL+"/1", Options{}); err == nil || !errors.Is(err, ErrRedfishConfig) {
		t.Errorf("self-signed without --redfish-insecure: %v", err)
	}
	m, err := Open("redfish="+b.srv.URL+"/1", Options{RedfishInsecure: true})
	if err != nil {
		t.Fatal(err)
	}
	m.Close()
	if _, err := Open("redfish", Options{}); !errors.Is(err, ErrRedfishConfig) {
		t.Errorf("redfish without a URL: %v", err)
	}
	for _, st := range Probe(Options{SysfsRoot: t.TempDir(), ProcRoot: t.TempDir()}) {
		if st.Backend == "redfish" && (!errors.Is(st.Err, errors.ErrUnsupported) || !strings.Contains(st.Err.Error(), "--meter redfish=")) {
			t.Errorf("probe: %v", st.Err)
		}
	}
}

// Several chassis and none named: the error lists them.
func TestRedfishChassisMustBeNamed(t *testing.T) {
	b := newTestBMC(t, "two-chassis.txtar", bmcState{Watts: 100})
	_, err := OpenRedfish(context.Background(), RedfishOptions{URL: b.srv.URL, RootCAs: b.roots()})
	if err == nil || !errors.Is(err, ErrRedfishConfig) || !strings.Contains(err.Error(), "/redfish/v1/Chassis/Enclosure") {
		t.Errorf("error %v", err)
	}
	m := b.open(t, RedfishOptions{URL: b.srv.URL + "/1"})
	if !strings.Contains(m.Source(), "/redfish/v1/Chassis/1/Power") {
		t.Errorf("source %s", m.Source())
	}
	_, err = OpenRedfish(context.Background(), RedfishOptions{URL: b.srv.URL + "/nope", RootCAs: b.roots()})
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("unknown chassis: %v", err)
	}
}

func TestParseRedfishURL(t *testing.T) {
	for _, tc := range []struct {
		raw, endpoint, chassis string
		insecure               bool
		bad                    string
	}{
		{raw: "https://bmc", endpoint: "https://bmc"},
		{raw: "https://bmc/", endpoint: "https://bmc"},
		{raw: "https://bmc:8443/System.Embedded.1", endpoint: "https://bmc:8443", chassis: "/redfish/v1/Chassis/System.Embedded.1"},
		{raw: "https://10.0.0.5/redfish/v1/Chassis/1/", endpoint: "https://10.0.0.5", chassis: "/redfish/v1/Chassis/1"},
		{raw: "http://bmc", bad: "in the clear"},
		{raw: "http://bmc/1", insecure: true, endpoint: "http://bmc", chassis: "/redfish/v1/Chassis/1"},
		{raw: "https://root:calvin@bmc", bad: "do not belong in the URL"},
		{raw: "bmc", bad: "scheme"},
		{raw: "https://bmc/a/b", bad: "not a chassis id"},
		{raw: "https://bmc/..", bad: "not a chassis id"},
		{raw: "https://bmc/1?x=1", bad: "query"},
		{raw: "https:///1", bad: "no BMC host"},
	} {
		e, c, err := parseRedfishURL(tc.raw, tc.insecure)
		switch {
		case tc.bad != "":
			if err == nil || !strings.Contains(err.Error(), tc.bad) || !errors.Is(err, ErrRedfishConfig) {
				t.Errorf("%s: %v, want %q", tc.raw, err, tc.bad)
			}
			if strings.Contains(tc.raw, "calvin") && err != nil && strings.Contains(err.Error(), "calvin") && !strings.Contains(err.Error(), "redfish=") {
				t.Errorf("%s: password echoed", tc.raw)
			}
		case err != nil || e != tc.endpoint || c != tc.chassis:
			t.Errorf("%s: %q %q %v", tc.raw, e, c, err)
		}
	}
}

func TestParseISODuration(t *testing.T) {
	for s, want := range map[string]time.Duration{
		"PT30S": 30 * time.Second, "PT0.5S": 500 * time.Millisecond, "PT1M": time.Minute, "P0DT0H1M5S": 65 * time.Second,
		"PT1H": time.Hour, "P1D": 24 * time.Hour,
	} {
		if got, err := parseISODuration(s); err != nil || got != want {
			t.Errorf("%s: %s %v", s, got, err)
		}
	}
	for _, s := range []string{"", "P", "PT", "30S", "PT-1S", "P1M", "PT1D", "PTS", "PT1", "P8D", "PT1S1", "PTT1S", "PT1e400S"} {
		if d, err := parseISODuration(s); err == nil {
			t.Errorf("%q accepted as %s", s, d)
		}
	}
}

func TestRedfishCredentials(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	good := write("good", "\nmonitor:s3cr:et\r\n", 0o600)
	open := write("open", "monitor:s3cret\n", 0o644)
	u, p, err := RedfishCredentials(env(RedfishCredentialsEnv, good))
	if err != nil || u != "monitor" || p != "s3cr:et" {
		t.Errorf("file: %q %q %v", u, p, err)
	}
	u, p, err = RedfishCredentials(env(RedfishUserEnv, "a", RedfishPasswordEnv, "b"))
	if err != nil || u != "a" || p != "b" {
		t.Errorf("env: %q %q %v", u, p, err)
	}
	if u, p, err := RedfishCredentials(env()); err != nil || u != "" || p != "" {
		t.Errorf("none: %q %q %v", u, p, err)
	}
	for name, tc := range map[string]struct {
		getenv func(string) string
		want   string
	}{
		"group/world readable": {env(RedfishCredentialsEnv, open), "chmod 600"},
		"both":                 {env(RedfishCredentialsEnv, good, RedfishUserEnv, "a"), "set one of them"},
		"user only":            {env(RedfishUserEnv, "a"), RedfishPasswordEnv + " is not"},
		"password only":        {env(RedfishPasswordEnv, "b"), RedfishUserEnv + " is not"},
		"malformed":            {env(RedfishCredentialsEnv, write("bad", "just-a-password\n", 0o600)), "USER:PASSWORD"},
		"empty":                {env(RedfishCredentialsEnv, write("empty", "\n\n", 0o600)), "empty"},
		"missing":              {env(RedfishCredentialsEnv, filepath.Join(dir, "nope")), "no such file"},
		"a directory":          {env(RedfishCredentialsEnv, dir), "not a regular file"},
	} {
		_, _, err := RedfishCredentials(tc.getenv)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrRedfishConfig) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the password", name)
		}
	}
}

// A counter that goes back (a BMC reset) and an implausible reading are
// errors, not energy.
func TestRedfishApplyFaults(t *testing.T) {
	r := &Redfish{source: redfishEnergyJoules, stuckLim: time.Minute, resource: "/em"}
	now := bmcT0
	r.apply(redfishSample{value: 5000}, now)
	r.apply(redfishSample{value: 4000}, now.Add(time.Second))
	r.opts.Now = func() time.Time { return now.Add(time.Second) }
	r.staleLim = time.Hour
	if _, err := r.Read(context.Background()); err == nil || !strings.Contains(err.Error(), "went back") {
		t.Errorf("reset: %v", err)
	}
	if _, err := r.Read(context.Background()); err != nil {
		t.Errorf("a fault is reported once: %v", err)
	}
	for _, v := range []float64{-1, 2e6} {
		if _, err := redfishCheck(v, redfishPowerWatts, ""); err == nil {
			t.Errorf("%g W accepted", v)
		}
	}
	if _, err := redfishCheck(100, redfishPowerWatts, "yesterday"); err == nil {
		t.Error("a bad ReadingTime accepted")
	}
}

func FuzzParseISODuration(f *testing.F) {
	for _, s := range []string{"PT30S", "PT0.5S", "P0DT0H1M5S", "P1D", "PT", "PT1e9S"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseISODuration(s)
		if err == nil && (d < 0 || d > 7*24*time.Hour) {
			t.Errorf("%q: %s", s, d)
		}
	})
}

func FuzzRedfishCredentials(f *testing.F) {
	for _, s := range []string{"u:p\n", "\r\nu:p:q\r\n", ":", "", "u\n"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		u, p, err := parseRedfishCredentials(data)
		if err == nil && (u == "" || p == "" || strings.ContainsAny(u, ":\n")) {
			t.Errorf("%q: %q %q", data, u, p)
		}
	})
}

func FuzzParseRedfishURL(f *testing.F) {
	for _, s := range []string{"https://bmc", "https://bmc:443/1", "https://u:p@bmc", "http://bmc/redfish/v1/Chassis/x", "https://bmc/%2e%2e"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, raw string, insecure bool) {
		e, c, err := parseRedfishURL(raw, insecure)
		if err != nil {
			return
		}
		if !strings.HasPrefix(e, "https://") && !(insecure && strings.HasPrefix(e, "http://")) {
			t.Errorf("%q: endpoint %q", raw, e)
		}
		if c != "" && (!strings.HasPrefix(c, "/redfish/v1/Chassis/") || strings.Count(c, "/") != 4) {
			t.Errorf("%q: chassis %q", raw, c)
		}
	})
}

// A password given in the BMC's URL is refused, and the refusal does not
// print it (a terminal, a Slurm log, a pod's log would keep it).
func TestRedfishURLPasswordNotPrinted(t *testing.T) {
	_, err := Select("redfish=https://admin:s3cret@127.0.0.1:1/", Options{})
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "credentials do not belong in the URL") {
		t.Errorf("error %v", err)
	}
	if got := RedactURL("https://admin:s3cret@bmc%zz/"); strings.Contains(got, "s3cret") {
		t.Errorf("an unparsable URL keeps its password: %s", got)
	}
}
