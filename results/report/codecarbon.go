package report

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/joulebench/joulebench/internal/infile"
	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/metrics/carbon"
	"github.com/joulebench/joulebench/results"
)

// codeCarbonColumns are the columns of CodeCarbon's emissions.csv, in its
// order (EmissionsData in codecarbon/output_methods/emissions_data.py), so
// that dashboards built for CodeCarbon read joulebench's runs.
var codeCarbonColumns = []string{
	"timestamp", "project_name", "run_id", "experiment_id", "duration", "emissions", "emissions_rate",
	"cpu_utilization_percent", "ram_utilization_percent", "ram_used_gb",
	"cpu_power", "gpu_power", "ram_power", "cpu_energy", "gpu_energy", "ram_energy", "energy_consumed", "water_consumed",
	"country_name", "country_iso_code", "region", "cloud_provider", "cloud_region", "os", "python_version",
	"codecarbon_version", "cpu_count", "cpu_model", "gpu_count", "gpu_model", "longitude", "latitude",
	"ram_total_size", "tracking_mode", "on_cloud", "pue", "wue",
}

// CodeCarbonRows turns a record into emissions.csv rows, one per workload,
// in CodeCarbon's units: seconds, kg CO2e, kg/s, W, kWh, GB. Columns
// joulebench has no figure for (utilisation, water, python_version) are
// left empty rather than filled with a zero that would read as measured.
func CodeCarbonRows(rec *results.Record) ([][]string, error) {
	if rec.Carbon == nil {
		return nil, errors.New("the record has no carbon section (run or report with --region or --intensity-file)")
	}
	sums, _, err := carbon.Summarize(rec)
	if err != nil {
		return nil, err
	}
	kinds := map[string]string{}
	for _, m := range rec.Meters {
		for _, d := range m.Domains {
			kinds[d.Name] = d.Kind
		}
	}
	region, country, countryName, cloudProvider, cloudRegion, onCloud := rec.Carbon.Region, "", "", "", "", "N"
	if in, err := carbon.Lookup(region); err == nil && rec.Carbon.Method == results.CarbonAnnual {
		if in.IsCloud() {
			cloudProvider, cloudRegion, _ = strings.Cut(in.Code, ":")
			onCloud = "Y"
			in, _ = carbon.Lookup(in.Grid)
		}
		if len(in.Code) == 2 {
			country, countryName = in.Code, in.Name
		}
	}
	var rows [][]string
	for i, w := range rec.Workloads {
		var dur float64
		var cpuE, ramE metrics.Energy
		for _, r := range w.Reps {
			dur += r.DurationS
			for dom, j := range r.EnergyJ {
				if !slices.Contains(metrics.TotalDomains(rec), dom) {
					continue
				}
				if kinds[dom] == "dram" {
					ramE += metrics.FromJoules(j)
				} else {
					cpuE += metrics.FromJoules(j)
				}
			}
		}
		// CodeCarbon's emissions are operational only: embodied carbon is
		// not added here (the table and record carry it).
		var grams float64
		for _, rc := range sums[i].Reps {
			grams += rc.Operational
		}
		kg := grams / 1000
		rate, cpuW, ramW := 0.0, 0.0, 0.0
		if dur > 0 {
			rate, cpuW, ramW = kg/dur, cpuE.Joules()/dur, ramE.Joules()/dur
		}
		f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
		start := rec.StartedAt
		if len(w.Reps) > 0 {
			start = start.Add(metrics.Seconds(w.Reps[0].StartS))
		}
		row := map[string]string{
			"timestamp": start.UTC().Format("2006-01-02T15:04:05"), "project_name": "joulebench " + rec.Config.Suite,
			"run_id": rec.RunID, "experiment_id": w.Name, "duration": f(dur), "emissions": f(kg), "emissions_rate": f(rate),
			"cpu_power": f(cpuW), "ram_power": f(ramW),
			"cpu_energy": f(cpuE.KWh()), "ram_energy": f(ramE.KWh()), "energy_consumed": f((cpuE + ramE).KWh()),
			"country_name": countryName, "country_iso_code": country, "region": region, "cloud_provider": cloudProvider, "cloud_region": cloudRegion,
			"os": rec.Host.OS, "codecarbon_version": "", "cpu_count": strconv.Itoa(rec.Host.LogicalCPUs), "cpu_model": rec.Host.CPUModel,
			"ram_total_size": f(math.Round(float64(rec.Host.MemoryBytes)/(1<<30)*100) / 100),
			"tracking_mode":  "machine", "on_cloud": onCloud, "pue": f(rec.Carbon.PUE),
		}
		// tracking_mode is the one column that says how the energy was
		// had. A fake meter's figures are made up, not estimated: that
		// is said first, even when a model also counts in the total.
		switch {
		case metrics.Synthetic(rec):
			row["tracking_mode"] = "synthetic (fake meter: not a measurement)"
		case metrics.Estimated(rec):
			row["tracking_mode"] = "machine (estimated: modelled from CPU utilisation and TDP)"
		}
		out := make([]string, len(codeCarbonColumns))
		for c, name := range codeCarbonColumns {
			out[c] = row[name]
		}
		rows = append(rows, out)
	}
	return rows, nil
}

// CheckCodeCarbonCSV says whether path can take an emissions.csv: absent,
// or a regular file. A run checks it before measuring, so that a FIFO or
// device named there is refused up front rather than after the work.
func CheckCodeCarbonCSV(path string) error {
	if err := infile.CheckRegular(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("--emissions-csv %w", err)
	}
	return nil
}

// AppendCodeCarbonCSV adds the record's rows to an emissions.csv, creating
// it with CodeCarbon's header if it does not exist, as CodeCarbon does. The
// file is rewritten atomically; a file whose header is not CodeCarbon's is
// refused rather than mixed, and one that is not a regular file or is over
// infile.MaxEmissionsCSV is refused as it is read.
func AppendCodeCarbonCSV(path string, rec *results.Record) error {
	rows, err := CodeCarbonRows(rec)
	if err != nil {
		return fmt.Errorf("--emissions-csv %s: %w", path, err)
	}
	var buf bytes.Buffer
	old, err := infile.Read(path, infile.MaxEmissionsCSV)
	switch {
	case errors.Is(err, os.ErrNotExist):
		w := csv.NewWriter(&buf)
		w.Write(codeCarbonColumns)
		w.Flush()
	case err != nil:
		return fmt.Errorf("--emissions-csv %s: %w", path, err)
	default:
		header, err := csv.NewReader(bytes.NewReader(old)).Read()
		if err != nil || !slices.Equal(header, codeCarbonColumns) {
			return fmt.Errorf("--emissions-csv %s: line 1 is not the emissions.csv header joulebench writes (CodeCarbon's current columns); give a new file name", path)
		}
		buf.Write(old)
		if len(old) > 0 && old[len(old)-1] != '\n' {
			buf.WriteByte('\n')
		}
	}
	w := csv.NewWriter(&buf)
	w.WriteAll(rows)
	if err := w.Error(); err != nil {
		return err
	}
	return results.WriteFileAtomic(path, buf.Bytes(), 0o644)
}
