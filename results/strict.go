package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrDuplicateKey is wrapped when a record has an object with the same key
// twice. encoding/json would keep the last one silently, so two readers (a
// person reading the file, a tool that keeps the first) could see two
// different records under one digest.
var ErrDuplicateKey = errors.New("duplicate JSON key")

// CheckDuplicateKeys walks data's JSON tokens and refuses any object that
// names a key twice (after unescaping: "a" and "\u0061" are one key),
// saying where: "workloads[0].reps[1].energy_j". Parsers disagree on which
// copy wins, so a document with a duplicate key can say one thing to one
// reader and another to the next. Records and signed statements are held
// to it.
func CheckDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	type frame struct {
		obj  bool
		keys map[string]bool
		key  string // the object's current key, for the path
		idx  int    // the array's current index
	}
	var stack []*frame
	path := func() string {
		var b bytes.Buffer
		for _, f := range stack {
			if f.obj {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				fmt.Fprintf(&b, "[%d]", f.idx)
			}
		}
		return b.String()
	}
	// expectKey: inside an object, the next string token is a key.
	expectKey := false
	afterValue := func() {
		if len(stack) == 0 {
			return
		}
		top := stack[len(stack)-1]
		if top.obj {
			expectKey = true
		} else {
			top.idx++
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{':
				stack = append(stack, &frame{obj: true, keys: map[string]bool{}})
				expectKey = true
			case '[':
				stack = append(stack, &frame{})
				expectKey = false
			case '}', ']':
				// An empty object leaves expectKey set: the next string
				// belongs to the enclosing container, not this object.
				stack = stack[:len(stack)-1]
				expectKey = false
				afterValue()
			}
		case string:
			if expectKey {
				top := stack[len(stack)-1]
				if top.keys[t] {
					top.key = t
					return fmt.Errorf("%w %q at %s", ErrDuplicateKey, t, path())
				}
				top.keys[t], top.key = true, t
				expectKey = false
				continue
			}
			afterValue()
		default:
			afterValue()
		}
	}
}
