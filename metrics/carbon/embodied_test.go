package carbon

import (
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

func TestEmbodiedDefaults(t *testing.T) {
	kinds := EmbodiedKinds()
	if len(kinds) == 0 {
		t.Fatal("no embodied defaults")
	}
	for _, k := range kinds {
		e, ok := EmbodiedDefault(k)
		if !ok {
			t.Errorf("EmbodiedDefault(%q) not found though listed", k)
			continue
		}
		if err := e.Validate(); err != nil {
			t.Errorf("%s: %v", k, err)
		}
		if !e.Known() {
			t.Errorf("%s: not Known: %+v", k, e)
		}
		// A default without a publisher and a year is an invented number.
		if !strings.ContainsAny(e.Source, "0123456789") || len(e.Source) < 40 {
			t.Errorf("%s: source %q does not cite a publication", k, e.Source)
		}
	}
	for in, want := range map[string]float64{
		"rack-server": 1000, " Laptop ": 226.32, "DESKTOP": 240.59, "gpu-server-8x": 3700, "gpu-a100": 150,
	} {
		e, ok := EmbodiedDefault(in)
		if !ok || math.Abs(e.KgCO2e-want) > 0.005 {
			t.Errorf("EmbodiedDefault(%q) = %v, %v; want %v kg", in, e.KgCO2e, ok, want)
		}
	}
	if e, ok := EmbodiedDefault("toaster"); ok || e.Known() {
		t.Errorf("EmbodiedDefault(toaster) = %+v, %v; want unknown", e, ok)
	}
}

func TestEmbodiedShare(t *testing.T) {
	server := Embodied{KgCO2e: 1000, LifetimeYears: 4, Source: "test"}
	hour := 1e6 / (4 * 365.25 * 24) // grams per hour of the whole server
	for _, c := range []struct {
		d     time.Duration
		share float64
		want  float64
	}{
		{time.Hour, 1, hour},
		{time.Hour, 0.5, hour / 2},
		{10 * time.Hour, 0.125, 10 * hour / 8},
		{0, 1, 0},
		{time.Hour, 0, 0},
		{4*365*24*time.Hour + 24*time.Hour, 1, 1e6}, // 4 Julian years: the whole footprint
	} {
		if got := server.Share(c.d, c.share); math.Abs(got-c.want) > 1e-9*math.Max(1, c.want) {
			t.Errorf("Share(%v, %v) = %v, want %v", c.d, c.share, got, c.want)
		}
	}
	// Missing or wrong inputs must not read as zero.
	for _, c := range []struct {
		e     Embodied
		d     time.Duration
		share float64
	}{
		{Embodied{}, time.Hour, 1},
		{Embodied{KgCO2e: 1000}, time.Hour, 1},
		{Embodied{LifetimeYears: 4}, time.Hour, 1},
		{Embodied{KgCO2e: math.Inf(1), LifetimeYears: 4}, time.Hour, 1},
		{server, -time.Second, 1},
		{server, time.Hour, -0.1},
		{server, time.Hour, 1.1},
		{server, time.Hour, math.NaN()},
	} {
		if got := c.e.Share(c.d, c.share); !math.IsNaN(got) {
			t.Errorf("%+v.Share(%v, %v) = %v, want NaN", c.e, c.d, c.share, got)
		}
	}
}

func TestEmbodiedValidate(t *testing.T) {
	for _, c := range []struct {
		e    Embodied
		want string
	}{
		{Embodied{KgCO2e: 0, LifetimeYears: 4, Source: "x"}, "kgCO2e 0 must be a positive number"},
		{Embodied{KgCO2e: -5, LifetimeYears: 4, Source: "x"}, "kgCO2e -5"},
		{Embodied{KgCO2e: math.NaN(), LifetimeYears: 4, Source: "x"}, "kgCO2e NaN"},
		{Embodied{KgCO2e: 5, LifetimeYears: 0, Source: "x"}, "lifetime 0 years"},
		{Embodied{KgCO2e: 5, LifetimeYears: math.Inf(1), Source: "x"}, "lifetime +Inf years"},
		{Embodied{KgCO2e: 5, LifetimeYears: 4, Source: " "}, "source is empty"},
	} {
		if err := c.e.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v.Validate() = %v, want %q", c.e, err, c.want)
		}
	}
	if err := (Embodied{KgCO2e: 5, LifetimeYears: 4, Source: "config"}).Validate(); err != nil {
		t.Error(err)
	}
}

func TestEmbodiedParsePUE(t *testing.T) {
	for in, want := range map[string]float64{"1": 1, "1.0": 1, " 1.56 ": 1.56, "1.1": 1.1, "3": 3, "3.0": 3} {
		got, err := ParsePUE(in)
		if err != nil || got != want {
			t.Errorf("ParsePUE(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"0.9", "0", "-1.2", "3.01", "15", "abc", "NaN", "Inf", "1,5"} {
		_, err := ParsePUE(in)
		if err == nil {
			t.Errorf("ParsePUE(%q) accepted", in)
			continue
		}
		// The message must name the flag and say what a sane value is.
		for _, part := range []string{"--pue", "1.1", "1.56", "Uptime Institute"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("ParsePUE(%q) error %q lacks %q", in, err, part)
			}
		}
	}
	if _, err := ParsePUE(""); err == nil || !strings.Contains(err.Error(), "--pue") {
		t.Errorf("ParsePUE(\"\") = %v", err)
	}
	if DefaultPUE != 1.0 {
		t.Errorf("DefaultPUE = %v", DefaultPUE)
	}
}

// A 30-minute job on one of the 8 GPUs of a GPU server carries 1/8 of the
// server's embodied carbon for that half hour: 3700 kg × 1000 × 0.5 h /
// (6 × 8766 h) / 8 = 4.4 gCO2e. With no figure at all, say so.
func ExampleEmbodied_Share() {
	e, _ := EmbodiedDefault("gpu-server-8x")
	fmt.Printf("%.1f gCO2e embodied\n", e.Share(30*time.Minute, 1.0/8))

	if _, ok := EmbodiedDefault("mainframe"); !ok {
		fmt.Println(EmbodiedNotIncluded)
	}
	// Output:
	// 4.4 gCO2e embodied
	// embodied not included
}
