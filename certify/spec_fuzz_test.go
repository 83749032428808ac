package certify

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseSpec: a spec file from outside (--spec) never panics the
// parser, and whatever it accepts has seven monotone bands per class.
func FuzzParseSpec(f *testing.F) {
	_, raw := DefaultSpec()
	f.Add(raw)
	if files, _ := filepath.Glob(filepath.Join("testdata", "spec", "*.json")); len(files) > 0 {
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := ParseSpec(data, "fuzz.json")
		if err != nil {
			return
		}
		for name, c := range s.Classes {
			if len(c.Bands) != 7 {
				t.Fatalf("class %s accepted with %d bands", name, len(c.Bands))
			}
		}
		if _, ok := s.Profiles[DefaultProfile]; !ok {
			t.Fatal("accepted a spec without the certify profile")
		}
	})
}

// FuzzDecodeCertificate: the predicate decoder verify uses (strict JSON
// into Certificate) never panics, and what it accepts encodes again.
func FuzzDecodeCertificate(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join("testdata", "golden", "certificate.json")); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"version":"1"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var c Certificate
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&c); err != nil {
			return
		}
		if _, err := json.Marshal(&c); err != nil {
			t.Fatalf("decoded certificate does not encode: %v", err)
		}
	})
}
