package main

import (
	"crypto/ed25519"
	"fmt"
	"runtime"
	"time"

	"github.com/vigil-mesh/vigil/bench/gen"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
)

// recordDomain is incident's signature domain prefix (incident/record.go,
// unexported there). If it changes, signedMessage's self-check fails and
// says so.
const recordDomain = "vigil/record/v1\x00"

// signedMessage rebuilds the bytes a record's signature covers, to time a
// bare ed25519.Verify over exactly what Decode verifies.
func signedMessage(raw []byte) (pub ed25519.PublicKey, msg, sig []byte, err error) {
	var r incident.Record
	if err := incident.UnmarshalCanonical(raw, &r); err != nil {
		return nil, nil, nil, err
	}
	sig = r.Sig
	r.Sig = nil
	body, err := incident.Marshal(r)
	if err != nil {
		return nil, nil, nil, err
	}
	msg = append([]byte(recordDomain), body...)
	if !ed25519.Verify(r.Author, msg, sig) {
		return nil, nil, nil, fmt.Errorf("the rebuilt signed message does not verify: has incident's signature domain changed from %q?", recordDomain)
	}
	return ed25519.PublicKey(r.Author), msg, sig, nil
}

// oneCore runs fn with GOMAXPROCS 1: the measured work, the garbage
// collector and Badger's background goroutines share one core.
func oneCore(fn func() error) error {
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	runtime.GC()
	return fn()
}

// verifyJob is one bare signature check.
type verifyJob struct {
	pub      ed25519.PublicKey
	msg, sig []byte
}

// verifyJobs rebuilds every record's signed message. The first one is
// checked against its signature (signedMessage); the rest are built the
// same way without the check, which would double the set-up time.
func verifyJobs(raws [][]byte) ([]verifyJob, error) {
	jobs := make([]verifyJob, len(raws))
	for i, raw := range raws {
		if i == 0 {
			pub, msg, sig, err := signedMessage(raw)
			if err != nil {
				return nil, err
			}
			jobs[i] = verifyJob{pub, msg, sig}
			continue
		}
		var r incident.Record
		if err := incident.UnmarshalCanonical(raw, &r); err != nil {
			return nil, err
		}
		sig := r.Sig
		r.Sig = nil
		body, err := incident.Marshal(r)
		if err != nil {
			return nil, err
		}
		jobs[i] = verifyJob{ed25519.PublicKey(r.Author), append([]byte(recordDomain), body...), sig}
	}
	return jobs, nil
}

func verifyAll(jobs []verifyJob) error {
	for _, j := range jobs {
		if !ed25519.Verify(j.pub, j.msg, j.sig) {
			return fmt.Errorf("a signature does not verify")
		}
	}
	return nil
}

// ingestRates is what the ingest measurement found, in records per
// second on one core.
type ingestRates struct {
	store, verify, decode, validate float64
	took                            time.Duration
}

// measureIngest stores raws through AddMany in batches of 500 (the path
// bundles and reconciliation batches take: decode, validate, verify,
// index, one sync per batch) on one core. After each batch it times the
// baseline on the same records: bare ed25519.Verify of their signed
// messages; and on the first sample records, incident.Decode alone and
// Decode + Validate. Interleaving batch by batch gives the store and its
// baselines the same share of whatever else the machine is doing.
func measureIngest(st *store.Store, raws [][]byte, jobs []verifyJob, sample int) (ingestRates, error) {
	ms, err := st.Mission()
	if err != nil {
		return ingestRates{}, err
	}
	var tStore, tVerify, tDecode, tValidate time.Duration
	decoded := 0
	err = oneCore(func() error {
		for start := 0; start < len(raws); start += 500 {
			end := min(start+500, len(raws))
			batch := raws[start:end]
			t := time.Now()
			if err := gen.AddAll(st, batch, "bench"); err != nil {
				return err
			}
			tStore += time.Since(t)
			t = time.Now()
			if err := verifyAll(jobs[start:end]); err != nil {
				return err
			}
			tVerify += time.Since(t)
			if start >= sample {
				continue
			}
			t = time.Now()
			for _, raw := range batch {
				if _, err := incident.Decode(raw); err != nil {
					return err
				}
			}
			tDecode += time.Since(t)
			t = time.Now()
			for _, raw := range batch {
				s, err := incident.Decode(raw)
				if err != nil {
					return err
				}
				if err := incident.Validate(s, ms, st); err != nil {
					return err
				}
			}
			tValidate += time.Since(t)
			decoded += len(batch)
		}
		return nil
	})
	n := float64(len(raws))
	return ingestRates{store: n / tStore.Seconds(), verify: n / tVerify.Seconds(),
		decode: float64(decoded) / tDecode.Seconds(), validate: float64(decoded) / tValidate.Seconds(), took: tStore}, err
}

// verifyParallel is verifyAll on every core: jobs split into one
// contiguous run per core, as a verifier that owned the machine would.
func verifyParallel(jobs []verifyJob) error {
	n := runtime.GOMAXPROCS(0)
	errs := make(chan error, n)
	per := (len(jobs) + n - 1) / n
	started := 0
	for lo := 0; lo < len(jobs); lo += per {
		started++
		go func(part []verifyJob) { errs <- verifyAll(part) }(jobs[lo:min(lo+per, len(jobs))])
	}
	var first error
	for range started {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// measureIngestAll is measureIngest's store rate on every core
// (GOMAXPROCS = NumCPU): AddMany in batches of 500 into st, each batch
// followed by the baseline, the same records' signatures verified on
// every core.
func measureIngestAll(st *store.Store, raws [][]byte, jobs []verifyJob) (ingestRates, error) {
	prev := runtime.GOMAXPROCS(runtime.NumCPU())
	defer runtime.GOMAXPROCS(prev)
	runtime.GC()
	var tStore, tVerify time.Duration
	for start := 0; start < len(raws); start += 500 {
		end := min(start+500, len(raws))
		t := time.Now()
		if err := gen.AddAll(st, raws[start:end], "bench"); err != nil {
			return ingestRates{}, err
		}
		tStore += time.Since(t)
		t = time.Now()
		if err := verifyParallel(jobs[start:end]); err != nil {
			return ingestRates{}, err
		}
		tVerify += time.Since(t)
	}
	n := float64(len(raws))
	return ingestRates{store: n / tStore.Seconds(), verify: n / tVerify.Seconds(), took: tStore}, nil
}
