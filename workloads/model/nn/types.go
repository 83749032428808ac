// Package nn is joulebench's own small neural-network code: the layers of
// the reference MNIST models (dense, convolution by im2col, max-pooling),
// their forward and backward passes on a GEMM the caller chooses, and
// deterministic training. It has no framework behind it, so that every
// FLOP a model workload spends is one joulebench can name.
//
// Layout conventions, fixed because weight files and kernels rely on them:
//   - activations are row-major, one row per example: a batch of B images
//     of H×W pixels and C channels is B×(H·W·C), channels last (NHWC);
//   - a dense layer's weights are In×Out row-major (K×N), so y = x·W + b
//     is one GEMM with the batch as M; per-channel means per column n;
//   - a convolution's weights are (KH·KW·InC)×OutC row-major, rows in
//     (kh, kw, c) order, matching the im2col matrix of an NHWC input, so
//     the convolution is one GEMM with B·OH·OW rows.
package nn

// Gemm computes C ← alpha·op(A)·op(B) + beta·C for row-major matrices,
// op(X) being X or its transpose: op(A) is m×k, op(B) is k×n, C is m×n,
// and lda, ldb, ldc are the row strides of A, B and C as stored. It is
// the only way the layers multiply matrices, so a model runs on whichever
// BLAS the caller hands it (the GEMM workload's provider, or GoGemm).
type Gemm interface {
	Sgemm(transA, transB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int)
}

// LayerKind names a layer type in a model and in a weights file.
type LayerKind string

const (
	KindDense   LayerKind = "dense"   // y = x·W + b; W In×Out, b Out
	KindConv    LayerKind = "conv"    // 2-D convolution, stride 1, same padding, NHWC
	KindMaxPool LayerKind = "maxpool" // 2×2, stride 2
	KindReLU    LayerKind = "relu"
)

// Layer is one layer of a model. Only the fields of its Kind are set.
type Layer struct {
	Kind LayerKind
	// Dense: In, Out. Conv: InC, OutC, K (square kernel, odd), and the
	// input's Height and Width (the output has the same: same padding).
	// MaxPool and ReLU: the input shape Height, Width, Channels (ReLU
	// after a dense layer sets Height = Width = 1, Channels = its Out).
	In, Out                 int
	InC, OutC, K            int
	Height, Width, Channels int
	// Weights and bias: Dense W is In×Out, B is Out; Conv W is
	// (K·K·InC)×OutC, B is OutC.
	W, B []float32
	// Mask, when set (pruning), has W's length: 1 keeps a weight, 0 holds
	// it at zero through training.
	Mask []float32
	// Frozen layers are not updated by training (transfer learning).
	Frozen bool
}

// Model is a sequence of layers ending in a dense layer whose outputs are
// the class logits.
type Model struct {
	// Name is the model's identity in weight files and records, such as
	// "mnist-mlp" or "mnist-cnn".
	Name string
	// InH, InW, InC: the input image shape (28, 28, 1 for MNIST).
	InH, InW, InC int
	Layers        []Layer
}

// Inputs is the length of one input row; Classes of one output row.
func (m *Model) Inputs() int { return m.InH * m.InW * m.InC }
