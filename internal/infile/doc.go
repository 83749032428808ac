// Package infile reads files that come from outside joulebench — records,
// certificates, suites, specs, keys, intensity files, sysfs and procfs
// attributes — with a size limit and a file-type check, so that a hostile
// or mistaken path (/dev/zero, a FIFO, a 40 MB padded certificate) is
// refused with a clear error instead of exhausting memory or hanging.
//
// The limits are documented here, in one place, and in the README.
//
// This package must not parse anything: it returns bytes, and each parser
// decides what they mean.
package infile
