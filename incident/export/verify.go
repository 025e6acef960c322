package export

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/bundle"
)

// Verdict is verify's answer for one item of a file: a record (ID set) or
// a part of the file that could not be read (Item names it).
type Verdict struct {
	ID     string `json:"id"`
	OK     bool   `json:"ok"`
	Reason string `json:"reason,omitempty"`
	// Covered (evidence packages): the earliest checkpoint that covers
	// the record, which proves it existed by that checkpoint's time.
	Covered string `json:"covered,omitempty"`
}

func (v Verdict) String() string {
	if v.OK {
		if v.Covered != "" {
			return v.ID + " OK (" + v.Covered + ")"
		}
		return v.ID + " OK"
	}
	return v.ID + " BAD " + v.Reason
}

// Report is the outcome of verifying a file.
type Report struct {
	Format   string      `json:"format"`
	Mission  incident.ID `json:"mission"`
	Name     string      `json:"mission_name"`
	Verdicts []Verdict   `json:"verdicts"`
}

// Bad counts the verdicts that are not OK.
func (r *Report) Bad() int {
	n := 0
	for _, v := range r.Verdicts {
		if !v.OK {
			n++
		}
	}
	return n
}

// MaxVerifyBytes bounds a file verify reads.
const MaxVerifyBytes = 1 << 30

// Verify checks a bundle or a JSONL export offline: every signature, every
// membership chain back to the genesis, and for JSONL that the decoded
// fields on each line match the signed records. Without mission, it trusts
// the genesis in the file (the caller prints its ID for the user to
// compare); with mission, a file of another mission fails. An error is
// returned only when the file cannot be read at all.
func Verify(r io.Reader, mission *incident.ID) (*Report, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxVerifyBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxVerifyBytes {
		return nil, fmt.Errorf("file is larger than %d bytes", MaxVerifyBytes)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("the file is empty")
	}
	v := &verifier{mission: mission, byID: map[incident.ID]*entry{}, covers: map[incident.ID][]incident.ID{}}
	if IsEvidence(data) {
		v.rep.Format = "evidence"
		if err := v.readEvidence(data); err != nil {
			return nil, err
		}
	} else if bytes.HasPrefix(data, bundle.Magic) {
		v.rep.Format = "bundle"
		v.readBundle(data)
	} else {
		v.rep.Format = "jsonl"
		if err := v.readJSONL(data); err != nil {
			return nil, err
		}
	}
	v.judge()
	return &v.rep, nil
}

type entry struct {
	rec     *incident.Signed
	verdict *Verdict
	line    *ReportLine // JSONL report lines
	related []*incident.Signed
}

type verifier struct {
	mission *incident.ID
	rep     Report
	order   []*entry
	byID    map[incident.ID]*entry
	extra   []Verdict // file-level problems, listed after the records

	// evidence packages
	manifest      *Manifest
	manifestBytes []byte
	manifestSig   []byte
	covers        map[incident.ID][]incident.ID
}

func (v *verifier) add(raw []byte, name string) *entry {
	e := &entry{verdict: &Verdict{ID: name}}
	rec, err := incident.Decode(raw)
	if err != nil {
		if name == "" {
			// The record's own ID is lost with its bytes: name the frame
			// and what the damaged bytes hash to.
			e.verdict.ID = incident.IDOf(raw).String()
			err = fmt.Errorf("record %d in the file: %w", len(v.order)+1, err)
		}
		e.verdict.Reason = err.Error()
		v.order = append(v.order, e)
		return e
	}
	e.rec = rec
	if name == "" || name != rec.ID.String() {
		if name != "" {
			e.verdict.Reason = fmt.Sprintf("record hashes to %s, not the ID given", rec.ID)
		}
		e.verdict.ID = rec.ID.String()
	}
	if prev, ok := v.byID[rec.ID]; ok {
		return prev
	}
	v.byID[rec.ID] = e
	v.order = append(v.order, e)
	return e
}

func (v *verifier) readBundle(data []byte) {
	_, recs, err := bundle.Parse(data)
	if err != nil {
		// Name what can be named: split the frames without the checksum.
		_, recs, ferr := bundle.Frames(data)
		v.extra = append(v.extra, Verdict{ID: "bundle", Reason: err.Error()})
		if ferr != nil && ferr.Error() != err.Error() {
			v.extra = append(v.extra, Verdict{ID: "bundle", Reason: ferr.Error()})
		}
		for _, r := range recs {
			v.add(r, "")
		}
		return
	}
	for _, r := range recs {
		v.add(r, "")
	}
}

var idInLine = regexp.MustCompile(`"id"\s*:\s*"([a-z2-7]+)"`)

func (v *verifier) readJSONL(data []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	n := 0
	for sc.Scan() {
		n++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		name := fmt.Sprintf("line %d", n)
		if m := idInLine.FindSubmatch(text); m != nil {
			name = string(m[1])
		}
		var probe struct {
			Kind string `json:"kind"`
		}
		if err := json.Unmarshal(text, &probe); err != nil {
			v.extra = append(v.extra, Verdict{ID: name, Reason: fmt.Sprintf("line %d is not valid JSON: %v", n, err)})
			continue
		}
		if probe.Kind == "notice" {
			continue // a practice or public-export notice: information only, not a record
		}
		if probe.Kind != string(incident.KindReport) {
			var d DepLine
			dec := json.NewDecoder(bytes.NewReader(text))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&d); err != nil {
				v.extra = append(v.extra, Verdict{ID: name, Reason: fmt.Sprintf("line %d: %v", n, err)})
				continue
			}
			raw, err := base64.StdEncoding.DecodeString(d.Record)
			if err != nil {
				v.extra = append(v.extra, Verdict{ID: name, Reason: fmt.Sprintf("line %d: record is not base64", n)})
				continue
			}
			e := v.add(raw, d.ID)
			if e.rec != nil && e.rec.Kind != d.Kind && e.verdict.Reason == "" {
				e.verdict.Reason = fmt.Sprintf("line says kind %s, the record is a %s", d.Kind, e.rec.Kind)
			}
			continue
		}
		var line ReportLine
		dec := json.NewDecoder(bytes.NewReader(text))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&line); err != nil {
			v.extra = append(v.extra, Verdict{ID: name, Reason: fmt.Sprintf("line %d: %v", n, err)})
			continue
		}
		raw, err := base64.StdEncoding.DecodeString(line.Record)
		if err != nil {
			v.extra = append(v.extra, Verdict{ID: name, Reason: fmt.Sprintf("line %d: record is not base64", n)})
			continue
		}
		e := v.add(raw, line.ID)
		e.line = &line
		for i, rb := range line.Related {
			rr, err := base64.StdEncoding.DecodeString(rb)
			if err != nil {
				e.verdict.Reason = fmt.Sprintf("related record %d is not base64", i)
				continue
			}
			re := v.add(rr, "")
			if re.rec != nil {
				e.related = append(e.related, re.rec)
			}
		}
	}
	return sc.Err()
}

// judge validates every decoded record against the genesis in the file,
// retrying those that wait for another record until nothing changes.
func (v *verifier) judge() {
	var genesis *incident.Signed
	for _, e := range v.order {
		if e.rec != nil && e.rec.Kind == incident.KindMission && e.verdict.Reason == "" {
			if v.mission != nil && e.rec.ID != *v.mission {
				continue
			}
			if genesis == nil {
				genesis = e.rec
			}
		}
	}
	if genesis == nil {
		if v.manifest != nil {
			v.judgeEvidence(nil)
		}
		reason := "the file holds no mission genesis"
		if v.mission != nil {
			reason = fmt.Sprintf("the file holds no genesis of mission %s", *v.mission)
		}
		for _, e := range v.order {
			if e.verdict.Reason == "" {
				e.verdict.Reason = reason
			}
		}
		v.finish()
		return
	}
	ms, err := incident.NewMissionState(genesis)
	if err != nil {
		v.extra = append(v.extra, Verdict{ID: genesis.ID.String(), Reason: err.Error()})
		v.finish()
		return
	}
	v.rep.Mission, v.rep.Name = ms.ID, ms.Mission.Name
	src := sourceMap{}
	pending := map[*entry]error{}
	for _, e := range v.order {
		if e.rec != nil && e.verdict.Reason == "" {
			pending[e] = nil
		}
	}
	for progress := true; progress; {
		progress = false
		for _, e := range v.order {
			if _, ok := pending[e]; !ok {
				continue
			}
			err := incident.Validate(e.rec, ms, src)
			if incident.IsMissing(err) {
				pending[e] = err
				continue
			}
			delete(pending, e)
			progress = true
			if err != nil {
				e.verdict.Reason = err.Error()
				continue
			}
			e.verdict.OK = true
			src[e.rec.ID] = e.rec
			_ = ms.Apply(e.rec)
		}
	}
	for e, err := range pending {
		e.verdict.Reason = err.Error() + " (not in the file)"
	}
	if v.manifest != nil {
		v.judgeEvidence(ms)
	}
	// JSONL: the decoded fields must be what the signed records say.
	for _, e := range v.order {
		if e.line == nil || !e.verdict.OK {
			continue
		}
		for _, r := range e.related {
			if re := v.byID[r.ID]; re != nil && !re.verdict.OK {
				e.verdict.OK, e.verdict.Reason = false, fmt.Sprintf("related record %s is bad: %s", r.ID, re.verdict.Reason)
			}
		}
		if !e.verdict.OK {
			continue
		}
		view, err := incident.FoldReport(e.rec, e.related, ms, time.Now())
		if err != nil {
			e.verdict.OK, e.verdict.Reason = false, err.Error()
			continue
		}
		if field := differs(view.JSON(false), e.line.ReportJSON); field != "" {
			e.verdict.OK, e.verdict.Reason = false, fmt.Sprintf("field %q on the line differs from the signed record", field)
		}
	}
	v.finish()
}

// differs names the first field of got that differs from the recomputed
// want, ignoring clock-dependent flags.
func differs(want, got incident.ReportJSON) string {
	if want.Sealed {
		// A sealed report's fields come from the ciphertext, which only a
		// coordinator can open: check what the record shows in the clear.
		switch {
		case want.ID != got.ID:
			return "id"
		case want.Author != got.Author:
			return "author"
		case want.Created != got.Created:
			return "created"
		case !got.Sealed:
			return "sealed"
		}
		return ""
	}
	want.Flags, got.Flags = clockless(want.Flags), clockless(got.Flags)
	wv, gv := reflect.ValueOf(want), reflect.ValueOf(got)
	t := wv.Type()
	for i := 0; i < t.NumField(); i++ {
		if !reflect.DeepEqual(wv.Field(i).Interface(), gv.Field(i).Interface()) {
			name := t.Field(i).Tag.Get("json")
			if j := bytes.IndexByte([]byte(name), ','); j >= 0 {
				name = name[:j]
			}
			return name
		}
	}
	return ""
}

func clockless(flags []string) []string {
	out := []string{}
	for _, f := range flags {
		if f != incident.FlagFutureTime {
			out = append(out, f)
		}
	}
	return out
}

func (v *verifier) finish() {
	for _, e := range v.order {
		v.rep.Verdicts = append(v.rep.Verdicts, *e.verdict)
	}
	v.rep.Verdicts = append(v.rep.Verdicts, v.extra...)
}

type sourceMap map[incident.ID]*incident.Signed

func (m sourceMap) Get(id incident.ID) (*incident.Signed, error) { return m[id], nil }
