package main

import (
	"fmt"
	"slices"

	"filippo.io/age"

	"github.com/vigil-mesh/vigil/bench/gen"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/sms"
)

// smsGroup: how many SMS segments each kind of record takes (docs/sms.md).
// For each kind that goes by SMS, observations as typed on a phone
// (gen.World.SMSPayloads) are sealed with the compact seal, signed and
// encoded as texts; the result is the median segments with the largest
// and how many did not fit (those are sealed with age and go by the mesh
// only). The baseline is the same payload sealed with age to three
// coordinators, in bytes, against the compactly sealed record's bytes: what
// the compact seal saves. Targets (issue 21): a typical report in 2
// segments, a tally in 3.
func smsGroup(rs *Results, o benchOptions, logf func(string, ...any)) error {
	n := 2000
	if o.quick {
		n = 200
	}
	w := gen.NewWorld(o.seed)
	signer, err := incident.NewSigner(gen.RandomBytes(32))
	if err != nil {
		return err
	}
	inbox, err := incident.NewInboxKey()
	if err != nil {
		return err
	}
	var coords []age.Recipient
	for range 3 {
		id, err := age.GenerateX25519Identity()
		if err != nil {
			return err
		}
		coords = append(coords, id.Recipient())
	}
	var mission incident.ID
	copy(mission[:], gen.RandomBytes(32))
	targets := map[incident.Kind]int{incident.KindReport: 2, incident.KindTally: 3}
	for _, profile := range append(slices.Clone(incident.CompactKinds), gen.KindLongReport) {
		kind := profile
		if profile == gen.KindLongReport {
			kind = incident.KindReport
		}
		var segs []int
		var compactBytes, ageBytes, tooLarge int
		for _, p := range w.SMSPayloads(profile, n, o.seed) {
			ct, err := incident.SealCompact(kind, p.Payload, signer.Author(), p.Created.UnixMilli(), inbox.PublicKey())
			if err != nil {
				tooLarge++
				continue
			}
			rec, err := signer.SignSealed(mission, kind, p.Created, incident.SealedEnvelope{}, ct)
			if err != nil {
				return err
			}
			text, err := sms.Encode(rec)
			if err != nil {
				tooLarge++
				continue
			}
			segs = append(segs, sms.Segments(text))
			compactBytes += len(rec.Raw)
			act, err := incident.Seal(kind, p.Payload, coords)
			if err != nil {
				return err
			}
			ageBytes += len(rec.Raw) - len(ct) + len(act)
		}
		if len(segs) == 0 {
			return fmt.Errorf("sms: no %s fits in a text", profile)
		}
		slices.Sort(segs)
		median, largest := segs[len(segs)/2], segs[len(segs)-1]
		params := map[string]any{"kind": string(profile), "records": n}
		r := Result{Name: "sms.segments", Params: params, Value: float64(median), Unit: "segments",
			Note: fmt.Sprintf("median of %d %ss as typed for SMS (gen.SMSPayloads); largest %d; %d too large for SMS (sealed with age, mesh only)", n, profile, largest, tooLarge)}
		if t, ok := targets[profile]; ok {
			r.Target, r.Met = fmt.Sprintf("median <= %d", t), boolp(median <= t)
		}
		rs.add(r)
		fit := len(segs)
		rs.add(Result{Name: "sms.sealed_bytes", Params: params, Value: float64(compactBytes) / float64(fit), Unit: "B",
			Note: "mean bytes of the compactly sealed record"}.withBaseline("the same payload sealed with age to 3 coordinators", float64(ageBytes)/float64(fit)))
		logf("sms %s: median %d segments, largest %d, %d of %d too large; %.0f B compact vs %.0f B age",
			profile, median, largest, tooLarge, n, float64(compactBytes)/float64(fit), float64(ageBytes)/float64(fit))
	}
	return nil
}
