package carbon

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestGridTableLoads parses the embedded table (a malformed row panics
// here, naming its line) and checks what every caller relies on.
func TestGridTableLoads(t *testing.T) {
	if v := TableVersion(); !regexp.MustCompile(`^\d{4}\.\d+$`).MatchString(v) {
		t.Errorf("TableVersion() = %q, want YYYY.N", v)
	}
	rows := Regions()
	if len(rows) < 150 {
		t.Fatalf("Regions() has %d rows, want the full table", len(rows))
	}
	if !slices.IsSortedFunc(rows, func(a, b Intensity) int { return strings.Compare(a.Code, b.Code) }) {
		t.Error("Regions() is not sorted by code")
	}
	for _, r := range rows {
		if r.Source == "" || r.Year == 0 || r.GramsPerKWh <= 0 || r.Name == "" {
			t.Errorf("row %+v is incomplete", r)
		}
	}
	// Regions returns a copy: callers must not be able to edit the table.
	rows[0].GramsPerKWh = -1
	if Regions()[0].GramsPerKWh == -1 {
		t.Error("Regions() exposes the table itself")
	}
}

// TestGridRequiredRegions asserts every class of region the issue asks for.
func TestGridRequiredRegions(t *testing.T) {
	required := []string{
		"WORLD",
		// The 27 EU member states.
		"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE",
		"IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
		"GB", "NO", "CH",
		"US", "CN", "IN", "JP", "KR", "AU", "BR", "ZA",
		// All eGRID subregions.
		"US-EGRID-AKGD", "US-EGRID-AKMS", "US-EGRID-AZNM", "US-EGRID-CAMX", "US-EGRID-ERCT",
		"US-EGRID-FRCC", "US-EGRID-HIMS", "US-EGRID-HIOA", "US-EGRID-MROE", "US-EGRID-MROW",
		"US-EGRID-NEWE", "US-EGRID-NWPP", "US-EGRID-NYCW", "US-EGRID-NYLI", "US-EGRID-NYUP",
		"US-EGRID-PRMS", "US-EGRID-RFCE", "US-EGRID-RFCM", "US-EGRID-RFCW", "US-EGRID-RMPA",
		"US-EGRID-SPNO", "US-EGRID-SPSO", "US-EGRID-SRMV", "US-EGRID-SRMW", "US-EGRID-SRSO",
		"US-EGRID-SRTV", "US-EGRID-SRVC",
		// The 10 Canadian provinces.
		"CA-AB", "CA-BC", "CA-MB", "CA-NB", "CA-NL", "CA-NS", "CA-ON", "CA-PE", "CA-QC", "CA-SK",
		// Major cloud regions.
		"aws:us-east-1", "aws:us-east-2", "aws:us-west-1", "aws:us-west-2", "aws:eu-west-1",
		"aws:eu-west-2", "aws:eu-central-1", "aws:eu-north-1", "aws:ap-northeast-1",
		"aws:ap-southeast-1", "aws:ap-southeast-2", "aws:ap-south-1", "aws:ca-central-1", "aws:sa-east-1",
		"gcp:us-central1", "gcp:us-east1", "gcp:us-east4", "gcp:us-west1", "gcp:europe-west1",
		"gcp:europe-west3", "gcp:europe-west4", "gcp:europe-north1", "gcp:asia-northeast1",
		"gcp:asia-southeast1", "gcp:australia-southeast1",
		"azure:eastus", "azure:eastus2", "azure:westus2", "azure:centralus", "azure:westeurope",
		"azure:northeurope", "azure:uksouth", "azure:japaneast", "azure:southeastasia", "azure:australiaeast",
	}
	for _, code := range required {
		r, err := Lookup(code)
		if err != nil {
			t.Errorf("required region %s: %v", code, err)
			continue
		}
		if r.Code != code {
			t.Errorf("Lookup(%q).Code = %q", code, r.Code)
		}
	}
}

// TestGridCloudRowsMatchTheirGrid repeats the parser's cross-row check on
// the loaded table, so a change to one side shows up as a named failure.
func TestGridCloudRowsMatchTheirGrid(t *testing.T) {
	clouds := 0
	for _, r := range Regions() {
		if !r.IsCloud() {
			continue
		}
		clouds++
		g, err := Lookup(r.Grid)
		if err != nil {
			t.Errorf("%s: grid %s: %v", r.Code, r.Grid, err)
			continue
		}
		if g.IsCloud() || g.GramsPerKWh != r.GramsPerKWh || g.Year != r.Year ||
			!strings.HasPrefix(r.Source, "location: ") || !strings.HasSuffix(r.Source, "grid figure: "+g.Source) {
			t.Errorf("%s does not match its grid %s:\n%+v\n%+v", r.Code, g.Code, r, g)
		}
	}
	if clouds == 0 {
		t.Error("no cloud rows")
	}
}

func TestLookupDefaultAndCase(t *testing.T) {
	for _, in := range []string{"", "  ", "world", "WORLD"} {
		r, err := Lookup(in)
		if err != nil || r.Code != DefaultRegion {
			t.Errorf("Lookup(%q) = %s, %v; want %s", in, r.Code, err, DefaultRegion)
		}
	}
	for in, want := range map[string]string{
		"de": "DE", " De ": "DE", "DE": "DE",
		"us-egrid-camx": "US-EGRID-CAMX", "ca-qc": "CA-QC",
		"AWS:EU-WEST-1": "aws:eu-west-1", "Azure:WestEurope": "azure:westeurope",
		"uk": "GB", "UK": "GB", " Uk": "GB", "gb": "GB",
	} {
		r, err := Lookup(in)
		if err != nil || r.Code != want {
			t.Errorf("Lookup(%q) = %s, %v; want %s", in, r.Code, err, want)
		}
	}
}

func TestLookupUnknownRegionSuggests(t *testing.T) {
	msg := regexp.MustCompile(`^unknown region "[^"]+": closest: [^ ,]+(, [^ ,]+){2} \(joulebench carbon --list shows all\)$`)
	for _, c := range []struct {
		in    string
		want  string
		first bool // want must be the first suggestion
	}{
		{"germny", "DE", true},
		{"germany", "DE", true},
		{"Germany ", "DE", true},
		{"aws:eu-west-9", "aws:eu-west-1", true},
		{"us-calif", "US-EGRID-CAMX", true},
		{"ukk", "GB", false},
		{"frnace", "FR", false},
		{"gcp:europe-wst1", "gcp:europe-west1", true},
		{"azure:westeuope", "azure:westeurope", true},
		{"ca-quebec", "CA-QC", true},
		{"virginia", "US-EGRID-SRVC", true},
	} {
		_, err := Lookup(c.in)
		var ue *UnknownRegionError
		if !errors.As(err, &ue) || !errors.Is(err, ErrUnknownRegion) {
			t.Errorf("Lookup(%q) error = %v, want *UnknownRegionError", c.in, err)
			continue
		}
		if !msg.MatchString(err.Error()) {
			t.Errorf("Lookup(%q) error %q has the wrong form", c.in, err)
		}
		if ue.Input != strings.TrimSpace(c.in) {
			t.Errorf("Lookup(%q) Input = %q", c.in, ue.Input)
		}
		i := slices.Index(ue.Closest, c.want)
		if i < 0 || (c.first && i != 0) {
			t.Errorf("Lookup(%q) closest = %v, want %s%s", c.in, ue.Closest, c.want,
				map[bool]string{true: " first", false: " among them"}[c.first])
		}
	}
}

// gridTestCSV builds a small table whose rows the test can break one at a
// time.
func gridTestCSV(rows ...string) string {
	return "# test table\n# version: 0.1\n\ncode,name,g_per_kwh,year,source,grid\n" +
		"WORLD,World,473.05,2024,Ember,\n" +
		"GB,United Kingdom,210.89,2024,Ember,\n" +
		strings.Join(rows, "\n") + "\n"
}

func TestGridParseValidTestTable(t *testing.T) {
	tab, err := gridParse([]byte(gridTestCSV(
		`DE,Germany,344.14,2024,"Ember, yearly",`,
		`aws:eu-central-1,AWS Frankfurt,344.14,2024,"location: aws page; grid figure: Ember, yearly",DE`,
	)))
	if err != nil {
		t.Fatal(err)
	}
	if tab.version != "0.1" || len(tab.rows) != 4 {
		t.Errorf("version %q, %d rows", tab.version, len(tab.rows))
	}
}

// TestGridParseRejects feeds the parser one fault at a time; each must be
// refused with a message naming the row.
func TestGridParseRejects(t *testing.T) {
	okCloud := `aws:eu-central-1,AWS Frankfurt,344.14,2024,"location: p; grid figure: Ember",DE`
	de := `DE,Germany,344.14,2024,Ember,`
	for _, c := range []struct {
		name, csv, want string
	}{
		{"negative", gridTestCSV(`DE,Germany,-1,2024,Ember,`), "line 7 (DE): g_per_kwh -1 is outside"},
		{"zero", gridTestCSV(`DE,Germany,0,2024,Ember,`), "(DE): g_per_kwh 0 is outside"},
		{"too high", gridTestCSV(`DE,Germany,2001,2024,Ember,`), "(DE): g_per_kwh 2001 is outside"},
		{"NaN", gridTestCSV(`DE,Germany,NaN,2024,Ember,`), "(DE): g_per_kwh NaN is outside"},
		{"not a number", gridTestCSV(`DE,Germany,lots,2024,Ember,`), "(DE): g_per_kwh:"},
		{"missing source", gridTestCSV(`DE,Germany,344.14,2024,,`), "(DE): source is empty"},
		{"missing year", gridTestCSV(`DE,Germany,344.14,,Ember,`), "(DE): year is empty"},
		{"bad year", gridTestCSV(`DE,Germany,344.14,24,Ember,`), "(DE): year 24 is outside"},
		{"missing name", gridTestCSV(`DE,,344.14,2024,Ember,`), "(DE): name is empty"},
		{"lower-case grid code", gridTestCSV(`de,Germany,344.14,2024,Ember,`), "(de): grid code must be upper case"},
		{"spaces", gridTestCSV(`DE ,Germany,344.14,2024,Ember,`), "(DE ): code has surrounding space"},
		{"duplicate", gridTestCSV(de, de), "line 8 (DE): duplicate code, first at line 7"},
		{"alias as code", gridTestCSV(`UK,United Kingdom,210.89,2024,Ember,`), "(UK): code is reserved as an alias of GB"},
		{"grid row with grid", gridTestCSV(`DE,Germany,344.14,2024,Ember,GB`), "(DE): only cloud regions may name a grid"},
		{"cloud without grid", gridTestCSV(de, `aws:eu-central-1,AWS,344.14,2024,location: p,`), "cloud region has no grid"},
		{"cloud grid missing", gridTestCSV(okCloud), `(aws:eu-central-1): grid row "DE" does not exist`},
		{"cloud value differs", gridTestCSV(de, strings.Replace(okCloud, "344.14", "344.15", 1)), "344.15 g/kWh differs from its grid DE"},
		{"cloud year differs", gridTestCSV(de, strings.Replace(okCloud, "2024", "2023", 1)), "year 2023 differs from its grid DE"},
		{"cloud source", gridTestCSV(de, strings.Replace(okCloud, "grid figure: Ember", "Ember", 1)), `source must end with "grid figure: "`},
		{"cloud location", gridTestCSV(de, strings.Replace(okCloud, "location: p; ", "", 1)), `source must start with "location: "`},
		{"cloud on cloud", gridTestCSV(de, okCloud, `gcp:x,GCP,344.14,2024,"location: q; grid figure: location: p; grid figure: Ember",aws:eu-central-1`), "is itself a cloud region"},
		{"cloud grid case", gridTestCSV(de, strings.Replace(okCloud, ",DE", ",de", 1)), `grid "de" must be spelled "DE"`},
		{"unknown provider", gridTestCSV(de, `ibm:x,IBM,344.14,2024,location: p; grid figure: Ember,DE`), `cloud code must be "aws:"`},
		{"upper-case region", gridTestCSV(de, strings.Replace(okCloud, "aws:eu-central-1", "aws:EU-central-1", 1)), "lower-case region"},
		{"short row", gridTestCSV(`DE,Germany,344.14,2024,Ember`), "wrong number of fields"},
		{"no version", strings.Replace(gridTestCSV(), "# version: 0.1\n", "", 1), `no "# version: ..." line`},
		{"two versions", strings.Replace(gridTestCSV(), "# version: 0.1\n", "# version: 0.1\n# version: 0.2\n", 1), "second version line"},
		{"bad header", strings.Replace(gridTestCSV(), "g_per_kwh,year", "year,g_per_kwh", 1), "header is"},
		{"no default", strings.Replace(gridTestCSV(), "WORLD,World", "XX,Nowhere", 1), "no WORLD row"},
		{"no alias target", strings.Replace(gridTestCSV(), "GB,United Kingdom", "IE,Ireland", 1), "alias UK names missing code GB"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := gridParse([]byte(c.csv))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("gridParse error = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// FuzzGridParse checks that no input makes the parser panic, and that what
// it accepts obeys the rules the rest of the package relies on.
func FuzzGridParse(f *testing.F) {
	f.Add(gridCSV)
	f.Add([]byte(gridTestCSV(`DE,Germany,344.14,2024,Ember,`)))
	f.Fuzz(func(t *testing.T, data []byte) {
		tab, err := gridParse(data)
		if err != nil {
			return
		}
		if tab.version == "" {
			t.Error("accepted a table without a version")
		}
		for _, r := range tab.rows {
			if r.GramsPerKWh <= 0 || r.GramsPerKWh > gridMaxGramsPerKWh || r.Source == "" {
				t.Errorf("accepted bad row %+v", r)
			}
		}
	})
}

// A job that drew 0.5 kWh in a French data centre with a PUE of 1.2 emitted
// 0.5 × 1.2 × 44.18 = 26.5 gCO2e from electricity. A typo gets the closest
// codes instead of a silent world average.
func ExampleLookup() {
	fr, _ := Lookup("fr")
	fmt.Printf("%s %s: %.2f gCO2e/kWh (%d)\n", fr.Code, fr.Name, fr.GramsPerKWh, fr.Year)
	fmt.Printf("%.1f gCO2e\n", 0.5*1.2*fr.GramsPerKWh)

	aws, _ := Lookup("aws:eu-west-3")
	fmt.Printf("%s uses %s: %.2f gCO2e/kWh\n", aws.Code, aws.Grid, aws.GramsPerKWh)

	_, err := Lookup("aws:eu-west-9")
	fmt.Println(err)
	// Output:
	// FR France: 44.18 gCO2e/kWh (2024)
	// 26.5 gCO2e
	// aws:eu-west-3 uses FR: 44.18 gCO2e/kWh
	// unknown region "aws:eu-west-9": closest: aws:eu-west-1, aws:eu-west-2, aws:eu-west-3 (joulebench carbon --list shows all)
}

// TestBasis checks that each row's basis agrees with the source it cites,
// and that a run in a direct-emission region says what its figure leaves out.
func TestBasis(t *testing.T) {
	for _, r := range Regions() {
		src := r.Source
		switch r.Basis() {
		case BasisDirect:
			if !strings.Contains(src, "eGRID") {
				t.Errorf("%s: basis direct, but its source is not EPA eGRID: %s", r.Code, src)
			}
		case BasisLifecycle:
			if !strings.Contains(src, "Ember") && !strings.Contains(src, "Electricity Maps") {
				t.Errorf("%s: basis lifecycle, but its source is neither Ember nor Electricity Maps: %s", r.Code, src)
			}
		default:
			t.Errorf("%s: basis %q", r.Code, r.Basis())
		}
	}
	for code, want := range map[string]string{"DE": BasisLifecycle, "US-EGRID-CAMX": BasisDirect, "aws:us-west-1": BasisDirect, "aws:eu-central-1": BasisLifecycle, "CA-QC": BasisLifecycle} {
		r, err := Lookup(code)
		if err != nil || r.Basis() != want {
			t.Errorf("%s: basis %q (%v), want %s", code, r.Basis(), err, want)
		}
	}
	c, err := Account(Options{Region: "US-EGRID-CAMX"}, time.Time{}, time.Time{}, nil)
	if err != nil || !slices.Contains(c.Notes, DirectNote) {
		t.Errorf("an eGRID region must carry the direct-emission note: %+v %v", c, err)
	}
	c, err = Account(Options{Region: "DE"}, time.Time{}, time.Time{}, nil)
	if err != nil || slices.Contains(c.Notes, DirectNote) {
		t.Errorf("a lifecycle region must not carry the direct-emission note: %+v %v", c, err)
	}
}
