package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/joulebench/joulebench/metrics"
	"github.com/joulebench/joulebench/results"
	"github.com/joulebench/joulebench/results/report"
	"github.com/joulebench/joulebench/workloads/gpu"
	"github.com/joulebench/joulebench/workloads/gpu/cuda"
)

// baselineRow is one GPU GEMM measured through the harness against cuBLAS
// called directly.
type baselineRow struct {
	Workload   string  `json:"workload,omitempty"`
	Precision  string  `json:"precision"`
	N          int     `json:"n"`
	DirectTF   float64 `json:"direct_tflops"`
	WorkloadTF float64 `json:"workload_tflops,omitempty"`
	Ratio      float64 `json:"ratio,omitempty"`
	GFLOPSPerW float64 `json:"gflops_per_w,omitempty"`
	Method     string  `json:"energy_method,omitempty"`
}

// cmdGPUBaseline times cuBLAS called directly, in a tight loop with no
// harness around it: the ceiling the GPU GEMM workloads are held to. With
// --record it does so for each gpu-gemm workload of a record and prints
// the workload's median throughput as a share of it.
func cmdGPUBaseline(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("gpu-baseline", stderr)
	recPath := fs.String("record", "", "a run's record: compare each of its gpu-gemm workloads with cuBLAS called directly")
	prec := fs.String("precision", "bf16", "precision without --record: "+strings.Join(gpu.Precisions, ", "))
	n := fs.Int("n", 8192, "matrix size without --record")
	d := fs.Duration("time", 5*time.Second, "how long to call cuBLAS for each figure")
	libDir := fs.String("cuda-lib-dir", "", "load libcudart.so and libcublas.so from this directory only (default: the system's search)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("gpu-baseline takes no arguments, got %q", pos)
	}
	if *d <= 0 || *d > 10*time.Minute {
		return usagef("--time %v: give a duration from 1ms to 10m", *d)
	}
	if *libDir != "" {
		if fi, err := os.Stat(*libDir); err != nil || !fi.IsDir() {
			return usagef("--cuda-lib-dir %s: not a directory; give the directory that holds libcudart.so and libcublas.so", *libDir)
		}
	}
	var rows []baselineRow
	if *recPath != "" {
		rec, err := results.ReadFile(*recPath)
		if err != nil {
			return usageError{err}
		}
		sums := metrics.Summarize(rec)
		for i, w := range rec.Workloads {
			p, size, ok := gpuGEMMName(w.Name)
			if !ok {
				continue
			}
			row := baselineRow{Workload: w.Name, Precision: p, N: size}
			if st, ok := sums[i].Stats[metrics.FigFLOPS]; ok {
				row.WorkloadTF = st.Median / 1e12
			}
			if st, ok := sums[i].Stats[metrics.FigFLOPsPerJ]; ok {
				row.GFLOPSPerW = st.Median / 1e9
			}
			// The words say what the figure is: measured, estimated,
			// partly estimated or synthetic, and by which methods.
			b := report.RecordBoundary(rec)
			row.Method = b.Class + ": " + strings.Join(b.Methods, ", ")
			rows = append(rows, row)
		}
		if len(rows) == 0 {
			return usagef("--record %s: no gpu-gemm workload in it", *recPath)
		}
	} else {
		if _, _, ok := gpuGEMMName(fmt.Sprintf("gpu-gemm-%s-%d", *prec, *n)); !ok {
			return usagef("--precision %s --n %d: choose a precision from %s and n from 64 to 16384, a multiple of 16", *prec, *n, strings.Join(gpu.Precisions, ", "))
		}
		rows = append(rows, baselineRow{Precision: *prec, N: *n})
	}
	var lib *cuda.Lib
	if *libDir != "" {
		lib, err = cuda.LoadFrom(*libDir)
	} else {
		lib, err = cuda.Load()
	}
	if err != nil {
		if errors.Is(err, cuda.ErrNoCUDA) {
			return fmt.Errorf("no GPU to time here: %w", err)
		}
		return err
	}
	defer lib.Close()
	for i := range rows {
		r := &rows[i]
		tf, err := gpu.Direct(ctx, r.Precision, r.N, *d, lib)
		if err != nil {
			return fmt.Errorf("cuBLAS %s N=%d: %w", r.Precision, r.N, err)
		}
		r.DirectTF = tf
		if r.WorkloadTF > 0 && tf > 0 {
			r.Ratio = r.WorkloadTF / tf
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	info := lib.Info()
	fmt.Fprintf(stdout, "cuBLAS %s (CUDA runtime %s, driver %s) on GPU %s: called directly, %s per figure\n", info["cublas"], info["cuda_runtime"], info["cuda_driver"], info["device"], *d)
	for _, r := range rows {
		if r.Workload == "" {
			fmt.Fprintf(stdout, "%-5s N=%-5d cuBLAS direct %8.4g TFLOP/s\n", r.Precision, r.N, r.DirectTF)
			continue
		}
		line := fmt.Sprintf("%-22s cuBLAS direct %8.4g TFLOP/s  joulebench %8.4g TFLOP/s  %5.3f×", r.Workload, r.DirectTF, r.WorkloadTF, r.Ratio)
		if r.GFLOPSPerW > 0 && !math.IsInf(r.GFLOPSPerW, 0) {
			line += fmt.Sprintf("  %.4g GFLOPS/W (%s)", r.GFLOPSPerW, r.Method)
		}
		fmt.Fprintln(stdout, line)
	}
	return nil
}

// gpuGEMMName splits gpu-gemm-<precision>-<n>.
func gpuGEMMName(name string) (precision string, n int, ok bool) {
	rest, found := strings.CutPrefix(name, "gpu-gemm-")
	if !found {
		return "", 0, false
	}
	p, ns, found := strings.Cut(rest, "-")
	if !found {
		return "", 0, false
	}
	n, err := strconv.Atoi(ns)
	if err != nil || n < 64 || n > 16384 || n%16 != 0 {
		return "", 0, false
	}
	for _, q := range gpu.Precisions {
		if q == p {
			return p, n, true
		}
	}
	return "", 0, false
}
