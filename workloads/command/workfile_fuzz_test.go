package command

import (
	"math"
	"strings"
	"testing"
)

// FuzzWorkFile feeds the work-file parser arbitrary bytes: it must never
// fail or panic, and what it accepts must keep the protocol's bounds.
func FuzzWorkFile(f *testing.F) {
	for _, s := range []string{
		"", "{}\n", `{"items":3,"flops":1e9,"accuracy":0.9}` + "\n",
		`{"items":1,"items":2}`, `{"items":-1}`, `{"flops":1e999}`, `{"accuracy":2}`,
		`[{"items":1}]`, `{"items":1}{"items":2}`, "\xff\xfe", `{"items":9223372036854775807}` + "\n" + `{"items":1}`,
		`{"items":1,"flops":null}`, `{"accuracy":1e-400}`, `{"\u0069tems":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := ParseWorkFile(strings.NewReader(string(b)))
		if err != nil {
			t.Fatalf("a reader that cannot fail failed: %v", err)
		}
		if rep.Items < 0 || (rep.Items > 0 && !rep.ItemsReported) {
			t.Errorf("items %d (reported %v)", rep.Items, rep.ItemsReported)
		}
		if rep.FLOPs < 0 || math.IsInf(rep.FLOPs, 0) || math.IsNaN(rep.FLOPs) {
			t.Errorf("flops %v", rep.FLOPs)
		}
		if rep.HasAccuracy && !(rep.Accuracy >= 0 && rep.Accuracy <= 1) {
			t.Errorf("accuracy %v", rep.Accuracy)
		}
		if rep.Lines > strings.Count(string(b), "\n")+1 || len(rep.Refused) > rep.Lines+1 {
			t.Errorf("%d lines, %d refused, from %d newlines", rep.Lines, len(rep.Refused), strings.Count(string(b), "\n"))
		}
	})
}
