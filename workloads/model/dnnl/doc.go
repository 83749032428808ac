// Package dnnl runs MLP inference on oneDNN (the Intel/UXL deep-learning
// kernel library) in fp32, bf16 and int8, so that joulebench can measure a
// model on the kernels a production runtime would use rather than only on
// its own code.
//
// The library is found at run time: libdnnl.so.2 is opened with dlopen and
// every function is resolved with dlsym, so one binary runs on machines
// with and without oneDNN. Only the oneDNN v2 C API is supported (v3
// changed matmul, scales and descriptors); Load refuses any other major
// version and says so. The headers (Debian libdnnl-dev) are needed when
// building, for the types and constants only: a build without them, or
// without cgo, compiles and Load then explains what is missing. Every
// "not available" error wraps errors.ErrUnsupported.
//
// A Net is an MLP compiled for a fixed maximum batch: weights are packed
// once into the layout the matmul kernel wants (format_tag_any and one
// reorder at creation; bf16 weights are converted in the same reorder),
// fixed-size primitives are created for the full batch and for one row,
// and a runtime-M primitive serves every other row count. Forward is one
// cgo call whatever the number of layers: the input conversion (f32→bf16,
// or quantisation to u8), every matmul, and the int8 output stage run in
// C on one OS thread, which also sets the OpenMP thread count.
//
// int8 semantics are fixed (see DenseI8): u8 activations, s8 weights with
// a scale per output column, s32 accumulation, f32 bias and logits. oneDNN
// v2 adds the bias before the output scale, so the hidden layers' bias is
// pre-divided by the accumulator scale; that and the fused requantisation
// scale can move an activation by one u8 step at a rounding tie, which the
// tests bound. The input quantisation and the last layer's dequantisation
// are done in C exactly as the reference does them.
//
// What it must not do: link libdnnl (only -ldl), keep a Go pointer after a
// call returns, or decide anything about a run — it computes logits and
// reports what ran (Info); the workload that wraps it counts the work.
package dnnl
