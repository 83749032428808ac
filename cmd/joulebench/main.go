// Command joulebench measures what computing work costs in energy and
// carbon, on real meters, with standard workloads. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// recordInProgress is the record a run is writing as it goes, for the
// message of a second Ctrl-C.
var recordInProgress atomic.Value // string

// beforeQuit, when set, runs before a second signal quits at once:
// joulebench measure kills its command's process group there, so that the
// command does not run on unmeasured after joulebench is gone.
var beforeQuit atomic.Pointer[func()]

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		// The first signal stops the run gracefully: the phase in progress
		// gets its closing reading and the record is written. A second one
		// quits at once; the record as of the last finished repetition is
		// already on disk (the run writes it as it goes).
		s := <-sigs
		fmt.Fprintf(os.Stderr, "\njoulebench: %v: stopping; what was measured is kept (press Ctrl-C again to quit at once)\n", s)
		cancel(fmt.Errorf("interrupted by %v", s))
		s = <-sigs
		where := ""
		if p, _ := recordInProgress.Load().(string); p != "" {
			where = ": the record as of the last finished repetition is " + p
		}
		if f := beforeQuit.Load(); f != nil {
			(*f)()
		}
		fmt.Fprintf(os.Stderr, "joulebench: %v again: quitting now%s\n", s, where)
		os.Exit(signalExit(s))
	}()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	signal.Stop(sigs)
	if err != nil {
		fmt.Fprintln(os.Stderr, "joulebench:", err)
		os.Exit(exitCode(err))
	}
}

// signalExit is the exit status of a process ended by s, as shells report
// it: 128 + the signal number.
func signalExit(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 1
}
