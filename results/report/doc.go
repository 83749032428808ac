// Package report renders a record for people and for other tools: the
// run table (WriteTable, and WriteTableOptions for --wide), every
// figure's statistics (WriteStats), Go benchmark lines for benchstat
// (WriteBenchfmt), CodeCarbon's emissions.csv (CodeCarbonRows), and what
// two records' energy totals count, for compare (RecordBoundary,
// BoundaryWarnings).
//
// Every figure is recomputed from the record's raw numbers through
// metrics; nothing here measures. What is printed must not mislead:
//
//   - a modelled figure is never shown without "estimated" (or "est.")
//     next to it, and the fake meter's made-up figures are "synthetic",
//     never "estimated", in every output;
//   - a net-of-idle figure is shown only when the record has an idle
//     baseline (without one it would be the gross figure renamed), and
//     never instead of the gross one;
//   - a 95% interval is printed "±h" only when it is symmetric about the
//     median to the precision shown, else as [low, high];
//   - a figure that some repetitions left undefined says from how many it
//     comes, and why the others gave none;
//   - the default table fits TableWidth (120) columns, and names what it
//     leaves out to fit.
package report
