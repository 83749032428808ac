package carbon

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// EmbodiedNotIncluded is what output must say in place of an embodied
// figure when none is known, so that a missing M never reads as zero.
const EmbodiedNotIncluded = "embodied not included"

// Embodied is a device's embodied carbon: the emissions of making,
// shipping and disposing of it, spread over the years it is in service.
type Embodied struct {
	// KgCO2e is the device's whole embodied footprint in kgCO2e.
	KgCO2e float64
	// LifetimeYears is the service life the footprint is spread over.
	LifetimeYears float64
	// Source says where the two numbers come from: a configuration file, or
	// the publisher and document of a default.
	Source string
}

// embYear is the year Share divides lifetimes by: the Julian year of
// 365.25 days, so that leap years average out over a device's life.
const embYear = 365.25 * 24 * time.Hour

// Known reports whether e carries a usable figure: a positive footprint and
// a positive lifetime. Callers print EmbodiedNotIncluded when it does not.
func (e Embodied) Known() bool {
	return e.KgCO2e > 0 && e.LifetimeYears > 0 && !math.IsInf(e.KgCO2e, 0) && !math.IsInf(e.LifetimeYears, 0)
}

// Validate checks a figure given in configuration: a finite, positive
// footprint and lifetime, and a source.
func (e Embodied) Validate() error {
	switch {
	case math.IsNaN(e.KgCO2e) || math.IsInf(e.KgCO2e, 0) || e.KgCO2e <= 0:
		return fmt.Errorf("embodied: kgCO2e %v must be a positive number", e.KgCO2e)
	case math.IsNaN(e.LifetimeYears) || math.IsInf(e.LifetimeYears, 0) || e.LifetimeYears <= 0:
		return fmt.Errorf("embodied: lifetime %v years must be a positive number", e.LifetimeYears)
	case strings.TrimSpace(e.Source) == "":
		return errors.New("embodied: source is empty (say where the figure comes from)")
	}
	return nil
}

// Share returns the grams of CO2e of e's footprint that a run lasting d
// and using share (0..1) of the device carries, amortised linearly over the
// device's lifetime:
//
//	grams = KgCO2e × 1000 × d / LifetimeYears × share
//
// It returns NaN, not zero, when e is not Known, d is negative, or share is
// outside [0, 1], so that a missing or wrong input cannot pass for "no
// embodied carbon".
func (e Embodied) Share(d time.Duration, share float64) float64 {
	if !e.Known() || d < 0 || math.IsNaN(share) || share < 0 || share > 1 {
		return math.NaN()
	}
	return e.KgCO2e * 1000 * (float64(d) / (e.LifetimeYears * float64(embYear))) * share
}

// embDefaults are cited figures for common devices, used only when the
// configuration gives none. Each is one published number (or one published
// total less its published use-phase share), not an average we made up; the
// Source says which. They are coarse: a measured or vendor figure for the
// actual machine is always better.
var embDefaults = map[string]Embodied{
	"rack-server": {
		KgCO2e:        1000,
		LifetimeYears: 4,
		Source: "Cloud Carbon Footprint methodology, manufacturing emissions of a mono-socket, low-DRAM, " +
			"no-local-storage commodity rack server over a 4-year lifespan (cloud-carbon-footprint/" +
			"cloud-carbon-coefficients ccfcoef/constants.py, after the Dell PowerEdge R740 LCA); " +
			"a floor: real servers add DRAM, drives and CPUs",
	},
	"gpu-server-8x": {
		KgCO2e:        2500 + 8*150,
		LifetimeYears: 6,
		Source: "Luccioni, Viguier & Ligozat, Estimating the Carbon Footprint of BLOOM, JMLR 24(253), 2023: " +
			"2500 kgCO2e per HPE Apollo 6500 Gen10 Plus node without GPUs + 150 kgCO2e per Nvidia A100 " +
			"GPU x 8; 6-year lifespan as in Boavizta e-footprint GPUServer defaults; likely low for " +
			"H100/H200-class GPUs",
	},
	"gpu-a100": {
		KgCO2e:        150,
		LifetimeYears: 6,
		Source: "Luccioni, Viguier & Ligozat, Estimating the Carbon Footprint of BLOOM, JMLR 24(253), 2023: " +
			"150 kgCO2e per Nvidia A100 GPU; 6-year lifespan as in Boavizta e-footprint GPUServer defaults; " +
			"the GPU board only, not its host",
	},
	"laptop": {
		KgCO2e:        276 * (1 - 0.18),
		LifetimeYears: 5,
		Source: "Lenovo Product Carbon Footprint, ThinkPad E14/R14/S3 Gen 2 (August 2019): 276 kgCO2e over " +
			"a 5-year life, 18% use phase; embodied = 276 x (1 - 0.18) = 226.3 kgCO2e " +
			"(via Boavizta environmental-footprint-data)",
	},
	"desktop": {
		KgCO2e:        491 * (1 - 0.51),
		LifetimeYears: 4,
		Source: "Dell Product Carbon Footprint, OptiPlex 7050 Tower (December 2018): 491 kgCO2e over " +
			"a 4-year life, 51% use phase; embodied = 491 x (1 - 0.51) = 240.6 kgCO2e " +
			"(via Boavizta environmental-footprint-data)",
	},
}

// EmbodiedDefault returns the cited default for a kind of device (see
// EmbodiedKinds), ignoring case and surrounding space. The boolean is false
// for an unknown kind; the caller must then report EmbodiedNotIncluded
// rather than use zero.
func EmbodiedDefault(kind string) (Embodied, bool) {
	e, ok := embDefaults[strings.ToLower(strings.TrimSpace(kind))]
	return e, ok
}

// EmbodiedKinds lists the kinds EmbodiedDefault knows, sorted.
func EmbodiedKinds() []string {
	kinds := make([]string, 0, len(embDefaults))
	for k := range embDefaults {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// DefaultPUE is the power usage effectiveness assumed without --pue: 1.0,
// i.e. no facility overhead is added to the measured IT energy. That is
// right for a measurement that already includes it and an understatement
// for one inside a data centre; the typical range is given at ParsePUE.
const DefaultPUE = 1.0

// PUE bounds. Below 1 is impossible by definition (facility energy cannot
// be less than IT energy); above 3 is far beyond any surveyed average and
// more likely a typo than a facility.
const (
	embMinPUE = 1.0
	embMaxPUE = 3.0
)

// ParsePUE parses the value of --pue: facility energy divided by IT energy,
// between 1.0 and 3.0. Typical values: hyperscale cloud sites report about
// 1.1 (Google reported 1.1 fleet-wide for Q2 2021); the industry average is about
// 1.56 (Uptime Institute Global Data Center Survey 2024; 1.58 in 2023).
func ParsePUE(s string) (float64, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, errors.New("--pue: empty value; want a number from 1.0 to 3.0")
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("--pue %q: not a number; %s", t, embPUEHint)
	}
	if v < embMinPUE || v > embMaxPUE {
		return 0, fmt.Errorf("--pue %q: outside 1.0..3.0; %s", t, embPUEHint)
	}
	return v, nil
}

// embPUEHint explains PUE where a user has just got it wrong.
const embPUEHint = "PUE is facility energy / IT energy: hyperscale data centres report ~1.1, " +
	"the industry average is ~1.56 (Uptime Institute Global Data Center Survey 2024), " +
	"and 1.0 (the default) adds no overhead"
