// Package report renders a record for people: a table per run now, plots
// and HTML/Markdown reports later. Every figure is recomputed from the
// record's raw numbers through metrics; nothing here measures, and a
// modelled figure is never printed without the word "estimated".
package report
