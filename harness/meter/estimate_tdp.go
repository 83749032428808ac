package meter

import (
	"fmt"
	"slices"
	"strings"
)

// The TDP table of the estimate meter.
//
// Every row cites where its figures were read. No vendor page
// (ark.intel.com, amd.com) could be reached while the table was compiled,
// so the figures come from three public compilations of the vendors' specs,
// each named in the row:
//
//   - TPU: the TechPowerUp CPU database page given in the row, as copied
//     into Boavizta's boaviztapi data/crowdsourcing/cpu_specs.csv (2024).
//   - quattor: the row's file in quattor/template-library-standard,
//     hardware/cpu/{intel,amd}/*.pan ("power" = TDP in watts).
//   - the other pages named in a row.
//
// Where two sources were read for one part they agree, and the row says so.
// AWS-only parts (Xeon 8375C, 8488C, 8259CL, 8275CL; EPYC 7R13, 7R32, 9R14)
// have no published TDP from their maker, so they are deliberately absent
// and fall back; give --tdp if you know better.
//
// Cores and threads are per package, so a VM's share of the chip can be
// worked out from the logical CPUs it sees.

// estCPU is one row: a CPU model, its TDP and where the figures come from.
type estCPU struct {
	name string // shown to the user
	// family is a word the normalised model string must contain, so that a
	// bare number ("7601") cannot match a CPU of another line.
	family string
	// phrase is the model token, or tokens, matched as whole words in the
	// normalised model string, e.g. "8380", "i9-13900k", "e5-2620 v3".
	phrase  string
	tdp     float64 // watts
	cores   int
	threads int
	source  string
}

// Short names for the compilations the rows cite.
const (
	estTPU     = "TechPowerUp via Boavizta cpu_specs.csv (2024): "
	estQuattor = "quattor template-library-standard hardware/cpu/"
)

var estTable = []estCPU{
	// Intel Xeon Scalable, 1st generation (Skylake-SP, 2017).
	{"Intel Xeon Platinum 8180", "xeon", "8180", 205, 28, 56, estTPU + "techpowerup.com/cpu-specs/xeon-platinum-8180.c2055"},
	{"Intel Xeon Platinum 8168", "xeon", "8168", 205, 24, 48, estQuattor + "intel/xeon_platinum_8168.pan"},
	{"Intel Xeon Gold 6148", "xeon", "6148", 150, 20, 40, estQuattor + "intel/xeon_gold_6148.pan"},
	{"Intel Xeon Silver 4110", "xeon", "4110", 85, 8, 16, estQuattor + "intel/xeon_silver_4110.pan"},

	// Intel Xeon Scalable, 2nd generation (Cascade Lake, 2019).
	{"Intel Xeon Platinum 8280", "xeon", "8280", 205, 28, 56, estTPU + "techpowerup.com/cpu-specs/xeon-platinum-8280.c2170"},
	{"Intel Xeon Platinum 8276", "xeon", "8276", 165, 28, 56, estTPU + "techpowerup.com/cpu-specs/xeon-platinum-8276.c2171"},
	{"Intel Xeon Platinum 8268", "xeon", "8268", 205, 24, 48, estTPU + "techpowerup.com/cpu-specs/xeon-platinum-8268.c2177"},
	{"Intel Xeon Platinum 8260", "xeon", "8260", 165, 24, 48, estTPU + "techpowerup.com/cpu-specs/xeon-platinum-8260.c2179"},
	{"Intel Xeon Platinum 8253", "xeon", "8253", 125, 16, 32, estTPU + "techpowerup.com/cpu-specs/xeon-platinum-8253.c2181"},
	{"Intel Xeon Gold 6248", "xeon", "6248", 150, 20, 40, estQuattor + "intel/xeon_gold_6248.pan"},
	{"Intel Xeon Gold 6230", "xeon", "6230", 125, 20, 40, estQuattor + "intel/xeon_gold_6230.pan"},

	// Intel Xeon Scalable, 3rd generation (Ice Lake-SP and Cooper Lake, 2021).
	{"Intel Xeon Platinum 8380", "xeon", "8380", 270, 40, 80, estTPU + "techpowerup.com/cpu-specs/xeon-platinum-8380.c2421; quattor intel/xeon_platinum_8380.pan agrees"},
	{"Intel Xeon Platinum 8368", "xeon", "8368", 270, 38, 76, estTPU + "techpowerup.com/cpu-specs/xeon-platinum-8368.c2422"},
	{"Intel Xeon Platinum 8360Y", "xeon", "8360y", 250, 36, 72, estTPU + "techpowerup.com/cpu-specs/xeon-platinum-8360y.c2423"},
	{"Intel Xeon Platinum 8358", "xeon", "8358", 250, 32, 64, estTPU + "techpowerup.com/cpu-specs/xeon-platinum-8358.c2424"},
	{"Intel Xeon Platinum 8352S", "xeon", "8352s", 205, 32, 64, estQuattor + "intel/xeon_platinum_8352s.pan; TechPowerUp c2430 agrees"},
	{"Intel Xeon Platinum 8380H", "xeon", "8380h", 250, 28, 56, estTPU + "techpowerup.com/cpu-specs/xeon-platinum-8380h.c2463; quattor intel/xeon_platinum_8380h.pan agrees"},
	{"Intel Xeon Gold 6348", "xeon", "6348", 235, 28, 56, estTPU + "techpowerup.com/cpu-specs/xeon-gold-6348.c2432"},
	{"Intel Xeon Gold 6342", "xeon", "6342", 230, 24, 48, estTPU + "techpowerup.com/cpu-specs/xeon-gold-6342.c2440"},
	{"Intel Xeon Gold 6330", "xeon", "6330", 205, 28, 56, estTPU + "techpowerup.com/cpu-specs/xeon-gold-6330.c2434"},
	{"Intel Xeon Gold 6326", "xeon", "6326", 185, 16, 32, estTPU + "techpowerup.com/cpu-specs/xeon-gold-6326.c2439"},

	// Intel Xeon Scalable, 4th generation (Sapphire Rapids, 2023).
	{"Intel Xeon Platinum 8490H", "xeon", "8490h", 350, 60, 120, estTPU + "techpowerup.com/cpu-specs/xeon-platinum-8490h.c2942"},
	{"Intel Xeon Platinum 8480+", "xeon", "8480+", 350, 56, 112, estTPU + "techpowerup.com/cpu-specs/xeon-platinum-8480.c2958"},
	{"Intel Xeon Platinum 8470", "xeon", "8470", 350, 52, 104, estTPU + "techpowerup.com/cpu-specs/xeon-platinum-8470.c3089"},
	{"Intel Xeon Platinum 8468", "xeon", "8468", 350, 48, 96, estTPU + "techpowerup.com/cpu-specs/xeon-platinum-8468.c3094"},
	{"Intel Xeon Platinum 8462Y+", "xeon", "8462y+", 300, 32, 64, estTPU + "techpowerup.com/cpu-specs/xeon-platinum-8462y.c3137"},
	{"Intel Xeon Gold 6430", "xeon", "6430", 270, 32, 64, estTPU + "techpowerup.com/cpu-specs/xeon-gold-6430.c3143"},
	{"Intel Xeon Gold 6448Y", "xeon", "6448y", 225, 32, 64, estTPU + "techpowerup.com/cpu-specs/xeon-gold-6448y.c3148"},

	// Intel Xeon Scalable, 5th generation (Emerald Rapids, 2023).
	{"Intel Xeon Platinum 8592+", "xeon", "8592+", 350, 64, 128, estQuattor + "intel/xeon_platinum_8592+.pan"},
	{"Intel Xeon Platinum 8570", "xeon", "8570", 350, 56, 112, estQuattor + "intel/xeon_platinum_8570.pan"},
	{"Intel Xeon Platinum 8558P", "xeon", "8558p", 350, 48, 96, estQuattor + "intel/xeon_platinum_8558p.pan"},

	// Intel Xeon 6 (Granite Rapids P-cores, Sierra Forest E-cores, 2024).
	{"Intel Xeon 6980P", "xeon", "6980p", 500, 128, 256, estQuattor + "intel/xeon_6980p.pan"},
	{"Intel Xeon 6972P", "xeon", "6972p", 500, 96, 192, estQuattor + "intel/xeon_6972p.pan"},
	{"Intel Xeon 6960P", "xeon", "6960p", 500, 72, 144, estQuattor + "intel/xeon_6960p.pan"},
	{"Intel Xeon 6780E", "xeon", "6780e", 330, 144, 144, estQuattor + "intel/xeon_6780e.pan"},

	// Intel Xeon E and older Xeons (the older two are the CPUs the power
	// curve was calibrated on).
	{"Intel Xeon E-2388G", "xeon", "e-2388g", 95, 8, 16, estQuattor + "intel/xeon_e_2388g.pan"},
	{"Intel Xeon E-2288G", "xeon", "e-2288g", 95, 8, 16, estQuattor + "intel/xeon_e_2288g.pan"},
	{"Intel Xeon E-2286G", "xeon", "e-2286g", 95, 6, 12, estQuattor + "intel/xeon_e_2286g.pan"},
	{"Intel Xeon E5-2620 v3", "xeon", "e5-2620 v3", 85, 6, 12, "CodeCarbon docs/edit/test_on_scaleway.rst (2025): 85 W; 24 logical CPUs on two sockets in its cpu_load_profiling CSV"},
	{"Intel Xeon E3-1240 v2", "xeon", "e3-1240 v2", 69, 4, 8, estQuattor + "intel/xeon_e3_1240v2.pan"},

	// Intel Core, 10th to 13th generation desktop. TDP here is Intel's
	// "Processor Base Power" (PL1); K parts may draw their Maximum Turbo
	// Power for long stretches when the board allows it.
	{"Intel Core i9-13900K", "core", "i9-13900k", 125, 24, 32, estTPU + "techpowerup.com/cpu-specs/core-i9-13900k.c2817"},
	{"Intel Core i9-13900", "core", "i9-13900", 65, 24, 32, estTPU + "techpowerup.com/cpu-specs/core-i9-13900.c2854"},
	{"Intel Core i9-12900K", "core", "i9-12900k", 125, 16, 24, estTPU + "techpowerup.com/cpu-specs/core-i9-12900k.c2505"},
	{"Intel Core i9-12900KF", "core", "i9-12900kf", 125, 16, 24, estTPU + "techpowerup.com/cpu-specs/core-i9-12900kf.c2506"},
	{"Intel Core i9-12900", "core", "i9-12900", 65, 16, 24, estTPU + "techpowerup.com/cpu-specs/core-i9-12900.c2565"},
	{"Intel Core i9-11900K", "core", "i9-11900k", 125, 8, 16, estTPU + "techpowerup.com/cpu-specs/core-i9-11900k.c2366"},
	{"Intel Core i9-10900K", "core", "i9-10900k", 125, 10, 20, estTPU + "techpowerup.com/cpu-specs/core-i9-10900k.c2266"},
	{"Intel Core i7-13700K", "core", "i7-13700k", 125, 16, 24, estTPU + "techpowerup.com/cpu-specs/core-i7-13700k.c2850"},
	{"Intel Core i7-13700KF", "core", "i7-13700kf", 125, 16, 24, estTPU + "techpowerup.com/cpu-specs/core-i7-13700kf.c2853"},
	{"Intel Core i7-13700", "core", "i7-13700", 65, 16, 24, estTPU + "techpowerup.com/cpu-specs/core-i7-13700.c2957"},
	{"Intel Core i7-12700K", "core", "i7-12700k", 125, 12, 20, estTPU + "techpowerup.com/cpu-specs/core-i7-12700k.c2507"},
	{"Intel Core i7-12700KF", "core", "i7-12700kf", 125, 12, 20, estTPU + "techpowerup.com/cpu-specs/core-i7-12700kf.c2508"},
	{"Intel Core i7-12700", "core", "i7-12700", 65, 12, 20, estTPU + "techpowerup.com/cpu-specs/core-i7-12700.c2559"},
	{"Intel Core i5-13600K", "core", "i5-13600k", 125, 14, 20, estTPU + "techpowerup.com/cpu-specs/core-i5-13600k.c2829"},
	{"Intel Core i5-13600KF", "core", "i5-13600kf", 125, 14, 20, estTPU + "techpowerup.com/cpu-specs/core-i5-13600kf.c2852"},
	{"Intel Core i5-13400", "core", "i5-13400", 65, 10, 16, estTPU + "techpowerup.com/cpu-specs/core-i5-13400.c2994"},
	{"Intel Core i5-12600K", "core", "i5-12600k", 125, 10, 16, estTPU + "techpowerup.com/cpu-specs/core-i5-12600k.c2509"},
	{"Intel Core i5-12600KF", "core", "i5-12600kf", 125, 10, 16, estTPU + "techpowerup.com/cpu-specs/core-i5-12600kf.c2510"},
	{"Intel Core i5-12500", "core", "i5-12500", 65, 6, 12, estTPU + "techpowerup.com/cpu-specs/core-i5-12500.c2552"},

	// AMD EPYC 7001 (Naples, 2017).
	{"AMD EPYC 7601", "epyc", "7601", 180, 32, 64, estQuattor + "amd/epyc_7601.pan (TDP); 64 threads and 180 W per the 2017 launch report at prime-wow.com/?p=263980 (quattor's 32 threads is wrong)"},
	{"AMD EPYC 7551", "epyc", "7551", 180, 32, 64, estQuattor + "amd/epyc_7551.pan"},
	{"AMD EPYC 7401", "epyc", "7401", 170, 24, 48, estQuattor + "amd/epyc_7401.pan"},

	// AMD EPYC 7002 (Rome, 2019).
	{"AMD EPYC 7742", "epyc", "7742", 225, 64, 128, estTPU + "techpowerup.com/cpu-specs/epyc-7742.c2245"},
	{"AMD EPYC 7702", "epyc", "7702", 200, 64, 128, estTPU + "techpowerup.com/cpu-specs/epyc-7702.c2246"},
	{"AMD EPYC 7702P", "epyc", "7702p", 200, 64, 128, estTPU + "techpowerup.com/cpu-specs/epyc-7702p.c2259"},
	{"AMD EPYC 7H12", "epyc", "7h12", 280, 64, 128, estTPU + "techpowerup.com/cpu-specs/epyc-7h12.c2244"},
	{"AMD EPYC 7642", "epyc", "7642", 225, 48, 96, estTPU + "techpowerup.com/cpu-specs/epyc-7642.c2247"},
	{"AMD EPYC 7502", "epyc", "7502", 180, 32, 64, estTPU + "techpowerup.com/cpu-specs/epyc-7502.c2250"},
	{"AMD EPYC 7502P", "epyc", "7502p", 180, 32, 64, estTPU + "techpowerup.com/cpu-specs/epyc-7502p.c2260"},
	{"AMD EPYC 7452", "epyc", "7452", 155, 32, 64, estTPU + "techpowerup.com/cpu-specs/epyc-7452.c2251"},
	{"AMD EPYC 7402", "epyc", "7402", 180, 24, 48, estTPU + "techpowerup.com/cpu-specs/epyc-7402.c2252"},
	{"AMD EPYC 7402P", "epyc", "7402p", 180, 24, 48, estTPU + "techpowerup.com/cpu-specs/epyc-7402p.c2261"},
	{"AMD EPYC 7302", "epyc", "7302", 155, 16, 32, estTPU + "techpowerup.com/cpu-specs/epyc-7302.c2254"},
	{"AMD EPYC 7302P", "epyc", "7302p", 155, 16, 32, estTPU + "techpowerup.com/cpu-specs/epyc-7302p.c2262"},

	// AMD EPYC 7003 (Milan, 2021).
	{"AMD EPYC 7763", "epyc", "7763", 280, 64, 128, estTPU + "techpowerup.com/cpu-specs/epyc-7763.c2373; quattor amd/epyc_7763.pan and techgage.com/article/amd-epyc-milan-launch-performance (AMD's max cTDP 280 W) agree"},
	{"AMD EPYC 7713", "epyc", "7713", 225, 64, 128, estTPU + "techpowerup.com/cpu-specs/epyc-7713.c2374"},
	{"AMD EPYC 7713P", "epyc", "7713p", 225, 64, 128, estTPU + "techpowerup.com/cpu-specs/epyc-7713p.c2375"},
	{"AMD EPYC 7663", "epyc", "7663", 240, 56, 112, estTPU + "techpowerup.com/cpu-specs/epyc-7663.c2376"},
	{"AMD EPYC 75F3", "epyc", "75f3", 280, 32, 64, estTPU + "techpowerup.com/cpu-specs/epyc-75f3.c2378"},
	{"AMD EPYC 7543", "epyc", "7543", 225, 32, 64, estTPU + "techpowerup.com/cpu-specs/epyc-7543.c2379"},
	{"AMD EPYC 7543P", "epyc", "7543p", 225, 32, 64, estTPU + "techpowerup.com/cpu-specs/epyc-7543p.c2380"},
	{"AMD EPYC 7513", "epyc", "7513", 200, 32, 64, estTPU + "techpowerup.com/cpu-specs/epyc-7513.c2381"},
	{"AMD EPYC 7443", "epyc", "7443", 200, 24, 48, estTPU + "techpowerup.com/cpu-specs/epyc-7443.c2384"},
	{"AMD EPYC 7443P", "epyc", "7443p", 200, 24, 48, estTPU + "techpowerup.com/cpu-specs/epyc-7443p.c2385"},
	{"AMD EPYC 7313", "epyc", "7313", 155, 16, 32, estTPU + "techpowerup.com/cpu-specs/epyc-7313.c2389"},
	{"AMD EPYC 7313P", "epyc", "7313p", 155, 16, 32, estTPU + "techpowerup.com/cpu-specs/epyc-7313p.c2390"},

	// AMD EPYC 9004 and 8004 (Genoa, Bergamo, Siena; 2022-2023).
	{"AMD EPYC 9654", "epyc", "9654", 360, 96, 192, estTPU + "techpowerup.com/cpu-specs/epyc-9654.c2933"},
	{"AMD EPYC 9654P", "epyc", "9654p", 360, 96, 192, estTPU + "techpowerup.com/cpu-specs/epyc-9654p.c2934"},
	{"AMD EPYC 9554", "epyc", "9554", 360, 64, 128, estTPU + "techpowerup.com/cpu-specs/epyc-9554.c2930"},
	{"AMD EPYC 9554P", "epyc", "9554p", 360, 64, 128, estTPU + "techpowerup.com/cpu-specs/epyc-9554p.c2931"},
	{"AMD EPYC 9534", "epyc", "9534", 280, 64, 128, estTPU + "techpowerup.com/cpu-specs/epyc-9534.c2929"},
	{"AMD EPYC 9454", "epyc", "9454", 290, 48, 96, estTPU + "techpowerup.com/cpu-specs/epyc-9454.c2926"},
	{"AMD EPYC 9454P", "epyc", "9454p", 290, 48, 96, estTPU + "techpowerup.com/cpu-specs/epyc-9454p.c2927"},
	{"AMD EPYC 9354", "epyc", "9354", 280, 32, 64, estTPU + "techpowerup.com/cpu-specs/epyc-9354.c2923"},
	{"AMD EPYC 9354P", "epyc", "9354p", 280, 32, 64, estTPU + "techpowerup.com/cpu-specs/epyc-9354p.c2924"},
	{"AMD EPYC 9334", "epyc", "9334", 210, 32, 64, estTPU + "techpowerup.com/cpu-specs/epyc-9334.c2922"},
	{"AMD EPYC 9254", "epyc", "9254", 200, 24, 48, estTPU + "techpowerup.com/cpu-specs/epyc-9254.c2920"},
	{"AMD EPYC 9124", "epyc", "9124", 200, 16, 32, estTPU + "techpowerup.com/cpu-specs/epyc-9124.c2917"},
	{"AMD EPYC 9754", "epyc", "9754", 360, 128, 256, estQuattor + "amd/epyc_9754.pan"},
	{"AMD EPYC 8534P", "epyc", "8534p", 200, 64, 128, estQuattor + "amd/epyc_8534p.pan"},
	{"AMD EPYC 8024P", "epyc", "8024p", 90, 8, 16, estQuattor + "amd/epyc_8024p.pan; CodeCarbon docs/edit/test_on_scaleway.rst (2025) agrees"},

	// AMD EPYC 9005 (Turin, 2024).
	{"AMD EPYC 9965", "epyc", "9965", 500, 192, 384, estQuattor + "amd/epyc_9965.pan"},
	{"AMD EPYC 9755", "epyc", "9755", 500, 128, 256, estQuattor + "amd/epyc_9755.pan"},
	{"AMD EPYC 9655", "epyc", "9655", 400, 96, 192, estQuattor + "amd/epyc_9655.pan"},
	{"AMD EPYC 9555", "epyc", "9555", 360, 64, 128, estQuattor + "amd/epyc_9555.pan"},
	{"AMD EPYC 9355", "epyc", "9355", 280, 32, 64, estQuattor + "amd/epyc_9355.pan"},

	// AMD Ryzen desktop, 3000 to 9000 series.
	{"AMD Ryzen 9 3950X", "ryzen", "3950x", 105, 16, 32, estTPU + "techpowerup.com/cpu-specs/ryzen-9-3950x.c2203"},
	{"AMD Ryzen 9 3900X", "ryzen", "3900x", 105, 12, 24, estTPU + "techpowerup.com/cpu-specs/ryzen-9-3900x.c2128"},
	{"AMD Ryzen 7 3700X", "ryzen", "3700x", 65, 8, 16, estTPU + "techpowerup.com/cpu-specs/ryzen-7-3700x.c2130"},
	{"AMD Ryzen 5 3600", "ryzen", "3600", 65, 6, 12, estTPU + "techpowerup.com/cpu-specs/ryzen-5-3600.c2132"},
	{"AMD Ryzen 9 5950X", "ryzen", "5950x", 105, 16, 32, estTPU + "techpowerup.com/cpu-specs/ryzen-9-5950x.c2364"},
	{"AMD Ryzen 9 5900X", "ryzen", "5900x", 105, 12, 24, estTPU + "techpowerup.com/cpu-specs/ryzen-9-5900x.c2363"},
	{"AMD Ryzen 7 5800X", "ryzen", "5800x", 105, 8, 16, estTPU + "techpowerup.com/cpu-specs/ryzen-7-5800x.c2362"},
	{"AMD Ryzen 5 5600X", "ryzen", "5600x", 65, 6, 12, estTPU + "techpowerup.com/cpu-specs/ryzen-5-5600x.c2365"},
	{"AMD Ryzen 9 7950X", "ryzen", "7950x", 170, 16, 32, estTPU + "techpowerup.com/cpu-specs/ryzen-9-7950x.c2846"},
	{"AMD Ryzen 9 7950X3D", "ryzen", "7950x3d", 120, 16, 32, estTPU + "techpowerup.com/cpu-specs/ryzen-9-7950x3d.c3024"},
	{"AMD Ryzen 9 7900X", "ryzen", "7900x", 170, 12, 24, estTPU + "techpowerup.com/cpu-specs/ryzen-9-7900x.c2847"},
	{"AMD Ryzen 7 7800X3D", "ryzen", "7800x3d", 120, 8, 16, estTPU + "techpowerup.com/cpu-specs/ryzen-7-7800x3d.c3022"},
	{"AMD Ryzen 7 7700X", "ryzen", "7700x", 105, 8, 16, estTPU + "techpowerup.com/cpu-specs/ryzen-7-7700x.c2848"},
	{"AMD Ryzen 5 7600X", "ryzen", "7600x", 105, 6, 12, estTPU + "techpowerup.com/cpu-specs/ryzen-5-7600x.c2849"},
	{"AMD Ryzen 9 9950X", "ryzen", "9950x", 170, 16, 32, "notebookcheck.com AMD-Ryzen-9-9950X-Prozessor-Benchmarks-und-Specs.901784.0.html (2024); timdobbs.substack.com/p/the-amd-ryzen-9-9950x-cpu agrees"},

	// AMD Ryzen Threadripper.
	{"AMD Ryzen Threadripper 1950X", "threadripper", "1950x", 180, 16, 32, estTPU + "techpowerup.com/cpu-specs/ryzen-threadripper-1950x.c1904; one of the CPUs the power curve was calibrated on"},
	{"AMD Ryzen Threadripper 2990WX", "threadripper", "2990wx", 250, 32, 64, estTPU + "techpowerup.com/cpu-specs/ryzen-threadripper-2990wx.c2069"},
	{"AMD Ryzen Threadripper 3970X", "threadripper", "3970x", 280, 32, 64, estTPU + "techpowerup.com/cpu-specs/ryzen-threadripper-3970x.c2269"},
	{"AMD Ryzen Threadripper 3990X", "threadripper", "3990x", 280, 64, 128, estTPU + "techpowerup.com/cpu-specs/ryzen-threadripper-3990x.c2271"},
	{"AMD Ryzen Threadripper PRO 5995WX", "threadripper", "5995wx", 280, 64, 128, estTPU + "techpowerup.com/cpu-specs/ryzen-threadripper-pro-5995wx.c2719"},

	// AWS Graviton2. AWS publishes no TDP; 110 W is the figure of the Teads
	// EC2 dataset (Davy, 2021) as shipped in Green-Software-Foundation/
	// if-plugins src/lib/cloud-instance-metadata/aws-instances.csv. arm64
	// /proc/cpuinfo has no model name, so this row is reached only through
	// an explicit --cpu "AWS Graviton2".
	{"AWS Graviton2", "", "graviton2", 110, 64, 64, "Teads EC2 dataset (Davy 2021) via GSF if-plugins aws-instances.csv; an estimate, not an AWS figure"},
}

// estPerThreadW is the fallback TDP per logical CPU: the median of
// TDP/threads over the table, so the fallback is derived from the same
// cited figures rather than chosen.
var estPerThreadW = estMedianPerThread(estTable)

func estMedianPerThread(rows []estCPU) float64 {
	v := make([]float64, 0, len(rows))
	for _, r := range rows {
		v = append(v, r.tdp/float64(r.threads))
	}
	slices.Sort(v)
	n := len(v)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}

// estFallbackSource says how a fallback TDP was made, for the user.
func estFallbackSource(logical int) string {
	return fmt.Sprintf("fallback: %.2f W per logical CPU (median TDP per thread of the %d-row table) × %d logical CPUs",
		estPerThreadW, len(estTable), logical)
}

// estNormalize reduces a /proc/cpuinfo "model name" to lower-case words
// without trademarks, clock speed, core count and filler, so that
// "Intel(R) Xeon(R) Platinum 8380 CPU @ 2.30GHz" becomes
// "intel xeon platinum 8380".
func estNormalize(model string) string {
	s := strings.ToLower(model)
	if i := strings.IndexByte(s, '@'); i >= 0 {
		s = s[:i]
	}
	s = strings.NewReplacer("(r)", " ", "(tm)", " ", "®", " ", "™", " ", ",", " ").Replace(s)
	var out []string
	for _, w := range strings.Fields(s) {
		switch w {
		case "cpu", "processor", "processors":
			continue
		}
		if estIsCoreCount(w) {
			continue
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// estIsCoreCount reports whether w is like "64-core" or "16-cores", which
// AMD appends to its model names.
func estIsCoreCount(w string) bool {
	n, rest, ok := strings.Cut(w, "-")
	if !ok || n == "" || (rest != "core" && rest != "cores") {
		return false
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// estLookup finds the table row for a model string. The longest matching
// phrase wins, so "E5-2620 v3" is not taken for a shorter phrase.
func estLookup(model string) (estCPU, bool) {
	norm := estNormalize(model)
	if norm == "" {
		return estCPU{}, false
	}
	padded := " " + norm + " "
	words := strings.Fields(norm)
	var best estCPU
	found := false
	for _, r := range estTable {
		if r.family != "" && !slices.Contains(words, r.family) {
			continue
		}
		if !strings.Contains(padded, " "+r.phrase+" ") {
			continue
		}
		if !found || len(r.phrase) > len(best.phrase) {
			best, found = r, true
		}
	}
	return best, found
}
