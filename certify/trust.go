package certify

// SignatureMeaning says, for verify and the README, what a verified
// certificate proves and what it does not.
const SignatureMeaning = "The signature proves who signed (the key) and that nothing changed since. " +
	"The measurements are the signer's claim: verify checks them for internal consistency (the checks below), " +
	"which catches an edited record or certificate and numbers no meter or host could have produced, " +
	"but not numbers invented consistently. Only reproduce tests a claim against hardware."

// ConsistencyChecks lists, one line each, what verify checks beyond the
// signature: every line is a check that a forged field fails. The CLI
// prints them under SignatureMeaning and the README lists them.
func ConsistencyChecks() []string {
	return []string{
		"record digest: the record file is the one the signed statement names (its sha256)",
		"spec: the record is judged by the very spec the certificate names (its sha256)",
		"summaries: every figure, rule, level, rating and field of the certificate is recomputed from the record and must agree",
		"raw readings: the energy, duration and reading count of every repetition, every warm-up and the idle baseline follow from the raw meter readings",
		"meter readings: every raw reading names a meter of the record, has one value per domain within its counter's range, and goes forward in time",
		"meter methods: each meter's method, estimated flag, domain kinds and total are what that meter is (the fake meter is synthetic, the estimate a model, RAPL a counter whose packages and DRAM count in the total); an unknown meter fails",
		"level: the measurement level follows from what each meter is, not from what the record calls it, so the fake meter and the estimate are always level 0",
		"work: each workload's version, parameters, content hash and episodic flag are this joulebench's own, and each repetition's FLOPs are FLOPs per item × items (2N³ per GEMM call) and its items iterations × items per call",
		"throughput ceiling: no repetition of a CPU workload does more FLOP/s than the recorded host could at most (CPUs × clock × FLOPs per cycle, stated on the certificate)",
		"answer checked: every repetition's answer was checked, over the whole result, and was right to the workload's precision",
		"accuracy recomputed: a model workload's stated accuracy and its fp32 reference's are recomputed on the whole test set with joulebench's own pure-Go kernels and must agree within 20 of 10,000 images",
		"meter faults and reading gaps: no meter read failed during a repetition, and no gap between readings was long enough for a counter to wrap unseen",
	}
}
