//go:build vigil_cheapkdf

package main

import "github.com/vigil-mesh/vigil/incident/vault"

// The command-line tests build the binary with -tags vigil_cheapkdf:
// they start it some thousand times, and Argon2id at RFC 9106's second
// option (64 MiB, three passes) is about 0.4 s of each start on two
// cores. The tests of the KDF itself are incident/vault's. No release
// is built with this tag (the Makefile's builds do not name it).
func init() { buildKDF = &vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1} }
