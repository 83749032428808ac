package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"time"

	"github.com/joulebench/joulebench/exporter"
	"github.com/joulebench/joulebench/harness/meter"
)

// The --interval bounds of serve: reads more often than every 10 ms cost
// more than they tell (RAPL updates every millisecond, the estimate's
// /proc/stat every tick); reads further apart than a minute let a RAPL
// package counter at a few kilowatts wrap twice unseen.
const (
	serveMinInterval = 10 * time.Millisecond
	serveMaxInterval = time.Minute
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", stderr)
	listen := fs.String("listen", exporter.DefaultListen, "HOST:PORT to serve /metrics and /healthz on; loopback unless you name another address (then a warning is printed)")
	meterSpec := fs.String("meter", "auto", "meters: auto, or a comma-separated list of rapl, nvml, redfish=https://BMC[/CHASSIS], estimate, fake")
	redfishInsecure := fs.Bool("redfish-insecure", false, "do not verify the BMC's TLS certificate (said in the meter's notes)")
	sysfs := fs.String("sysfs-root", meter.DefaultSysfsRoot, "where sysfs is mounted (RAPL)")
	proc := fs.String("proc-root", meter.DefaultProcRoot, "where procfs is mounted (the estimate)")
	interval := fs.Duration("interval", exporter.DefaultInterval, "read the meters at most once per `duration`, however many scrapers ask; the power gauge averages over it")
	node := fs.String("node", "", "the node label (default: this machine's hostname)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("serve takes no arguments, got %q", pos)
	}
	if err := exporter.CheckListen(*listen); err != nil {
		return usageError{err}
	}
	if *interval < serveMinInterval || *interval > serveMaxInterval {
		return usagef("--interval %v: must be from %v to %v", *interval, serveMinInterval, serveMaxInterval)
	}
	// A root given on the command line must be a directory: a typo would
	// otherwise look like "this machine has no RAPL".
	var rootErr error
	fs.Visit(func(fl *flag.Flag) {
		if (fl.Name == "sysfs-root" || fl.Name == "proc-root") && rootErr == nil {
			rootErr = checkRoot("--"+fl.Name, fl.Value.String())
		}
	})
	if rootErr != nil {
		return rootErr
	}
	if *node == "" {
		h, err := os.Hostname()
		if err != nil {
			return usagef("no --node given and the hostname is unknown (%v): give --node NAME", err)
		}
		*node = h
	}
	if err := exporter.CheckNode(*node); err != nil {
		return usagef("--node: %w", err)
	}

	sel, err := selectMeters(*meterSpec, meter.Options{SysfsRoot: *sysfs, ProcRoot: *proc, RedfishInsecure: *redfishInsecure}, stderr)
	if err != nil {
		return err
	}
	// Serve returns only once no read is in progress, so closing here
	// never races a read.
	defer sel.Close()
	ver, commit := buildVersion()
	e, err := exporter.New(sel.Meters, exporter.Options{Node: *node, Interval: *interval, Version: ver, Commit: commit, Log: stderr})
	if err != nil {
		return usageError{err}
	}
	// Count from the start, not from the first scrape.
	e.Refresh(ctx)

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return usagef("--listen %s: %v: choose a free port, or an address of this machine", *listen, err)
	}
	if !exporter.IsLoopback(ln.Addr()) {
		fmt.Fprintf(stderr, "WARNING: --listen %s: serving on %s, which other machines can reach: anyone there can read this node's energy figures\n", *listen, ln.Addr())
	}
	var ms []string
	for _, m := range sel.Meters {
		s := m.Name() + " (" + string(m.Method())
		if m.Method().Estimated() {
			s += ", ESTIMATED"
		}
		ms = append(ms, s+")")
	}
	fmt.Fprintf(stderr, "joulebench serve: node %s, meters %s, read at most every %v; metrics at http://%s/metrics (Ctrl-C stops)\n", *node, strings.Join(ms, ", "), *interval, ln.Addr())
	if err := exporter.Serve(ctx, ln, e); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "joulebench serve: stopped")
	return nil
}
