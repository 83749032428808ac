package command

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// MaxWorkBytes is the most of a work file read for one repetition: 16 MiB,
// about 300,000 work lines of 50 bytes. Past it, the rest of what the
// repetition appended is ignored and a refusal says so; the work reported
// in the first 16 MiB still counts.
const MaxWorkBytes = 16 << 20

// MaxWorkLine is the longest work line accepted, in bytes, newline not
// counted: a line of the three fields is under 100 bytes.
const MaxWorkLine = 4096

// WorkReport is the work a command reported in the lines it appended to
// its work file during one repetition.
type WorkReport struct {
	// Items is the sum of the accepted lines' items; ItemsReported says
	// whether any accepted line had an items field.
	Items         int64
	ItemsReported bool
	// FLOPs is the sum of the accepted lines' flops.
	FLOPs float64
	// Accuracy is the last accepted accuracy, when HasAccuracy.
	Accuracy    float64
	HasAccuracy bool
	// Lines is the number of lines read, blank ones included.
	Lines int
	// Refused lists each refused line, "line N: why", in file order.
	Refused []string
}

// ParseWorkFile reads work lines from r: JSON objects such as
// {"items":64,"flops":1.2e9,"accuracy":0.91}, one a line, each field
// optional. items is a non-negative integer, flops a non-negative finite
// number, accuracy a number from 0 to 1. A line with an unknown or
// repeated field, a value of the wrong type or range, or anything after
// the object is refused as a whole and listed with its number and why;
// blank lines are skipped. At most MaxWorkBytes are read and no line may
// exceed MaxWorkLine bytes. Only an error reading r is returned as an
// error: the contents, whatever they are, give a report.
func ParseWorkFile(r io.Reader) (WorkReport, error) {
	var rep WorkReport
	buf, err := io.ReadAll(io.LimitReader(r, MaxWorkBytes+1))
	if err != nil {
		return rep, err
	}
	truncated := len(buf) > MaxWorkBytes
	if truncated {
		buf = buf[:MaxWorkBytes]
	}
	for n := 1; len(buf) > 0; n++ {
		line := buf
		rest := []byte(nil)
		if i := bytes.IndexByte(buf, '\n'); i >= 0 {
			line, rest = buf[:i], buf[i+1:]
		} else if truncated {
			// The last, cut line is not judged: its end was not read.
			break
		}
		buf = rest
		rep.Lines++
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if len(line) > MaxWorkLine {
			rep.Refused = append(rep.Refused, fmt.Sprintf("line %d: %d bytes long; a work line is at most %d", n, len(line), MaxWorkLine))
			continue
		}
		w, err := parseWorkLine(line)
		if err != nil {
			rep.Refused = append(rep.Refused, fmt.Sprintf("line %d: %v", n, err))
			continue
		}
		if err := rep.add(w); err != nil {
			rep.Refused = append(rep.Refused, fmt.Sprintf("line %d: %v", n, err))
		}
	}
	if truncated {
		rep.Refused = append(rep.Refused, fmt.Sprintf("the repetition appended more than %d bytes (16 MiB) to the work file: the rest was not read, and its work is not counted", MaxWorkBytes))
	}
	return rep, nil
}

// workLine is one accepted line's fields.
type workLine struct {
	items    int64
	flops    float64
	accuracy float64
	// fields names the fields the line has.
	fields map[string]bool
}

// add sums an accepted line into the report, refusing one whose sum would
// overflow.
func (rep *WorkReport) add(w workLine) error {
	if w.fields["items"] {
		if w.items > math.MaxInt64-rep.Items {
			return fmt.Errorf("items %d would make the repetition's sum overflow a 64-bit integer", w.items)
		}
	}
	if w.fields["flops"] && math.IsInf(rep.FLOPs+w.flops, 0) {
		return fmt.Errorf("flops %g would make the repetition's sum infinite", w.flops)
	}
	if w.fields["items"] {
		rep.Items += w.items
		rep.ItemsReported = true
	}
	if w.fields["flops"] {
		rep.FLOPs += w.flops
	}
	if w.fields["accuracy"] {
		rep.Accuracy, rep.HasAccuracy = w.accuracy, true
	}
	return nil
}

// parseWorkLine parses one line token by token, so that a repeated key,
// which encoding/json would silently let win, is refused.
func parseWorkLine(line []byte) (workLine, error) {
	w := workLine{fields: map[string]bool{}}
	if !json.Valid(line) {
		return w, errors.New("not valid JSON")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return w, err
	}
	if tok != json.Delim('{') {
		return w, fmt.Errorf("%s: a work line is a JSON object such as {\"items\":1}", jsonKind(tok))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return w, err
		}
		key, _ := tok.(string)
		switch key {
		case "items", "flops", "accuracy":
		default:
			return w, fmt.Errorf("unknown field %q: a work line has only items, flops and accuracy", truncate(key))
		}
		if w.fields[key] {
			return w, fmt.Errorf("field %q appears twice", key)
		}
		w.fields[key] = true
		tok, err = dec.Token()
		if err != nil {
			return w, err
		}
		num, ok := tok.(json.Number)
		if !ok {
			return w, fmt.Errorf("%s is %s, not a number", key, jsonKind(tok))
		}
		switch key {
		case "items":
			// Digits only: 1e3 or 2.0 are not counts.
			if strings.ContainsAny(num.String(), ".eE") {
				return w, fmt.Errorf("items is %s: it must be a whole number written without a fraction or exponent", truncate(num.String()))
			}
			v, err := strconv.ParseInt(num.String(), 10, 64)
			if err != nil {
				return w, fmt.Errorf("items is %s: not a 64-bit integer", truncate(num.String()))
			}
			if v < 0 {
				return w, fmt.Errorf("items is %d: it must not be negative", v)
			}
			w.items = v
		case "flops":
			v, err := strconv.ParseFloat(num.String(), 64)
			if err != nil || math.IsInf(v, 0) {
				return w, fmt.Errorf("flops is %s: not a finite number", truncate(num.String()))
			}
			if v < 0 {
				return w, fmt.Errorf("flops is %g: it must not be negative", v)
			}
			w.flops = v
		case "accuracy":
			v, err := strconv.ParseFloat(num.String(), 64)
			if err != nil || !(v >= 0 && v <= 1) {
				return w, fmt.Errorf("accuracy is %s: it must be a fraction from 0 to 1", truncate(num.String()))
			}
			w.accuracy = v
		}
	}
	// The closing brace; json.Valid has ruled out anything after it.
	if _, err := dec.Token(); err != nil {
		return w, err
	}
	return w, nil
}

// jsonKind names the JSON kind of a token, for messages.
func jsonKind(tok json.Token) string {
	switch v := tok.(type) {
	case json.Delim:
		if v == '{' {
			return "an object"
		}
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return "a number"
}

// truncate shortens outside text quoted in a message.
func truncate(s string) string {
	const max = 40
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
