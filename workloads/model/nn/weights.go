package nn

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/joulebench/joulebench/internal/infile"
	"github.com/joulebench/joulebench/results"
)

// A weights file ("JBWEIGHTS 1", .jbw, or .jbw.gz gzip-compressed) holds a
// model's tensors, in three parts:
//
//  1. the line "JBWEIGHTS 1\n" (magic and format version);
//  2. a header: one line of JSON (at most 1 MiB, then "\n") with the
//     fields below, no others, no key twice;
//  3. the payload: every tensor's values, little-endian, in the header's
//     order, back to back, and nothing after them.
//
// The header's fields:
//
//	model           the model's name ("mnist-mlp")
//	arch            its layers, as Model.Arch writes them
//	                ("in:28x28x1 dense:784:1024 relu ... dense:1024:10")
//	meta            optional string → string map (how it was trained, its
//	                accuracy, its source); not interpreted here
//	tensors         list of {name, dtype, shape, offset, bytes, scales}:
//	  name          unique, non-empty; "<i>.w" and "<i>.b" are layer i's
//	                weights and biases
//	  dtype         "f32" (IEEE-754 binary32, finite) or "i8" (signed
//	                bytes, the value being i8 × scales[last index])
//	  shape         dimensions, each ≥ 1, row-major: a dense layer's w is
//	                [In, Out], b [Out]; a convolution's w [K, K, InC, OutC]
//	                (the (K·K·InC)×OutC matrix of package nn), b [OutC]
//	  offset        byte offset in the payload: 0 for the first tensor, and
//	                each next one starts where the one before ended
//	  bytes         product of shape × 4 for f32, × 1 for i8
//	  scales        i8 only, one finite, non-negative float per index of
//	                the last dimension (per output channel); absent for f32
//	payload_bytes   the payload's length, the sum of the tensors' bytes
//	payload_sha256  the payload's SHA-256, lower-case hex
//
// Anything else is refused, with the file and the field named: a bad magic
// line, an unknown or repeated key, a shape and byte count that disagree,
// offsets with gaps or overlaps, a payload shorter or longer than
// payload_bytes, a payload whose SHA-256 is not the header's, a NaN or
// infinite f32. The format is the same whether gzip'd or not; a gzip'd
// file's decompressed size is bounded by MaxWeights.
const weightsMagic = "JBWEIGHTS 1\n"

// MaxWeights bounds a weights file, compressed or decompressed (the
// reference MLP is 7.5 MB).
const MaxWeights = 64 << 20

// maxHeader bounds the JSON header line.
const maxHeader = 1 << 20

// Tensor is one named array of a weights file. DType is "f32" (F32 set)
// or "i8" (I8 and Scales set: the values are I8[i]·Scales[i mod
// Shape[last]], one scale per output channel).
type Tensor struct {
	Name   string
	DType  string
	Shape  []int
	F32    []float32
	I8     []int8
	Scales []float32
}

// WeightsFile is a weights file's content: a model's name, its
// architecture (Model.Arch), free-form metadata and its tensors.
type WeightsFile struct {
	Model   string
	Arch    string
	Meta    map[string]string
	Tensors []Tensor
}

type header struct {
	Model         string            `json:"model"`
	Arch          string            `json:"arch"`
	Meta          map[string]string `json:"meta,omitempty"`
	Tensors       []tensorHeader    `json:"tensors"`
	PayloadBytes  int64             `json:"payload_bytes"`
	PayloadSHA256 string            `json:"payload_sha256"`
}

type tensorHeader struct {
	Name   string    `json:"name"`
	DType  string    `json:"dtype"`
	Shape  []int     `json:"shape"`
	Offset int64     `json:"offset"`
	Bytes  int64     `json:"bytes"`
	Scales []float32 `json:"scales,omitempty"`
}

// elems checks a tensor's name, dtype, shape and scales and returns its
// element count and size in bytes.
func checkTensor(name, dtype string, shape []int, scales []float32) (n int, size int64, err error) {
	if name == "" {
		return 0, 0, errors.New("name is empty")
	}
	if len(shape) == 0 {
		return 0, 0, errors.New("shape is empty")
	}
	n = 1
	for i, d := range shape {
		if d <= 0 {
			return 0, 0, fmt.Errorf("shape[%d] is %d, must be positive", i, d)
		}
		if n > MaxWeights/d {
			return 0, 0, fmt.Errorf("shape %v is larger than a weights file can hold", shape)
		}
		n *= d
	}
	switch dtype {
	case "f32":
		if scales != nil {
			return 0, 0, errors.New("scales are for i8 tensors only")
		}
		return n, 4 * int64(n), nil
	case "i8":
		if last := shape[len(shape)-1]; len(scales) != last {
			return 0, 0, fmt.Errorf("scales has %d values, want one per index of the last dimension, %d", len(scales), last)
		}
		for i, s := range scales {
			if !(s >= 0) || math.IsInf(float64(s), 0) {
				return 0, 0, fmt.Errorf("scales[%d] is %v, must be finite and not negative", i, s)
			}
		}
		return n, int64(n), nil
	}
	return 0, 0, fmt.Errorf("dtype %q, want f32 or i8", dtype)
}

// EncodeWeights writes w in the weights file format (not gzip'd). It
// refuses what DecodeWeights would refuse.
func EncodeWeights(w *WeightsFile) ([]byte, error) {
	if w.Model == "" {
		return nil, errors.New("nn: encode weights: the model has no name")
	}
	h := header{Model: w.Model, Arch: w.Arch, Meta: w.Meta, Tensors: make([]tensorHeader, len(w.Tensors))}
	var payload bytes.Buffer
	seen := map[string]bool{}
	for i, t := range w.Tensors {
		fail := func(err error) ([]byte, error) {
			return nil, fmt.Errorf("nn: encode weights: tensor %d %q: %w", i, t.Name, err)
		}
		n, size, err := checkTensor(t.Name, t.DType, t.Shape, t.Scales)
		if err != nil {
			return fail(err)
		}
		if seen[t.Name] {
			return fail(errors.New("name used twice"))
		}
		seen[t.Name] = true
		h.Tensors[i] = tensorHeader{Name: t.Name, DType: t.DType, Shape: t.Shape, Offset: int64(payload.Len()), Bytes: size, Scales: t.Scales}
		switch t.DType {
		case "f32":
			if len(t.F32) != n || t.I8 != nil {
				return fail(fmt.Errorf("f32 tensor has %d f32 and %d i8 values, want %d f32", len(t.F32), len(t.I8), n))
			}
			if j := nonFinite(t.F32); j >= 0 {
				return fail(fmt.Errorf("value %d is %v, not finite", j, t.F32[j]))
			}
			var b [4]byte
			for _, v := range t.F32 {
				binary.LittleEndian.PutUint32(b[:], math.Float32bits(v))
				payload.Write(b[:])
			}
		case "i8":
			if len(t.I8) != n || t.F32 != nil {
				return fail(fmt.Errorf("i8 tensor has %d i8 and %d f32 values, want %d i8", len(t.I8), len(t.F32), n))
			}
			for _, v := range t.I8 {
				payload.WriteByte(byte(v))
			}
		}
		if payload.Len() > MaxWeights {
			return nil, fmt.Errorf("nn: encode weights: more than %s of tensors", infile.Human(MaxWeights))
		}
	}
	sum := sha256.Sum256(payload.Bytes())
	h.PayloadBytes, h.PayloadSHA256 = int64(payload.Len()), hex.EncodeToString(sum[:])
	hj, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("nn: encode weights: %w", err)
	}
	if len(hj) > maxHeader {
		return nil, fmt.Errorf("nn: encode weights: the header is %d bytes, more than %s", len(hj), infile.Human(maxHeader))
	}
	out := make([]byte, 0, len(weightsMagic)+len(hj)+1+payload.Len())
	out = append(out, weightsMagic...)
	out = append(out, hj...)
	out = append(out, '\n')
	return append(out, payload.Bytes()...), nil
}

// DecodeWeights parses a weights file, gzip'd or not; src names it in
// errors. Every check of the format (see weightsMagic) is made.
func DecodeWeights(data []byte, src string) (*WeightsFile, error) {
	fail := func(format string, args ...any) (*WeightsFile, error) {
		return nil, fmt.Errorf("%s: weights: "+format, append([]any{src}, args...)...)
	}
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return fail("gunzip: %v", err)
		}
		plain, err := io.ReadAll(io.LimitReader(zr, MaxWeights+1))
		if err != nil {
			return fail("gunzip: %v", err)
		}
		if len(plain) > MaxWeights {
			return fail("more than %s decompressed, the limit for a weights file", infile.Human(MaxWeights))
		}
		data = plain
	}
	if !bytes.HasPrefix(data, []byte(weightsMagic)) {
		return fail("does not begin with %q: not a joulebench weights file (or a newer format)", strings.TrimSpace(weightsMagic))
	}
	rest := data[len(weightsMagic):]
	nl := bytes.IndexByte(rest[:min(len(rest), maxHeader+1)], '\n')
	if nl < 0 {
		return fail("no end to the header line within %s", infile.Human(maxHeader))
	}
	hj, payload := rest[:nl], rest[nl+1:]
	var h header
	dec := json.NewDecoder(bytes.NewReader(hj))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return fail("header: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fail("header: data after the JSON object")
	}
	// After the decode, so that only a header of the right shape reaches
	// the duplicate check.
	if err := results.CheckDuplicateKeys(hj); err != nil {
		return fail("header: %v", err)
	}
	if h.Model == "" {
		return fail("header: model is empty")
	}
	if h.PayloadBytes != int64(len(payload)) {
		return fail("header: payload_bytes is %d, but %d bytes follow the header (the file is truncated or has bytes appended)", h.PayloadBytes, len(payload))
	}
	sum := sha256.Sum256(payload)
	if got := hex.EncodeToString(sum[:]); got != h.PayloadSHA256 {
		return fail("payload sha256 %s does not match the header's %q: the file is corrupt or was edited", got, h.PayloadSHA256)
	}
	if len(h.Meta) == 0 {
		h.Meta = nil // "meta": {} is no metadata, as EncodeWeights writes it
	}
	w := &WeightsFile{Model: h.Model, Arch: h.Arch, Meta: h.Meta, Tensors: make([]Tensor, len(h.Tensors))}
	seen := map[string]bool{}
	var off int64
	for i, th := range h.Tensors {
		tfail := func(format string, args ...any) (*WeightsFile, error) {
			return fail("tensors[%d] %q: "+format, append([]any{i, th.Name}, args...)...)
		}
		n, size, err := checkTensor(th.Name, th.DType, th.Shape, th.Scales)
		if err != nil {
			return tfail("%v", err)
		}
		if seen[th.Name] {
			return tfail("name used twice")
		}
		seen[th.Name] = true
		if th.Bytes != size {
			return tfail("bytes is %d, but shape %v of %s needs %d", th.Bytes, th.Shape, th.DType, size)
		}
		if th.Offset != off {
			return tfail("offset is %d, want %d: tensors lie back to back in header order", th.Offset, off)
		}
		if size > int64(len(payload))-off {
			return tfail("bytes %d at offset %d run past the payload's end (%d)", size, off, len(payload))
		}
		raw := payload[off : off+size]
		off += size
		t := Tensor{Name: th.Name, DType: th.DType, Shape: th.Shape, Scales: th.Scales}
		switch th.DType {
		case "f32":
			t.F32 = make([]float32, n)
			for j := range t.F32 {
				v := math.Float32frombits(binary.LittleEndian.Uint32(raw[4*j:]))
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
					return tfail("value %d is %v, not finite", j, v)
				}
				t.F32[j] = v
			}
		case "i8":
			t.I8 = make([]int8, n)
			for j, b := range raw {
				t.I8[j] = int8(b)
			}
		}
		w.Tensors[i] = t
	}
	if off != int64(len(payload)) {
		return fail("header: the tensors hold %d bytes, but payload_bytes is %d", off, len(payload))
	}
	return w, nil
}

// ReadWeights reads and decodes the weights file at path, gzip'd or not,
// bounded by MaxWeights.
func ReadWeights(path string) (*WeightsFile, error) {
	data, err := infile.Read(path, MaxWeights)
	if err != nil {
		return nil, fmt.Errorf("read weights: %w", err)
	}
	return DecodeWeights(data, path)
}

// WriteWeights writes w to path atomically (a synced temporary file in the
// same directory, renamed over path), gzip'd if gzipped.
func WriteWeights(path string, w *WeightsFile, gzipped bool) error {
	data, err := EncodeWeights(w)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if gzipped {
		var b bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
		zw.Write(data)
		if err := zw.Close(); err != nil {
			return fmt.Errorf("write %s: %w", path, err)
		}
		data = b.Bytes()
	}
	return results.WriteFileAtomic(path, data, 0o644)
}

// Float32 returns t's values as float32, dequantising an i8 tensor.
func (t *Tensor) Float32() []float32 {
	if t.DType != "i8" {
		return t.F32
	}
	out := make([]float32, len(t.I8))
	last := len(t.Scales)
	for i, q := range t.I8 {
		out[i] = float32(q) * t.Scales[i%last]
	}
	return out
}

// ModelWeights returns m's weights as a WeightsFile: for each dense or
// convolution layer i, tensors "<i>.w" and "<i>.b" (f32, sharing m's
// slices), and Arch = m.Arch(). Masks and Frozen are not kept: a pruned
// weight is simply 0.
func ModelWeights(m *Model, meta map[string]string) *WeightsFile {
	w := &WeightsFile{Model: m.Name, Arch: m.Arch(), Meta: meta}
	for i, l := range m.Layers {
		var shape []int
		switch l.Kind {
		case KindDense:
			shape = []int{l.In, l.Out}
		case KindConv:
			shape = []int{l.K, l.K, l.InC, l.OutC}
		default:
			continue
		}
		p := strconv.Itoa(i)
		w.Tensors = append(w.Tensors,
			Tensor{Name: p + ".w", DType: "f32", Shape: shape, F32: l.W},
			Tensor{Name: p + ".b", DType: "f32", Shape: []int{len(l.B)}, F32: l.B})
	}
	return w
}

// WeightsModel rebuilds the model a WeightsFile describes: its Arch gives
// the layers, and each dense or convolution layer i takes tensors "<i>.w"
// and "<i>.b", whose shapes must be the layer's (i8 tensors are
// dequantised). A missing, extra or mis-shaped tensor is refused, named.
func WeightsModel(w *WeightsFile) (*Model, error) {
	m, err := parseArch(w.Model, w.Arch)
	if err != nil {
		return nil, fmt.Errorf("weights of %q: %w", w.Model, err)
	}
	byName := make(map[string]*Tensor, len(w.Tensors))
	for i := range w.Tensors {
		t := &w.Tensors[i]
		if byName[t.Name] != nil {
			return nil, fmt.Errorf("weights of %q: tensor %q appears twice", w.Model, t.Name)
		}
		byName[t.Name] = t
	}
	take := func(name string, shape []int) ([]float32, error) {
		t := byName[name]
		if t == nil {
			return nil, fmt.Errorf("weights of %q: no tensor %q (arch %q needs it, shape %v)", w.Model, name, w.Arch, shape)
		}
		delete(byName, name)
		if !equalInts(t.Shape, shape) {
			return nil, fmt.Errorf("weights of %q: tensor %q has shape %v, but arch %q needs %v", w.Model, name, t.Shape, w.Arch, shape)
		}
		n, _, err := checkTensor(t.Name, t.DType, t.Shape, t.Scales)
		if err == nil && len(t.F32)+len(t.I8) != n {
			err = fmt.Errorf("%d values for shape %v", len(t.F32)+len(t.I8), t.Shape)
		}
		if err != nil {
			return nil, fmt.Errorf("weights of %q: tensor %q: %w", w.Model, name, err)
		}
		return cloneF32(t.Float32()), nil
	}
	for i := range m.Layers {
		l := &m.Layers[i]
		var wShape []int
		switch l.Kind {
		case KindDense:
			wShape = []int{l.In, l.Out}
		case KindConv:
			wShape = []int{l.K, l.K, l.InC, l.OutC}
		default:
			continue
		}
		p := strconv.Itoa(i)
		if l.W, err = take(p+".w", wShape); err != nil {
			return nil, err
		}
		if l.B, err = take(p+".b", []int{wShape[len(wShape)-1]}); err != nil {
			return nil, err
		}
	}
	for _, t := range w.Tensors {
		if byName[t.Name] != nil {
			return nil, fmt.Errorf("weights of %q: tensor %q is not a layer of arch %q", w.Model, t.Name, w.Arch)
		}
	}
	if err := m.Validate(); err != nil {
		return nil, fmt.Errorf("weights of %q: %w", w.Model, err)
	}
	return m, nil
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
