package export

import (
	"encoding/hex"
	"fmt"

	"github.com/vigil-mesh/vigil/incident"
)

// What verify checks of a capture record (incident.CapturePayload)
// beyond what Validate checks of every record (its signature, its author
// a member, its target a report of the same author, sealed as the report
// is): that the file it describes is one its report attaches, in the
// report or in one of its amendments the file holds, by the hash of the
// original bytes (a sealed report's file by the plaintext hash its key
// entry gives); and that the file is held, where it is, under that hash.
// A sealed capture whose key is not disclosed is checked by its
// signature alone, as any sealed record is.

// captureFile says what verify found of a capture's file: "" when its
// report attaches it, or the problem.
func (v *verifier) captureFile(rec *incident.Signed, c *incident.CapturePayload) (problem string, held, readable bool) {
	var target incident.ID
	copy(target[:], c.Target)
	versions := []*incident.Signed{}
	if e := v.byID[target]; e != nil && e.rec != nil {
		versions = append(versions, e.rec)
	}
	for _, e := range v.order {
		if e.rec != nil && e.verdict.OK && e.rec.Kind == incident.KindAmend && e.rec.AuthorKey() == rec.AuthorKey() {
			versions = append(versions, e.rec)
		}
	}
	for _, r := range versions {
		rp := v.filesOf(r)
		if rp == nil {
			continue
		}
		if r.Kind == incident.KindAmend {
			if p := v.payloadOf(r); p == nil || !sameTarget(p, target) {
				continue
			}
		}
		readable = true
		for _, h := range rp.Attachments {
			orig := h
			if k, ok := rp.FileKeyFor(h); ok {
				orig = k.Hash
			}
			if len(orig) != 32 || !c.Describes([32]byte(orig)) {
				continue
			}
			_, clear := v.held[[32]byte(orig)]
			return "", clear || v.hasPlain(orig), true
		}
	}
	if !readable {
		return "", false, false
	}
	return fmt.Sprintf("describes file %s…, which its report does not attach", hex.EncodeToString(c.Hash)[:12]), false, true
}

// payloadOf is a record's payload as this package lets verify read it:
// in the clear, or opened with a disclosed key; nil otherwise.
func (v *verifier) payloadOf(r *incident.Signed) any {
	if len(r.Sealed) > 0 {
		return v.opened[r.ID]
	}
	p, err := r.DecodePayload()
	if err != nil {
		return nil
	}
	return p
}

// filesOf is the files part of a report, amendment or tally as verify
// reads it.
func (v *verifier) filesOf(r *incident.Signed) *incident.ReportPayload {
	return payloadReport(v.payloadOf(r))
}

func sameTarget(p any, target incident.ID) bool {
	a, ok := p.(*incident.AmendPayload)
	return ok && len(a.Target) == 32 && incident.ID(a.Target) == target
}

// judgeCaptures checks every capture record that verified and that this
// package lets verify read, and notes on its line what it says.
func (v *verifier) judgeCaptures() {
	for _, e := range v.order {
		if e.rec == nil || !e.verdict.OK || e.rec.Kind != incident.KindCapture {
			continue
		}
		c, ok := v.payloadOf(e.rec).(*incident.CapturePayload)
		if !ok {
			continue
		}
		problem, held, readable := v.captureFile(e.rec, c)
		switch {
		case !readable:
			e.verdict.Capture = "capture of a file of a report not readable here (sealed, its key not disclosed): the file was not matched"
			continue
		case problem != "":
			e.verdict.OK, e.verdict.Reason = false, "capture record "+problem
			continue
		}
		e.verdict.Capture = fmt.Sprintf("capture of file %s… of %s: %s", hex.EncodeToString(c.Hash)[:12],
			incident.ID(c.Target), incident.DescribeCapture(*c))
		if !held {
			e.verdict.Capture += " (the file itself is not here)"
		}
	}
}
