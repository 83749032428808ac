package command

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseWorkFile(t *testing.T) {
	for _, c := range []struct {
		name, in   string
		items      int64
		hasItems   bool
		flops      float64
		acc        float64
		hasAcc     bool
		lines      int
		refusedHas []string // one substring per refused line, in order
	}{
		{name: "empty", in: ""},
		{name: "sums and last accuracy", in: `{"items":3,"flops":1.5e9}` + "\n" + `{"items":2,"accuracy":0.5}` + "\n" + `{"accuracy":0.75}` + "\n",
			items: 5, hasItems: true, flops: 1.5e9, acc: 0.75, hasAcc: true, lines: 3},
		{name: "blank lines and no final newline", in: "\n  \n{\"items\":1}", items: 1, hasItems: true, lines: 3},
		{name: "empty object counts nothing", in: "{}\n", lines: 1},
		{name: "zero items is reported", in: `{"items":0}`, hasItems: true, lines: 1},
		{name: "unknown field", in: `{"items":1,"loss":0.3}`, lines: 1, refusedHas: []string{`line 1: unknown field "loss"`}},
		{name: "duplicate key", in: `{"items":1,"items":99}`, lines: 1, refusedHas: []string{`line 1: field "items" appears twice`}},
		{name: "negative items", in: `{"items":-1}`, lines: 1, refusedHas: []string{"must not be negative"}},
		{name: "fractional items", in: `{"items":1.5}`, lines: 1, refusedHas: []string{"whole number"}},
		{name: "exponent items", in: `{"items":1e3}`, lines: 1, refusedHas: []string{"whole number"}},
		{name: "items overflow int64", in: `{"items":9223372036854775808}`, lines: 1, refusedHas: []string{"not a 64-bit integer"}},
		{name: "items sum overflow", in: `{"items":9223372036854775807}` + "\n" + `{"items":1}`, items: 9223372036854775807, hasItems: true, lines: 2,
			refusedHas: []string{"line 2: items 1 would make"}},
		{name: "items as string", in: `{"items":"5"}`, lines: 1, refusedHas: []string{"items is a string, not a number"}},
		{name: "null flops", in: `{"flops":null}`, lines: 1, refusedHas: []string{"flops is null"}},
		{name: "negative flops", in: `{"flops":-1}`, lines: 1, refusedHas: []string{"must not be negative"}},
		{name: "infinite flops", in: `{"flops":1e999}`, lines: 1, refusedHas: []string{"not a finite number"}},
		{name: "flops sum overflow", in: `{"flops":1.7e308}` + "\n" + `{"flops":1.7e308}`, flops: 1.7e308, lines: 2, refusedHas: []string{"line 2: flops"}},
		{name: "accuracy above 1", in: `{"accuracy":1.01}`, lines: 1, refusedHas: []string{"from 0 to 1"}},
		{name: "accuracy percent", in: `{"accuracy":93}`, lines: 1, refusedHas: []string{"from 0 to 1"}},
		{name: "nested object", in: `{"items":{"n":1}}`, lines: 1, refusedHas: []string{"items is an object"}},
		{name: "array line", in: `[1,2]`, lines: 1, refusedHas: []string{"an array: a work line is a JSON object"}},
		{name: "two objects on a line", in: `{"items":1}{"items":2}`, lines: 1, refusedHas: []string{"not valid JSON"}},
		{name: "truncated line", in: `{"items":1`, lines: 1, refusedHas: []string{"not valid JSON"}},
		{name: "a refused line loses only its own work", in: `{"items":1}` + "\n" + `{"items":2,"x":1}` + "\n" + `{"items":4}`,
			items: 5, hasItems: true, lines: 3, refusedHas: []string{"line 2:"}},
		{name: "long line", in: `{"items":1,"flops":` + strings.Repeat("0", MaxWorkLine) + `1}`, lines: 1, refusedHas: []string{"bytes long"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := ParseWorkFile(strings.NewReader(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Items != c.items || rep.ItemsReported != c.hasItems || rep.FLOPs != c.flops || rep.Accuracy != c.acc || rep.HasAccuracy != c.hasAcc || rep.Lines != c.lines {
				t.Errorf("got %+v", rep)
			}
			if len(rep.Refused) != len(c.refusedHas) {
				t.Fatalf("refused %q, want %d", rep.Refused, len(c.refusedHas))
			}
			for i, want := range c.refusedHas {
				if !strings.Contains(rep.Refused[i], want) {
					t.Errorf("refusal %d is %q, want it to say %q", i, rep.Refused[i], want)
				}
			}
		})
	}
}

// Past MaxWorkBytes, the rest is not read and a refusal says so; the
// lines read before it still count, and the line cut at the limit is not
// judged.
func TestParseWorkFileBounded(t *testing.T) {
	// Long lines (JSON allows the spaces), so that the test is quick.
	line := []byte(`{"items":1` + strings.Repeat(" ", MaxWorkLine-20) + "}\n")
	var b bytes.Buffer
	for b.Len() <= MaxWorkBytes+len(line) {
		b.Write(line)
	}
	rep, err := ParseWorkFile(&b)
	if err != nil {
		t.Fatal(err)
	}
	whole := int64(MaxWorkBytes / len(line))
	if rep.Items != whole {
		t.Errorf("items %d, want %d (the whole lines in the first 16 MiB)", rep.Items, whole)
	}
	if len(rep.Refused) != 1 || !strings.Contains(rep.Refused[0], "16 MiB") {
		t.Errorf("refused: %q", rep.Refused)
	}
}
