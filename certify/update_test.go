package certify

import "flag"

// update rewrites the golden files (testdata/golden, testdata/envelope and
// the test keys) instead of comparing with them:
//
//	go test ./certify/ -run 'Golden|Testdata' -update
var update = flag.Bool("update", false, "rewrite the golden files and test keys")
