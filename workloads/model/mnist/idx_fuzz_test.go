package mnist

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"testing"
)

// idx builds a gzip'd IDX file.
func idx(magic uint32, dims []uint32, payload []byte, trailing int) []byte {
	var raw bytes.Buffer
	binary.Write(&raw, binary.BigEndian, magic)
	binary.Write(&raw, binary.BigEndian, dims)
	raw.Write(payload)
	raw.Write(make([]byte, trailing))
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw.Bytes())
	zw.Close()
	return gz.Bytes()
}

func TestParseIDX(t *testing.T) {
	img := make([]byte, 2*Pixels)
	img[5] = 255
	x, err := parseImages(idx(magicImages, []uint32{2, 28, 28}, img, 0), 2)
	if err != nil || len(x) != 2*Pixels || x[5] != 1 || x[4] != 0 {
		t.Fatalf("parseImages: %d pixels, %v", len(x), err)
	}
	y, err := parseLabels(idx(magicLabels, []uint32{3}, []byte{7, 0, 9}, 0), 3)
	if err != nil || string(y) != "\x07\x00\x09" {
		t.Fatalf("parseLabels: %v, %v", y, err)
	}
	for name, c := range map[string]struct {
		gz     []byte
		images bool
	}{
		"label 10":     {idx(magicLabels, []uint32{3}, []byte{7, 10, 9}, 0), false},
		"short":        {idx(magicLabels, []uint32{3}, []byte{7, 0}, 0), false},
		"trailing":     {idx(magicLabels, []uint32{3}, []byte{7, 0, 9}, 1), false},
		"count":        {idx(magicLabels, []uint32{4}, []byte{7, 0, 9, 1}, 0), false},
		"magic":        {idx(magicImages, []uint32{3}, []byte{7, 0, 9}, 0), false},
		"not gzip":     {[]byte("hello"), false},
		"29 rows":      {idx(magicImages, []uint32{2, 29, 28}, make([]byte, 2*29*28), 0), true},
		"huge payload": {idx(magicImages, []uint32{2, 28, 28}, make([]byte, 1<<20), 0), true},
	} {
		var err error
		if c.images {
			_, err = parseImages(c.gz, 2)
		} else {
			_, err = parseLabels(c.gz, 3)
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// FuzzParseIDX: no input panics or allocates beyond what the expected
// count needs, and whatever is accepted has exactly that many items.
func FuzzParseIDX(f *testing.F) {
	f.Add(idx(magicLabels, []uint32{3}, []byte{7, 0, 9}, 0), false)
	f.Add(idx(magicImages, []uint32{2, 28, 28}, make([]byte, 2*Pixels), 0), true)
	f.Add(idx(magicImages, []uint32{2, 28, 28}, make([]byte, 2*Pixels), 3), true)
	f.Fuzz(func(t *testing.T, gz []byte, images bool) {
		if images {
			x, err := parseImages(gz, 2)
			if err == nil && len(x) != 2*Pixels {
				t.Fatalf("accepted %d pixels", len(x))
			}
			for _, v := range x {
				if v < 0 || v > 1 {
					t.Fatalf("pixel %v", v)
				}
			}
			return
		}
		y, err := parseLabels(gz, 3)
		if err == nil && len(y) != 3 {
			t.Fatalf("accepted %d labels", len(y))
		}
	})
}
