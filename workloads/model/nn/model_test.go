package nn

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
)

func ExampleModel_FLOPsPerExample() {
	m := NewMLP("mnist-mlp", []int{784, 1024, 1024, 10}, 1)
	fmt.Println(m.FLOPsPerExample(), 2*(784*1024+1024*1024+1024*10))
	fmt.Println(m.Params(), m.Classes(), m.Inputs())
	fmt.Println(m.Arch())
	// Output:
	// 3.723264e+06 3723264
	// 1863690 10 784
	// in:28x28x1 dense:784:1024 relu dense:1024:1024 relu dense:1024:10
}

func ExampleNewCNN() {
	m := NewCNN("mnist-cnn", 1)
	// conv1 2·28·28·9·32, conv2 2·14·14·288·64, dense 2·3136·128, 2·128·10.
	fmt.Println(m.FLOPsPerExample(), 2*(28*28*9*32+14*14*288*64+3136*128+128*10))
	fmt.Println(m.Params())
	// Output:
	// 8.482304e+06 8482304
	// 421642
}

func TestNewModelsValidate(t *testing.T) {
	for _, m := range []*Model{NewMLP("mlp", []int{784, 64, 10}, 1), NewMLP("flat", []int{5, 3}, 1), NewCNN("cnn", 2), tinyCNN(3)} {
		if err := m.Validate(); err != nil {
			t.Errorf("%s: %v", m.Name, err)
		}
		p, err := ParseArch(m.Name, m.Arch())
		if err != nil {
			t.Fatalf("%s: ParseArch(Arch()): %v", m.Name, err)
		}
		if p.Arch() != m.Arch() {
			t.Errorf("%s: arch %q round-trips to %q", m.Name, m.Arch(), p.Arch())
		}
	}
	// He-normal: the standard deviation of the first layer is √(2/784).
	m := NewMLP("mlp", []int{784, 1024, 10}, 7)
	var s2 float64
	for _, w := range m.Layers[0].W {
		s2 += float64(w) * float64(w)
	}
	if sd := math.Sqrt(s2 / float64(len(m.Layers[0].W))); math.Abs(sd-math.Sqrt(2.0/784)) > 0.002 {
		t.Errorf("first layer sd %.4f, want %.4f", sd, math.Sqrt(2.0/784))
	}
	if !reflect.DeepEqual(NewMLP("a", []int{4, 3}, 5), NewMLP("a", []int{4, 3}, 5)) {
		t.Error("the same seed gives different weights")
	}
	if reflect.DeepEqual(NewMLP("a", []int{4, 3}, 5), NewMLP("a", []int{4, 3}, 6)) {
		t.Error("two seeds give the same weights")
	}
}

func TestClone(t *testing.T) {
	m := tinyCNN(1)
	m.Layers[0].Mask = make([]float32, len(m.Layers[0].W))
	c := m.Clone()
	if !reflect.DeepEqual(m, c) {
		t.Fatal("clone differs")
	}
	c.Layers[0].W[0]++
	c.Layers[0].B[0]++
	c.Layers[0].Mask[0]++
	c.Layers[1].Kind = KindMaxPool
	if m.Layers[0].W[0] == c.Layers[0].W[0] || m.Layers[0].B[0] == c.Layers[0].B[0] || m.Layers[0].Mask[0] != 0 || m.Layers[1].Kind != KindReLU {
		t.Error("clone shares memory with the original")
	}
}

func TestValidateRefuses(t *testing.T) {
	for _, c := range []struct {
		name  string
		edit  func(m *Model)
		wants []string
	}{
		{"short W", func(m *Model) { m.Layers[3].W = m.Layers[3].W[1:] }, []string{"layer 3 (dense)", "W has 134 values, want 135"}},
		{"short B", func(m *Model) { m.Layers[0].B = nil }, []string{"layer 0 (conv)", "B has 0 values"}},
		{"NaN", func(m *Model) { m.Layers[5].W[2] = float32(math.NaN()) }, []string{"layer 5", "W[2] is NaN"}},
		{"Inf bias", func(m *Model) { m.Layers[5].B[1] = float32(math.Inf(-1)) }, []string{"layer 5", "B[1] is -Inf"}},
		{"dense In", func(m *Model) { m.Layers[3].In = 26 }, []string{"layer 3 (dense)", "In is 26", "gives 27"}},
		{"conv InC", func(m *Model) { m.Layers[0].InC = 1 }, []string{"layer 0 (conv)", "InC"}},
		{"even K", func(m *Model) { m.Layers[0].K = 2 }, []string{"layer 0 (conv)", "odd"}},
		{"pool shape", func(m *Model) { m.Layers[2].Height = 5 }, []string{"layer 2 (maxpool)"}},
		{"relu shape", func(m *Model) { m.Layers[4].Channels = 6 }, []string{"layer 4 (relu)"}},
		{"mask length", func(m *Model) { m.Layers[3].Mask = make([]float32, 3) }, []string{"layer 3", "Mask has 3 values"}},
		{"mask value", func(m *Model) { m.Layers[3].Mask = make([]float32, 135); m.Layers[3].Mask[7] = 0.5 }, []string{"Mask[7] is 0.5"}},
		{"last not dense", func(m *Model) { m.Layers = m.Layers[:5] }, []string{"layer 4 (relu)", "last layer must be dense"}},
		{"kind", func(m *Model) { m.Layers[1].Kind = "tanh" }, []string{"layer 1", `unknown kind "tanh"`}},
		{"input", func(m *Model) { m.InC = 0 }, []string{"input shape"}},
		{"huge", func(m *Model) { m.Layers[3].In, m.Layers[3].Out = 1<<20, 1<<20 }, []string{"layer 3"}},
	} {
		m := tinyCNN(1)
		c.edit(m)
		err := m.Validate()
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, w := range c.wants {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, err, w)
			}
		}
	}
	// ReLU layers may leave their shape zero.
	m := tinyCNN(1)
	m.Layers[1].Height, m.Layers[1].Width, m.Layers[1].Channels = 0, 0, 0
	if err := m.Validate(); err != nil {
		t.Error(err)
	}
}

func TestParseArchRefuses(t *testing.T) {
	for _, a := range []string{
		"", "dense:4:3", "in:4x4 dense:16:3", "in:4x4x0 dense:0:3", "in:2x2x1 dense:4:3 relu",
		"in:2x2x1 dense:5:3", "in:2x2x1 conv:3:1:2 dense:9:2", "in:2x2x1 dense:4:x", "in:2x2x1 sigmoid dense:4:2",
		"in:1x1x1 maxpool dense:1:2", "in:2x2x1 conv:2:1:1 dense:4:2", "in:9x9x9 dense:729:999999999",
		"in:100000x100000x100000 dense:1:1",
	} {
		if m, err := ParseArch("x", a); err == nil {
			t.Errorf("ParseArch(%q) accepted: %s", a, m.Arch())
		}
	}
}
