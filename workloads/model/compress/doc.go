// Package compress makes the compressed variants of joulebench's MLPs whose
// energy per inference is compared with the full model's: int8
// post-training quantisation with a pure-Go u8×s8→s32 kernel, magnitude
// pruning (unstructured, with a sparse kernel, and structured, which makes
// a smaller dense model), and low-rank factorisation by truncated SVD.
//
// All of it is for MLPs: dense layers with a ReLU layer between each pair,
// the last dense layer giving the logits (LowRank's models also have dense
// layers with nothing between them; pruning and the sparse kernel accept
// those too, Quantize does not).
//
// The int8 semantics are fixed, because another backend (oneDNN) runs the
// same QMLP and is checked against QForward bit for bit:
//
//	q0[k]  = clamp(RoundToEven(x[k] / InScale0), 0, 255)            (u8; float32 division)
//	acc[n] = Σ_k int32(q_in[k])·int32(W[k,n])                         (int32)
//	y[n]   = float32(acc[n])·(InScale·WScale[n]) + B[n]               (float32; the product
//	                                                                   InScale·WScale[n] rounded
//	                                                                   once, then no fused multiply-add)
//	hidden: q_out[n] = clamp(RoundToEven(max(y[n], 0) / nextInScale), 0, 255)
//	last:   logits = y
//
// What this package must not do: measure anything (the harness does), read
// or write files (nn owns the weights format; Weights and QMLPFromWeights
// only map a QMLP to and from its tensors), or change the model it is given:
// every function that makes a variant returns a new model, except
// PruneUnstructured, whose job is to prune the model in place so that
// nn.Train can fine-tune it under its masks.
package compress
