package incident

import (
	"crypto/ed25519"
	"testing"
)

// benchReport is a typical signed report in a small mission, with the state
// needed to validate it.
func benchReport(b *testing.B) (*fixture, *Signed) {
	f := newFixture(b, "bench")
	obs := f.enroll(f.founder, "obs", RoleObserver)
	f.enroll(f.founder, "obs2", RoleObserver)
	f.enroll(f.founder, "c2", RoleCoordinator)
	return f, f.report(obs, nil)
}

// BenchmarkDecodeValidate measures what a node does for every incoming
// report: decode (canonical check and signature) and validate.
func BenchmarkDecodeValidate(b *testing.B) {
	f, rep := benchReport(b)
	raw := rep.Raw
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		s, err := Decode(raw)
		if err != nil {
			b.Fatal(err)
		}
		if err := Validate(s, f.ms, f.src); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkEd25519Verify is the floor for BenchmarkDecodeValidate: one bare
// signature check over the same message.
func BenchmarkEd25519Verify(b *testing.B) {
	_, rep := benchReport(b)
	msg, err := rep.Record.signingBytes()
	if err != nil {
		b.Fatal(err)
	}
	pub, sig := ed25519.PublicKey(rep.Author), rep.Sig
	b.SetBytes(int64(len(rep.Raw)))
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("signature does not verify")
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
