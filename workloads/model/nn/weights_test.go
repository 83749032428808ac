package nn

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestWeightsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	for _, m := range []*Model{NewMLP("mnist-mlp", []int{784, 32, 10}, 1), tinyCNN(2)} {
		for _, gz := range []bool{false, true} {
			path := filepath.Join(dir, m.Name+".jbw")
			meta := map[string]string{"seed": "1", "accuracy": "0.98"}
			if err := WriteWeights(path, ModelWeights(m, meta), gz); err != nil {
				t.Fatal(err)
			}
			w, err := ReadWeights(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(w.Meta, meta) || w.Model != m.Name || w.Arch != m.Arch() {
				t.Errorf("%s: header %q %q %v", m.Name, w.Model, w.Arch, w.Meta)
			}
			back, err := WeightsModel(w)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back, m) {
				t.Errorf("%s (gzip %v): the model does not round-trip", m.Name, gz)
			}
			raw, _ := os.ReadFile(path)
			if gz != (raw[0] == 0x1f) {
				t.Errorf("gzip %v but the file begins %x", gz, raw[:2])
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("%d files in the directory, want 2 (no temporary file left)", len(entries))
	}
}

func TestWeightsInt8(t *testing.T) {
	w := &WeightsFile{Model: "q", Arch: "in:1x2x1 dense:2:3", Tensors: []Tensor{
		{Name: "0.w", DType: "i8", Shape: []int{2, 3}, I8: []int8{1, -2, 3, -128, 127, 0}, Scales: []float32{0.5, 0.25, 1}},
		{Name: "0.b", DType: "f32", Shape: []int{3}, F32: []float32{1, 2, 3}},
	}}
	data, err := EncodeWeights(w)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DecodeWeights(data, "q.jbw")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, w) {
		t.Errorf("i8 round trip: %+v", back)
	}
	m, err := WeightsModel(back)
	if err != nil {
		t.Fatal(err)
	}
	if want := []float32{0.5, -0.5, 3, -64, 31.75, 0}; !reflect.DeepEqual(m.Layers[0].W, want) {
		t.Errorf("dequantised %v, want %v", m.Layers[0].W, want)
	}
}

// reseal recomputes the payload's SHA-256 in a header edited by a test, so
// the check under test is the one that fires.
func reseal(t *testing.T, data []byte) []byte {
	t.Helper()
	rest := data[len(weightsMagic):]
	nl := bytes.IndexByte(rest, '\n')
	sum := sha256.Sum256(rest[nl+1:])
	hdr := string(rest[:nl])
	i := strings.Index(hdr, `"payload_sha256":"`) + len(`"payload_sha256":"`)
	hdr = hdr[:i] + hex.EncodeToString(sum[:]) + hdr[i+64:]
	return append(append([]byte(weightsMagic+hdr), '\n'), rest[nl+1:]...)
}

func TestWeightsRefused(t *testing.T) {
	good, err := EncodeWeights(ModelWeights(NewMLP("m", []int{3, 2}, 1), nil))
	if err != nil {
		t.Fatal(err)
	}
	t.Log(string(good[:bytes.IndexByte(good[len(weightsMagic):], '\n')+len(weightsMagic)]))
	edit := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("%q not in the header", old)
		}
		return reseal(t, bytes.Replace(good, []byte(old), []byte(new), 1))
	}
	flip := append([]byte(nil), good...)
	flip[len(flip)-3] ^= 0x40
	nan := append([]byte(nil), good...)
	copy(nan[len(nan)-4:], []byte{0, 0, 0xc0, 0x7f})
	var gzBomb bytes.Buffer
	zw := gzip.NewWriter(&gzBomb)
	zw.Write(good)
	zw.Write(make([]byte, MaxWeights))
	zw.Close()
	for _, c := range []struct {
		name string
		data []byte
		want string
	}{
		{"magic", append([]byte("JBWEIGHTS 2"), good[11:]...), "JBWEIGHTS 1"},
		{"sha", flip, "payload sha256"},
		{"truncated", good[:len(good)-1], "payload_bytes is 32, but 31 bytes follow"},
		{"trailing", append(append([]byte(nil), good...), 0), "payload_bytes is 32, but 33 bytes follow"},
		{"no header end", []byte(weightsMagic + "{"), "no end to the header"},
		{"unknown field", edit(`"model":"m"`, `"model":"m","x":1`), `unknown field "x"`},
		{"duplicate key", edit(`"model":"m"`, `"model":"m","model":"n"`), "duplicate"},
		{"shape", edit(`"shape":[3,2]`, `"shape":[2,2]`), `tensors[0] "0.w": bytes is 24, but shape [2 2] of f32 needs 16`},
		{"zero dim", edit(`"shape":[3,2]`, `"shape":[0,2]`), `shape[0] is 0`},
		{"overflow", edit(`"shape":[3,2]`, `"shape":[4294967296,4294967296]`), "larger than"},
		{"offset", edit(`"offset":24`, `"offset":20`), `tensors[1] "0.b": offset is 20, want 24`},
		{"dtype", edit(`"dtype":"f32"`, `"dtype":"f16"`), `dtype "f16"`},
		{"scales on f32", edit(`"dtype":"f32"`, `"dtype":"f32","scales":[1,1]`), "scales are for i8"},
		{"i8 scales", edit(`"dtype":"f32","shape":[2]`, `"dtype":"i8","shape":[2],"scales":[1]`), "scales has 1 values"},
		{"duplicate name", edit(`"name":"0.b"`, `"name":"0.w"`), "name used twice"},
		{"NaN", reseal(t, nan), "value 1 is NaN"},
		{"trailing JSON", edit(`"}`+"\n", `"} {}`+"\n"), "after the JSON"},
		{"gzip bomb", gzBomb.Bytes(), "decompressed"},
	} {
		_, err := DecodeWeights(c.data, "dir/m.jbw")
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		if !strings.HasPrefix(err.Error(), "dir/m.jbw: ") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want the file named and %q", c.name, err, c.want)
		}
	}
}

func TestWeightsModelRefuses(t *testing.T) {
	m := tinyCNN(1)
	for _, c := range []struct {
		name string
		edit func(w *WeightsFile)
		want string
	}{
		{"wrong shape", func(w *WeightsFile) { w.Tensors[2].Shape = []int{9, 3, 5} }, `tensor "3.w" has shape [9 3 5], but arch`},
		{"missing", func(w *WeightsFile) { w.Tensors = w.Tensors[:5] }, `no tensor "5.b"`},
		{"extra", func(w *WeightsFile) {
			w.Tensors = append(w.Tensors, Tensor{Name: "9.w", DType: "f32", Shape: []int{1}, F32: []float32{1}})
		}, `"9.w" is not a layer`},
		{"arch", func(w *WeightsFile) { w.Arch = "in:6x6x2 dense:72:3" }, `tensor "0.w" has shape [3 3 2 3], but arch`},
		{"bad arch", func(w *WeightsFile) { w.Arch = "in:6x6x2 dense:71:3" }, "In is 71"},
		{"short values", func(w *WeightsFile) { w.Tensors[1].F32 = w.Tensors[1].F32[1:] }, `tensor "0.b": 2 values`},
	} {
		w := ModelWeights(m.Clone(), nil)
		c.edit(w)
		_, err := WeightsModel(w)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := ReadWeights(filepath.Join(t.TempDir(), "absent.jbw")); err == nil || !strings.Contains(err.Error(), "absent.jbw") {
		t.Errorf("absent file: %v", err)
	}
}

func FuzzDecodeWeights(f *testing.F) {
	for _, m := range []*Model{NewMLP("m", []int{3, 2}, 1), tinyCNN(1)} {
		data, err := EncodeWeights(ModelWeights(m, map[string]string{"k": "v"}))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(data)
		zw.Close()
		f.Add(gz.Bytes())
	}
	q, _ := EncodeWeights(&WeightsFile{Model: "q", Arch: "in:1x2x1 dense:2:1", Tensors: []Tensor{
		{Name: "0.w", DType: "i8", Shape: []int{2, 1}, I8: []int8{1, -2}, Scales: []float32{0.5}},
		{Name: "0.b", DType: "f32", Shape: []int{1}, F32: []float32{1}}}})
	f.Add(q)
	f.Fuzz(func(t *testing.T, data []byte) {
		w, err := DecodeWeights(data, "fuzz")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz: ") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		// What is accepted re-encodes to an accepted file with the same
		// content.
		again, err := EncodeWeights(w)
		if err != nil {
			t.Fatalf("accepted but not encodable: %v", err)
		}
		w2, err := DecodeWeights(again, "again")
		if err != nil || !reflect.DeepEqual(w, w2) {
			t.Fatalf("re-encoding changes the content: %v", err)
		}
		if m, err := WeightsModel(w); err == nil {
			if err := m.Validate(); err != nil {
				t.Fatalf("WeightsModel returned an invalid model: %v", err)
			}
		}
	})
}
