package certify

import (
	"errors"
	"testing"
	"time"

	"github.com/joulebench/joulebench/results"
)

// A record of joulebench measure is refused outright, however it is
// dressed: with its command block, or with the block removed but the
// workload still called "command".
func TestEvaluateRefusesCommandRecord(t *testing.T) {
	spec, raw := DefaultSpec()
	for name, rec := range map[string]*results.Record{
		"with command":    {RunID: "r1", Command: &results.Command{Argv: []string{"python3", "train.py"}}, Workloads: []results.Workload{{Name: "command"}}},
		"command removed": {RunID: "r2", Workloads: []results.Workload{{Name: "command"}}},
	} {
		_, err := Evaluate(rec, spec, SpecDigest(raw), EvalOptions{Now: time.Unix(0, 0)})
		if !errors.Is(err, ErrCommandRecord) {
			t.Errorf("%s: want ErrCommandRecord, got %v", name, err)
		}
	}
	// A suite record is not caught by the rule.
	if err := evalCommandRefusal(&results.Record{Workloads: []results.Workload{{Name: "gemm-fp32-512"}}}); err != nil {
		t.Errorf("suite record refused: %v", err)
	}
}
