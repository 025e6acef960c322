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
// entry gives); and whether the file itself is there. A sealed capture
// whose key is not disclosed is checked by its signature alone, as any
// sealed record is.

// judgeCaptures checks every capture record that verified and that this
// file lets verify read, and notes on its line what it says.
func (v *verifier) judgeCaptures() {
	var amends map[incident.ID][]*incident.Signed // built at the first capture
	for _, e := range v.order {
		if e.rec == nil || !e.verdict.OK || e.rec.Kind != incident.KindCapture {
			continue
		}
		c, ok := v.payloadOf(e.rec).(*incident.CapturePayload)
		if !ok {
			continue
		}
		if amends == nil {
			amends = v.amendsByTarget()
		}
		problem, held, readable := v.captureFile(e.rec, c, amends[incident.ID(c.Target)])
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

// captureFile says what verify found of a capture's file: problem is
// empty when its report attaches it; held says whether the file itself
// is in what is verified; readable whether any version of the report
// could be read here (a sealed one whose key is not disclosed cannot).
// amends are the amendments in the file that name the capture's target.
func (v *verifier) captureFile(rec *incident.Signed, c *incident.CapturePayload, amends []*incident.Signed) (problem string, held, readable bool) {
	var versions []*incident.Signed
	if e := v.byID[incident.ID(c.Target)]; e != nil && e.rec != nil {
		versions = append(versions, e.rec)
	}
	for _, a := range amends {
		if a.AuthorKey() == rec.AuthorKey() {
			versions = append(versions, a)
		}
	}
	for _, r := range versions {
		rp := payloadReport(v.payloadOf(r))
		if rp == nil {
			continue
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

// amendsByTarget indexes the amendments that verified by the report they
// name (in the clear, or on a sealed one's envelope), once for all the
// captures of a file.
func (v *verifier) amendsByTarget() map[incident.ID][]*incident.Signed {
	out := map[incident.ID][]*incident.Signed{}
	for _, e := range v.order {
		if e.rec == nil || !e.verdict.OK || e.rec.Kind != incident.KindAmend {
			continue
		}
		p, err := e.rec.DecodePayload()
		if err != nil {
			continue
		}
		var t []byte
		switch x := p.(type) {
		case *incident.AmendPayload:
			t = x.Target
		case *incident.SealedEnvelope:
			t = x.Target
		}
		if len(t) == 32 {
			out[incident.ID(t)] = append(out[incident.ID(t)], e.rec)
		}
	}
	return out
}

// payloadOf is a record's payload as this file lets verify read it: in
// the clear, or opened with a disclosed key; nil otherwise.
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
