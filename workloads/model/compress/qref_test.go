package compress

import "math"

// qTrace is what the int8 reference computes for one example: the u8
// input of every layer, and every layer's float32 output before ReLU and
// requantisation (the last one is the logits).
type qTrace struct {
	q [][]uint8
	y [][]float32
}

// qReference is the package comment's int8 arithmetic written as plainly
// as it reads, one example at a time: the oracle the kernel must match
// bit for bit.
func qReference(q *QMLP, x []float32) qTrace {
	var t qTrace
	code := func(v, s float32) uint8 {
		r := math.RoundToEven(float64(max(v, 0) / s))
		return uint8(min(max(r, 0), 255))
	}
	in := make([]uint8, len(x))
	for k, v := range x {
		in[k] = code(v, q.Layers[0].InScale)
	}
	for i, d := range q.Layers {
		t.q = append(t.q, in)
		y := make([]float32, d.Out)
		for n := range d.Out {
			var acc int32
			for k := range d.In {
				acc += int32(in[k]) * int32(d.W[k*d.Out+n])
			}
			scale := d.InScale * d.WScale[n]
			prod := float32(float32(acc) * scale)
			y[n] = prod + d.B[n]
		}
		t.y = append(t.y, y)
		if i+1 < len(q.Layers) {
			next := make([]uint8, d.Out)
			for n, v := range y {
				next[n] = code(v, q.Layers[i+1].InScale)
			}
			in = next
		}
	}
	return t
}
