package certify

import (
	_ "github.com/in-toto/attestation/go/v1"
	_ "github.com/secure-systems-lab/go-securesystemslib/dsse"
)
