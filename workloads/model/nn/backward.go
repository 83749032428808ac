package nn

// The backward passes. Each takes the gradient of the loss with respect
// to the layer's output, dy, and writes the gradients of its weights and
// biases (when dW is not nil) and of its input (when dx is not nil). The
// batch mean is already in dy.

// denseBackward: dW = xᵀ·dy, dB = Σ rows of dy, dx = dy·Wᵀ.
func denseBackward(g Gemm, l *Layer, x, dy []float32, n int, dW, dB, dx []float32) {
	if dW != nil {
		g.Sgemm(true, false, l.In, l.Out, n, 1, x, l.In, dy, l.Out, 0, dW, l.Out)
		colSums(dy, n, l.Out, dB)
	}
	if dx != nil {
		g.Sgemm(false, true, n, l.In, l.Out, 1, dy, l.Out, l.W, l.Out, 0, dx, l.In)
	}
}

// convBackward: with col the layer's im2col matrix from the forward pass,
// dW = colᵀ·dy, dB = Σ rows of dy, and dx = col2im(dy·Wᵀ). dy·Wᵀ is
// written over col once dW is done with it.
func convBackward(g Gemm, l *Layer, col, dy []float32, n int, dW, dB, dx []float32) {
	rows, kkc := n*l.Height*l.Width, l.K*l.K*l.InC
	if dW != nil {
		g.Sgemm(true, false, kkc, l.OutC, rows, 1, col, kkc, dy, l.OutC, 0, dW, l.OutC)
		colSums(dy, rows, l.OutC, dB)
	}
	if dx != nil {
		g.Sgemm(false, true, rows, kkc, l.OutC, 1, dy, l.OutC, l.W, l.OutC, 0, col, kkc)
		col2im(l, col, n, dx)
	}
}

// col2im adds each patch of col back onto the input pixels it came from,
// the adjoint of im2col.
func col2im(l *Layer, col []float32, n int, dx []float32) {
	p, kc := l.K/2, l.K*l.InC
	kkc := l.K * kc
	dx = dx[:n*l.Height*l.Width*l.InC]
	clear(dx)
	for b := range n {
		img := dx[b*l.Height*l.Width*l.InC : (b+1)*l.Height*l.Width*l.InC]
		for oh := range l.Height {
			for ow := range l.Width {
				row := col[((b*l.Height+oh)*l.Width+ow)*kkc:][:kkc]
				lo, hi := max(0, p-ow), min(l.K, l.Width+p-ow)
				for kh := range l.K {
					ih := oh + kh - p
					if ih < 0 || ih >= l.Height {
						continue
					}
					src := row[kh*kc+lo*l.InC : kh*kc+hi*l.InC]
					dst := img[(ih*l.Width+ow+lo-p)*l.InC:][:len(src)]
					for i, v := range src {
						dst[i] += v
					}
				}
			}
		}
	}
}

// maxPoolBackward routes each output's gradient to the input it came
// from.
func maxPoolBackward(dy []float32, arg []int32, dx []float32) {
	clear(dx)
	for i, a := range arg[:len(dy)] {
		dx[a] += dy[i]
	}
}

// reluBackward: dx = dy where the output y was positive, else 0.
func reluBackward(y, dy, dx []float32) {
	for i, v := range y[:len(dy)] {
		if v > 0 {
			dx[i] = dy[i]
		} else {
			dx[i] = 0
		}
	}
}

func colSums(m []float32, rows, cols int, out []float32) {
	clear(out)
	for r := range rows {
		for j, v := range m[r*cols : (r+1)*cols] {
			out[j] += v
		}
	}
}
