//go:build !linux

package harness

import "github.com/joulebench/joulebench/results"

// ReadClock has no adjtimex outside Linux: the record says so, and the
// sync status stays unknown rather than claimed.
func ReadClock() results.Clock { return results.Clock{Source: "unavailable"} }
