// Package carbon holds the data and pure functions that turn measured energy
// into carbon: gCO2e = E_kWh × PUE × I + M, and SCI = (E·I + M) / R.
//
// I, the grid carbon intensity, comes from an embedded, versioned table of
// annual averages (see [Lookup], [Regions] and [TableVersion]); every row
// names its publisher, dataset and the year the figure describes, so a record
// can say exactly which number it used. With no region the world average is
// used, and [DefaultRegion] lets the caller say so rather than imply a
// location. Time series of intensity matched to a run's own timestamps live
// beside the table in this package.
//
// M, embodied carbon, is a device's manufacturing footprint spread over its
// lifetime ([Embodied.Share]); [EmbodiedDefault] offers a small cited table
// for when the configuration gives none. When neither is known the output
// must say [EmbodiedNotIncluded] instead of adding a silent zero. [ParsePUE]
// checks the facility overhead factor.
//
// The package must not measure anything, touch hardware, the network or the
// file system: it is data compiled into the binary plus pure functions of
// their arguments, so that report and verify can recompute every figure from
// a record and the table version it names.
package carbon
