package mnist

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dataDir is the real data, or a skip when this machine has none.
func dataDir(t testing.TB) string {
	t.Helper()
	dir, err := DefaultDir()
	if err != nil {
		t.Skip(err)
	}
	if _, err := os.Stat(filepath.Join(dir, trainImages.name)); err != nil {
		t.Skipf("no MNIST data here (%v); run go mod download %s", err, Module)
	}
	return dir
}

func TestLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("loads 55 MB of images")
	}
	s, err := Load(dataDir(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		sp   Split
		n    int
	}{{"train", s.Train, TrainSize}, {"test", s.Test, TestSize}} {
		if c.sp.N != c.n || len(c.sp.Y) != c.n || len(c.sp.X) != c.n*Pixels {
			t.Fatalf("%s: N %d, %d labels, %d pixels; want %d", c.name, c.sp.N, len(c.sp.Y), len(c.sp.X), c.n)
		}
		var hist [Classes]int
		for _, y := range c.sp.Y {
			hist[y]++
		}
		// Every digit is between 9% and 11.5% of either split.
		for d, h := range hist {
			if f := float64(h) / float64(c.n); f < 0.085 || f > 0.115 {
				t.Errorf("%s: digit %d is %.3f of the split", c.name, d, f)
			}
		}
		var lo, hi float32 = 1, 0
		for _, v := range c.sp.X {
			lo, hi = min(lo, v), max(hi, v)
		}
		if lo != 0 || hi != 1 {
			t.Errorf("%s: pixels in [%v, %v], want [0, 1]", c.name, lo, hi)
		}
	}
	// Known from the published files: the first test image is a 7, the
	// first training images are 5, 0, 4, 1.
	if s.Test.Y[0] != 7 {
		t.Errorf("first test label %d, want 7", s.Test.Y[0])
	}
	if got := s.Train.Y[:4]; got[0] != 5 || got[1] != 0 || got[2] != 4 || got[3] != 1 {
		t.Errorf("first training labels %v, want [5 0 4 1]", got)
	}
	// Training label histogram, as published: 5,923 zeros, 6,742 ones.
	var zeros, ones int
	for _, y := range s.Train.Y {
		switch y {
		case 0:
			zeros++
		case 1:
			ones++
		}
	}
	if zeros != 5923 || ones != 6742 {
		t.Errorf("training set has %d zeros and %d ones, want 5923 and 6742", zeros, ones)
	}
	again, err := Load(dataDir(t))
	if err != nil || again != s {
		t.Errorf("second Load: %p, %v; want the cached %p", again, err, s)
	}

	low := s.Test.Digits(func(d uint8) bool { return d < 5 })
	for _, y := range low.Y {
		if y >= 5 {
			t.Fatalf("Digits kept a %d", y)
		}
	}
	if low.N < 4000 || low.N > 6000 || len(low.X) != low.N*Pixels {
		t.Errorf("digits 0-4: %d examples, %d pixels", low.N, len(low.X))
	}
	sub := s.Train.Subset([]int{3, 0})
	if sub.N != 2 || sub.Y[0] != 1 || sub.Y[1] != 5 || sub.X[Pixels+200] != s.Train.X[200] {
		t.Errorf("Subset([3 0]) = labels %v", sub.Y)
	}
	sub.X[0] = 42
	if s.Train.X[3*Pixels] == 42 {
		t.Error("Subset shares its pixels with the set")
	}
}

// copyData copies the four files into a fresh directory.
func copyData(t *testing.T) string {
	t.Helper()
	src := dataDir(t)
	dst := t.TempDir()
	for _, f := range []file{trainImages, trainLabels, testImages, testLabels} {
		data, err := os.ReadFile(filepath.Join(src, f.name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f.name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func TestCorruptFileRefused(t *testing.T) {
	dir := copyData(t)
	path := filepath.Join(dir, testLabels.name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Load(dir)
	if err == nil {
		t.Fatal("a corrupt label file was loaded")
	}
	if !errors.Is(err, ErrData) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "sha256") ||
		!strings.Contains(err.Error(), "go mod download") || !strings.Contains(err.Error(), "--mnist") {
		t.Errorf("error %q: want ErrData naming %s, the sha256 and what to do", err, path)
	}
	for _, other := range []string{trainImages.name, trainLabels.name, testImages.name} {
		if strings.Contains(err.Error(), other) {
			t.Errorf("error names the good file %s: %v", other, err)
		}
	}
}

func TestMissingFileRefused(t *testing.T) {
	dir := copyData(t)
	path := filepath.Join(dir, trainLabels.name)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	if !errors.Is(err, ErrData) || !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), path) ||
		!strings.Contains(err.Error(), EnvDir) {
		t.Errorf("error %v: want ErrData, not-exist, naming %s and %s", err, path, EnvDir)
	}
	// A failed load is not cached: restoring the file makes it load.
	if testing.Short() {
		return
	}
	data, err := os.ReadFile(filepath.Join(dataDir(t), trainLabels.name))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err != nil {
		t.Errorf("after restoring the file: %v", err)
	}
}

func TestDefaultDir(t *testing.T) {
	want := filepath.Join("/m", "github.com", "petar", "!go!m!n!i!s!t@"+Version, "data")
	for _, c := range []struct {
		env, cache, gopath, home, want string
	}{
		{"/x/mnist", "/m", "/g", "/h", "/x/mnist"},
		{"", "/m", "/g", "/h", want},
		{"", "", "/m/..//g" + string(filepath.ListSeparator) + "/other", "/h", strings.Replace(want, "/m", "/g/pkg/mod", 1)},
		{"", "", "", "/h", strings.Replace(want, "/m", "/h/go/pkg/mod", 1)},
	} {
		t.Setenv(EnvDir, c.env)
		t.Setenv("GOMODCACHE", c.cache)
		t.Setenv("GOPATH", c.gopath)
		t.Setenv("HOME", c.home)
		got, err := DefaultDir()
		if err != nil || got != filepath.FromSlash(c.want) {
			t.Errorf("env %+v: DefaultDir() = %q, %v; want %q", c, got, err, c.want)
		}
	}
}
