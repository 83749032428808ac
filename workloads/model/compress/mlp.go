package compress

import (
	"errors"
	"fmt"
	"math"

	"github.com/joulebench/joulebench/workloads/model/nn"
)

// ErrNotMLP is returned for a model this package cannot handle: anything
// but dense and ReLU layers, or an MLP whose shapes do not chain.
var ErrNotMLP = errors.New("not an MLP of dense and ReLU layers")

// dense is one dense layer of an MLP, found in m.Layers.
type dense struct {
	idx  int  // index in m.Layers
	relu bool // a ReLU layer follows it
}

// denseLayers checks that m is a sequence of dense layers, each followed by
// at most one ReLU layer, the last one by none (its outputs are the logits),
// with shapes that chain and weights of the right length, and returns them.
// Masks, when set, must have W's length.
func denseLayers(m *nn.Model) ([]dense, error) {
	if m == nil {
		return nil, fmt.Errorf("%w: nil model", ErrNotMLP)
	}
	var ds []dense
	for i, l := range m.Layers {
		switch l.Kind {
		case nn.KindDense:
			if l.In <= 0 || l.Out <= 0 {
				return nil, fmt.Errorf("%w: layer %d: dense %d×%d", ErrNotMLP, i, l.In, l.Out)
			}
			if len(l.W) != l.In*l.Out || len(l.B) != l.Out {
				return nil, fmt.Errorf("%w: layer %d: dense %d×%d has %d weights and %d biases", ErrNotMLP, i, l.In, l.Out, len(l.W), len(l.B))
			}
			if l.Mask != nil && len(l.Mask) != len(l.W) {
				return nil, fmt.Errorf("%w: layer %d: mask of %d for %d weights", ErrNotMLP, i, len(l.Mask), len(l.W))
			}
			if len(ds) > 0 {
				prev := m.Layers[ds[len(ds)-1].idx]
				if prev.Out != l.In {
					return nil, fmt.Errorf("%w: layer %d: input %d after %d outputs", ErrNotMLP, i, l.In, prev.Out)
				}
			} else if in := m.Inputs(); in != 0 && in != l.In {
				return nil, fmt.Errorf("%w: layer %d: input %d for %d-pixel images", ErrNotMLP, i, l.In, in)
			}
			ds = append(ds, dense{idx: i})
		case nn.KindReLU:
			if i == 0 || m.Layers[i-1].Kind != nn.KindDense {
				return nil, fmt.Errorf("%w: layer %d: ReLU not after a dense layer", ErrNotMLP, i)
			}
			ds[len(ds)-1].relu = true
		default:
			return nil, fmt.Errorf("%w: layer %d is %q", ErrNotMLP, i, l.Kind)
		}
	}
	if len(ds) == 0 {
		return nil, fmt.Errorf("%w: no dense layer", ErrNotMLP)
	}
	if ds[len(ds)-1].relu {
		return nil, fmt.Errorf("%w: ReLU after the logits", ErrNotMLP)
	}
	return ds, nil
}

// finite reports whether every value of xs is a finite number.
func finite(xs []float32) bool {
	for _, x := range xs {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}
