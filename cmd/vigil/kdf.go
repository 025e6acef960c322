package main

import "github.com/vigil-mesh/vigil/incident/vault"

// buildKDF is the passphrase KDF of the stores this binary creates (and
// re-keys): nil, vault.DefaultKDF, in every build but the one the
// command-line tests make (kdf_testbuild.go). Opening a store always
// uses the parameters written in its key file.
var buildKDF *vault.KDFParams
