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
	"runtime"
	"slices"
	"strings"
	"sync"
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
	// Newer lists what this build could not read in a record it checked
	// (Signed.Newer: "kind notice", or payload fields by path such as
	// "16"). OK still means what it says: the signature, the encoding
	// and the author's membership chain are sound. The rules of what it
	// could not read (who may sign a kind, what a field may hold) are a
	// newer Vigil's to check.
	Newer []string `json:"newer,omitempty"`
	// Unchecked: the record is of a schema version newer than this build
	// reads, so not even its signature could be checked. OK is false
	// (nothing unchecked may pass as verified) but the record is not
	// called forged.
	Unchecked bool `json:"unchecked,omitempty"`
	// NeedsNewerVigil: Newer is not empty or the record is Unchecked.
	NeedsNewerVigil bool `json:"needs_newer_vigil,omitempty"`
	// FieldsNotCompared (JSONL report lines): a record that shapes the
	// report's view is of a kind this build does not know, so the
	// decoded fields on the line, but for its ID, author and time, were
	// not compared with the signed records.
	FieldsNotCompared bool `json:"fields_not_compared,omitempty"`
	// Sealed (evidence packages, sealed records that verified): "opened"
	// when the package discloses the record's file key and the body it
	// opens was checked (fields valid, the envelope's kind and target);
	// "not_disclosed" when it does not, so only the signature and the
	// membership chain were checked, not the content.
	Sealed string `json:"sealed,omitempty"`
	// MissingFiles (evidence packages): the attachments this record (a
	// report or an amendment) names, by the hash it names them by, whose
	// content the package does not carry. A note, not a failure: the
	// records are authentic, and the exporter may never have received the
	// file; what was not there was not checked, and the line says so.
	MissingFiles []string `json:"missing_files,omitempty"`
	// Capture (capture records that verified): what the record says of
	// its file, once verify matched the file to its report; or why it
	// could not.
	Capture string `json:"capture,omitempty"`
}

// Sealed says what an evidence package let verify check of a sealed
// record's content.
const (
	SealedOpened       = "opened"
	SealedNotDisclosed = "not_disclosed"
)

func (v Verdict) String() string {
	if v.Unchecked {
		return v.ID + " UNCHECKED " + v.Reason
	}
	if v.OK {
		var notes []string
		if v.Covered != "" {
			notes = append(notes, v.Covered)
		}
		if len(v.Newer) > 0 {
			notes = append(notes, "needs a newer Vigil: "+describeNewer(v.Newer))
		}
		if v.FieldsNotCompared {
			notes = append(notes, "the line's fields were not compared")
		}
		switch v.Sealed {
		case SealedOpened:
			notes = append(notes, "sealed content checked with the disclosed key")
		case SealedNotDisclosed:
			notes = append(notes, "sealed: content not checked, no key disclosed")
		}
		if n := len(v.MissingFiles); n > 0 {
			short := make([]string, n)
			for i, h := range v.MissingFiles {
				short[i] = h[:min(len(h), 12)] + "…"
			}
			notes = append(notes, fmt.Sprintf("%s not in the package: %s", incident.Plural(n, "attached file"), strings.Join(short, ", ")))
		}
		if v.Capture != "" {
			notes = append(notes, v.Capture)
		}
		if len(notes) > 0 {
			return v.ID + " OK (" + strings.Join(notes, "; ") + ")"
		}
		return v.ID + " OK"
	}
	return v.ID + " BAD " + v.Reason
}

// describeNewer prints Signed.Newer's list for people: "kind notice", or
// "field 16", "fields 16, report.16".
func describeNewer(newer []string) string {
	var kinds, fields []string
	for _, n := range newer {
		if strings.HasPrefix(n, "kind ") {
			kinds = append(kinds, n)
		} else {
			fields = append(fields, n)
		}
	}
	switch len(fields) {
	case 0:
	case 1:
		kinds = append(kinds, "field "+fields[0])
	default:
		kinds = append(kinds, "fields "+strings.Join(fields, ", "))
	}
	return strings.Join(kinds, ", ")
}

// setNewer records what this build could not read in a record v checked.
func (v *Verdict) setNewer(newer []string) {
	v.Newer = newer
	v.NeedsNewerVigil = v.Unchecked || len(newer) > 0
}

// unchecked marks v as a record of a newer schema version: not checked,
// not forged.
func (v *Verdict) unchecked(err error) {
	var ne *incident.NewerError
	errors.As(err, &ne)
	v.OK, v.Unchecked, v.NeedsNewerVigil = false, true, true
	v.Reason = fmt.Sprintf("needs a newer Vigil to check (record version %d; this build reads version %d)", ne.Version, incident.SchemaVersion)
}

// Report is the outcome of verifying a file.
type Report struct {
	Format   string      `json:"format"`
	Mission  incident.ID `json:"mission"`
	Name     string      `json:"mission_name"`
	Verdicts []Verdict   `json:"verdicts"`
}

// Bad counts the verdicts that are not OK, Unchecked ones included: a
// verifier that could not check a record must not let it pass as
// verified, so `vigil verify` exits with an error for them too (its
// message tells them apart from forgeries).
func (r *Report) Bad() int {
	n := 0
	for _, v := range r.Verdicts {
		if !v.OK {
			n++
		}
	}
	return n
}

// Unchecked counts the records of a schema version newer than this build
// reads (part of Bad).
func (r *Report) Unchecked() int {
	n := 0
	for _, v := range r.Verdicts {
		if v.Unchecked {
			n++
		}
	}
	return n
}

// Newer counts the records verified OK that hold something this build
// cannot read (Verdict.Newer).
func (r *Report) Newer() int {
	n := 0
	for _, v := range r.Verdicts {
		if v.OK && len(v.Newer) > 0 {
			n++
		}
	}
	return n
}

// MissingFiles counts the attachments that records name and the package
// does not carry (Verdict.MissingFiles).
func (r *Report) MissingFiles() int {
	n := 0
	for _, v := range r.Verdicts {
		n += len(v.MissingFiles)
	}
	return n
}

// NotDisclosed counts the sealed records of an evidence package that
// verified but whose content was not checked, no key being disclosed.
func (r *Report) NotDisclosed() int {
	n := 0
	for _, v := range r.Verdicts {
		if v.OK && v.Sealed == SealedNotDisclosed {
			n++
		}
	}
	return n
}

// Opened counts the sealed records whose content was checked with a
// disclosed key.
func (r *Report) Opened() int {
	n := 0
	for _, v := range r.Verdicts {
		if v.OK && v.Sealed == SealedOpened {
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
//
// Records a newer Vigil wrote are checked as far as this build can: one
// of a kind it does not know, or with fields it does not know, by
// signature, encoding and membership (the verdict lists what it could not
// read, and the decoded fields it cannot read are not compared); one of a
// newer schema version not at all (Verdict.Unchecked).
func Verify(r io.Reader, mission *incident.ID) (*Report, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxVerifyBytes+1))
	if err != nil {
		return nil, err
	}
	return VerifyAt(bytes.NewReader(data), int64(len(data)), mission)
}

// VerifyAt is Verify over a file of size bytes read where it lies: a
// bundle is read twice (checked whole, then its records in batches), an
// evidence package entry by entry, a JSONL export line by line. What
// verifying keeps is a verdict per record; a file that is not sound costs
// a verdict naming where it breaks, not one per byte.
func VerifyAt(src io.ReaderAt, size int64, mission *incident.ID) (*Report, error) {
	if size > MaxVerifyBytes {
		return nil, fmt.Errorf("file is larger than %d bytes", MaxVerifyBytes)
	}
	head := make([]byte, len(bundle.Magic))
	n, err := src.ReadAt(head, 0)
	if err != nil && err != io.EOF {
		return nil, err
	}
	head = head[:n]
	v := &verifier{mission: mission, byID: map[incident.ID]*entry{}, covers: map[incident.ID][]incident.ID{},
		held: map[[32]byte][]byte{}}
	if IsEvidence(head) {
		v.rep.Format = "evidence"
		if err := v.readEvidence(src, size); err != nil {
			return nil, err
		}
	} else if bytes.HasPrefix(head, bundle.Magic) {
		v.rep.Format = "bundle"
		v.readBundle(src, size)
	} else {
		v.rep.Format = "jsonl"
		if err := v.readJSONL(io.NewSectionReader(src, 0, size)); err != nil {
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
	table   any         // JSONL table lines: *TallyLine, *ResponseLine or *StationLine
	related []*incident.Signed
	// lenient: the line holds JSON keys this build does not know, allowed
	// because its records need a newer Vigil (a newer build wrote it).
	lenient bool
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
	held          map[[32]byte][]byte // attachments/, by content hash
	keys          []disclosedKey      // keys/
	tables        map[string][]byte   // tables/, by path, their hashes checked
	opened        map[incident.ID]any // sealed records opened with disclosed keys
	plain         []plainCopy         // files/

	// bundles: frames read, and those that hold no readable record
	frames, undecodable int
}

func (v *verifier) add(raw []byte, name string) *entry {
	rec, err := incident.Decode(raw)
	return v.addDecoded(raw, name, rec, err)
}

// addDecoded is add of a record already decoded (rec, err: Decode's).
func (v *verifier) addDecoded(raw []byte, name string, rec *incident.Signed, err error) *entry {
	e := &entry{verdict: &Verdict{ID: name}}
	if incident.IsNewer(err) {
		// The ID is the hash of the bytes, whatever their version.
		e.verdict.ID = incident.IDOf(raw).String()
		e.verdict.unchecked(err)
		if name != "" && name != e.verdict.ID {
			e.verdict.Unchecked, e.verdict.NeedsNewerVigil = false, false
			e.verdict.Reason = fmt.Sprintf("record hashes to %s, not the ID given", e.verdict.ID)
		}
		id := incident.IDOf(raw)
		if prev, ok := v.byID[id]; ok {
			return prev
		}
		v.byID[id] = e
		v.order = append(v.order, e)
		return e
	}
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

// readBundle reads a bundle in two passes: Check, then the records in
// batches. A bundle that fails the check is named by one verdict (two when
// splitting its frames finds another fault), and its records up to the
// first broken frame are still judged one by one, so that a flipped byte
// names the damaged record.
func (v *verifier) readBundle(src io.ReaderAt, size int64) {
	chk, err := bundle.Check(io.NewSectionReader(src, 0, size), MaxVerifyBytes)
	if err == nil {
		if err := chk.Walk(io.NewSectionReader(src, 0, size), v.addBatch, nil); err != nil {
			v.extra = append(v.extra, Verdict{ID: "bundle", Reason: err.Error()})
		}
		return
	}
	v.extra = append(v.extra, Verdict{ID: "bundle", Reason: err.Error()})
	if errors.Is(err, bundle.ErrNewer) {
		return
	}
	// Name what can be named: split the frames without the checksum.
	v.frames, v.undecodable = 0, 0
	_, ferr := bundle.Frames(io.NewSectionReader(src, 0, size), MaxVerifyBytes, v.addBatch)
	if ferr != nil && ferr.Error() != err.Error() {
		v.extra = append(v.extra, Verdict{ID: "bundle", Reason: ferr.Error()})
	}
}

// addBatch adds a batch of records from a bundle, their signatures checked
// on every core first.
func (v *verifier) addBatch(raws [][]byte) error {
	type decoded struct {
		rec *incident.Signed
		err error
	}
	out := make([]decoded, len(raws))
	workers := min(runtime.GOMAXPROCS(0), len(raws))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(raws); i += workers {
				out[i].rec, out[i].err = incident.Decode(raws[i])
			}
		}()
	}
	wg.Wait()
	for i, raw := range raws {
		v.frames++
		if out[i].err != nil && !incident.IsNewer(out[i].err) {
			if v.undecodable++; v.undecodable > MaxUndecodable {
				return fmt.Errorf("frame %d: more than %d frames hold no readable record: not a bundle of records, read no further",
					v.frames-1, MaxUndecodable)
			}
		}
		v.addDecoded(raw, "", out[i].rec, out[i].err)
	}
	return nil
}

// MaxUndecodable bounds the frames of a bundle that hold no readable
// record verify names one by one: a damaged bundle has a few, and a file
// of garbage frames costs one verdict more, not one per frame.
const MaxUndecodable = 100

var idInLine = regexp.MustCompile(`"id"\s*:\s*"([a-z2-7]+)"`)

func (v *verifier) readJSONL(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 16<<20)
	n, lines := 0, 0
	for sc.Scan() {
		n++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		lines++
		name := fmt.Sprintf("line %d", n)
		if m := idInLine.FindSubmatch(text); m != nil {
			name = string(m[1])
		}
		var probe struct {
			Kind   string  `json:"kind"`
			Record *string `json:"record"`
		}
		if err := json.Unmarshal(text, &probe); err != nil {
			v.extra = append(v.extra, Verdict{ID: name, Reason: fmt.Sprintf("line %d is not valid JSON: %v", n, err)})
			continue
		}
		switch kind := incident.Kind(probe.Kind); {
		case kind == "notice" && probe.Record == nil:
			// A practice or public-export notice: information only, not
			// a record. (A record of a newer kind named notice has one.)
		case kind == incident.KindReport:
			v.readReportLine(text, n, name)
		case kind == incident.KindTally || kind == incident.KindResponse || kind == incident.KindStation:
			v.readTableLine(text, n, name, kind)
		case kind.Known():
			var d DepLine
			raws, lenient, err := decodeLine(text, &d, func() []string { return []string{d.Record} })
			if err != nil {
				v.extra = append(v.extra, Verdict{ID: name, Reason: fmt.Sprintf("line %d: %v", n, err)})
				continue
			}
			e := v.add(raws[0], d.ID)
			e.lenient = lenient
			if e.rec != nil && e.rec.Kind != d.Kind && e.verdict.Reason == "" {
				e.verdict.Reason = fmt.Sprintf("line says kind %s, the record is %s", d.Kind, incident.Article(string(e.rec.Kind)))
			}
		default:
			v.readNewerLine(text, n, name)
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}
	if lines == 0 {
		return errors.New("the file is empty")
	}
	return nil
}

// decodeLine decodes a JSONL line into line, refusing JSON keys this build
// does not know, unless a record the line carries (records lists them,
// base64, once line is decoded) needs a newer Vigil: a newer build prints
// what it added, and this one compares only what it reads. It returns the
// decoded records and whether unknown keys were let through.
func decodeLine(text []byte, line any, records func() []string) (raws [][]byte, lenient bool, err error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	strict := dec.Decode(line)
	if strict != nil {
		reflect.ValueOf(line).Elem().SetZero()
		if json.Unmarshal(text, line) != nil {
			return nil, false, strict
		}
	}
	for i, r := range records() {
		raw, err := base64.StdEncoding.DecodeString(r)
		if err != nil {
			if i == 0 {
				return nil, false, errors.New("record is not base64")
			}
			raw = nil // named by the caller
		}
		raws = append(raws, raw)
	}
	if strict == nil {
		return raws, false, nil
	}
	for _, raw := range raws {
		if needsNewer(raw) {
			return raws, true, nil
		}
	}
	return nil, false, strict
}

// needsNewer reports whether raw is a record of a newer schema version, of
// a kind this build does not know, or with fields a newer build added. It
// judges nothing else: the verdicts do.
func needsNewer(raw []byte) bool {
	rec, err := incident.Decode(raw)
	if err != nil {
		return incident.IsNewer(err)
	}
	return len(rec.Newer()) > 0
}

// readReportLine reads one report line: its record, and the related
// records that shape its view.
func (v *verifier) readReportLine(text []byte, n int, name string) {
	var line ReportLine
	raws, lenient, err := decodeLine(text, &line, func() []string { return append([]string{line.Record}, line.Related...) })
	if err != nil {
		v.extra = append(v.extra, Verdict{ID: name, Reason: fmt.Sprintf("line %d: %v", n, err)})
		return
	}
	e := v.add(raws[0], line.ID)
	e.line, e.lenient = &line, lenient
	for i, rr := range raws[1:] {
		if rr == nil {
			e.verdict.Reason = fmt.Sprintf("related record %d is not base64", i)
			continue
		}
		re := v.add(rr, "")
		if re.rec != nil {
			e.related = append(e.related, re.rec)
		}
	}
}

// readNewerLine reads the line of a record of a kind this build does not
// know: the record is checked (signature, encoding, membership) and what
// the line says of it in the clear (kind, ID, author, time) must match.
// Any other key is a newer Vigil's and is not compared.
func (v *verifier) readNewerLine(text []byte, n int, name string) {
	var line NewerLine
	if err := json.Unmarshal(text, &line); err != nil {
		v.extra = append(v.extra, Verdict{ID: name, Reason: fmt.Sprintf("line %d: %v", n, err)})
		return
	}
	raw, err := base64.StdEncoding.DecodeString(line.Record)
	if err != nil || line.Record == "" {
		v.extra = append(v.extra, Verdict{ID: name, Reason: fmt.Sprintf("line %d: no base64 record (kind %q)", n, line.Kind)})
		return
	}
	e := v.add(raw, line.ID)
	if e.rec == nil || e.verdict.Reason != "" {
		return
	}
	switch {
	case e.rec.Kind != line.Kind:
		e.verdict.Reason = fmt.Sprintf("line says kind %s, the record is %s", line.Kind, incident.Article(string(e.rec.Kind)))
	case line.Author != "" && line.Author != e.rec.AuthorKey().String():
		e.verdict.Reason = `field "author" on the line differs from the signed record`
	case line.Created != "" && line.Created != incident.FormatTime(e.rec.Created):
		e.verdict.Reason = `field "created" on the line differs from the signed record`
	}
}

// judge validates every decoded record against the genesis in the file;
// a record that waits for another is judged again when that one is
// accepted, as the store does with its quarantine.
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
	// Records that wait for a dependency are parked by what they wait for
	// (a record ID, or an author key until that member's enrollment is
	// accepted) and judged again only when it is: each record is judged
	// at most once more than it fails, whatever order the file is in.
	pending := map[*entry]error{}
	parked := map[string][]*entry{}
	var work []*entry
	run := func(e *entry, early bool) {
		work = append(work[:0], e)
		for len(work) > 0 {
			e := work[0]
			work = work[1:]
			if early {
				// An enrollment whose issuer is no member yet waits for
				// the issuer's before its token's signature is checked:
				// a chain of enrollments newest first would otherwise
				// check each token twice. Its verdict, should the issuer
				// never come, is Validate's, below.
				if k, ok := issuerUnknown(e.rec, ms); ok {
					pending[e] = nil
					parked[k] = append(parked[k], e)
					continue
				}
			}
			err := incident.Validate(e.rec, ms, src)
			var missing *incident.MissingError
			if errors.As(err, &missing) {
				pending[e] = err
				k := string(missing.Key())
				parked[k] = append(parked[k], e)
				continue
			}
			delete(pending, e)
			if err != nil {
				e.verdict.Reason = err.Error()
				continue
			}
			e.verdict.OK = true
			e.verdict.setNewer(e.rec.Newer())
			src[e.rec.ID] = e.rec
			_ = ms.Apply(e.rec)
			keys := []string{string(e.rec.ID[:])}
			if e.rec.Kind == incident.KindMember {
				a := e.rec.AuthorKey()
				keys = append(keys, string(a[:]))
			}
			for _, k := range keys {
				work = append(work, parked[k]...)
				delete(parked, k)
			}
		}
	}
	for _, e := range v.order {
		if e.rec != nil && e.verdict.Reason == "" {
			run(e, true)
		}
	}
	// What still waits is judged once more, in file order, for its own
	// verdict (an enrollment parked early may be forged, not waiting).
	for _, e := range v.order {
		if _, ok := pending[e]; ok {
			run(e, false)
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
		// A related record of a kind this build does not know is checked
		// above on its own line of verdicts, but cannot be folded: the
		// view it shapes is a newer Vigil's to recompute, so only what
		// the report shows in the clear is compared.
		var known []*incident.Signed
		var unread []string
		for _, r := range e.related {
			if r.Kind.Known() {
				known = append(known, r)
			} else if n := "kind " + string(r.Kind); !slices.Contains(unread, n) {
				unread = append(unread, n)
			}
		}
		view, err := incident.FoldReport(e.rec, known, ms, time.Now())
		if err != nil {
			e.verdict.OK, e.verdict.Reason = false, err.Error()
			continue
		}
		if len(unread) > 0 {
			e.verdict.setNewer(append(e.verdict.Newer, unread...))
			e.verdict.FieldsNotCompared = true
		}
		if field := differs(view.JSON(false), e.line.ReportJSON, len(unread) > 0, e.lenient); field != "" {
			e.verdict.OK, e.verdict.Reason = false, fmt.Sprintf("field %q on the line differs from the signed record", field)
		}
	}
	v.judgeCaptures()
	v.judgeTables()
	v.finish()
}

// differs names the first field of got that differs from the recomputed
// want, ignoring clock-dependent flags. clearOnly compares only what the
// report shows in the clear (ID, author, time), as for a sealed report;
// newer (a line a newer Vigil wrote) lets got carry flags this build does
// not compute, as long as it carries every one this build does.
func differs(want, got incident.ReportJSON, clearOnly, newer bool) string {
	if want.Sealed || clearOnly {
		// A sealed report's fields come from the ciphertext, which only a
		// coordinator can open: check what the record shows in the clear.
		switch {
		case want.ID != got.ID:
			return "id"
		case want.Author != got.Author:
			return "author"
		case want.Created != got.Created:
			return "created"
		case want.Sealed != got.Sealed:
			return "sealed"
		}
		return ""
	}
	want.Flags, got.Flags = clockless(want.Flags), clockless(got.Flags)
	if newer && !slices.ContainsFunc(want.Flags, func(f string) bool { return !slices.Contains(got.Flags, f) }) {
		got.Flags = want.Flags
	}
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

// issuerUnknown returns the key of the issuer of an enrollment's token
// when the issuer is no member of ms yet.
func issuerUnknown(rec *incident.Signed, ms *incident.MissionState) (string, bool) {
	if rec.Kind != incident.KindMember {
		return "", false
	}
	p, err := rec.DecodePayload()
	mp, ok := p.(*incident.MemberPayload)
	if err != nil || !ok {
		return "", false
	}
	var issuer incident.Author
	if len(mp.Token.Issuer) != len(issuer) {
		return "", false
	}
	copy(issuer[:], mp.Token.Issuer)
	if _, member := ms.Role(issuer); member {
		return "", false
	}
	return string(issuer[:]), true
}

type sourceMap map[incident.ID]*incident.Signed

func (m sourceMap) Get(id incident.ID) (*incident.Signed, error) { return m[id], nil }

// readTableLine reads one line of an observation table's JSON Lines (a
// tally, response or station line) and its signed record.
func (v *verifier) readTableLine(text []byte, n int, name string, kind incident.Kind) {
	var line any
	var record func() string
	switch kind {
	case incident.KindTally:
		l := &TallyLine{}
		line, record = l, func() string { return l.Record }
	case incident.KindResponse:
		l := &ResponseLine{}
		line, record = l, func() string { return l.Record }
	default:
		l := &StationLine{}
		line, record = l, func() string { return l.Record }
	}
	raws, lenient, err := decodeLine(text, line, func() []string { return []string{record()} })
	if err == nil && len(raws[0]) == 0 {
		err = errors.New("no signed record (a public export cannot be verified)")
	}
	if err != nil {
		v.extra = append(v.extra, Verdict{ID: name, Reason: fmt.Sprintf("line %d: %v", n, err)})
		return
	}
	id := ""
	switch l := line.(type) {
	case *TallyLine:
		id = l.ID
	case *ResponseLine:
		id = l.ID
	case *StationLine:
		id = l.ID
	}
	e := v.add(raws[0], id)
	e.table, e.lenient = line, lenient
	if e.rec != nil && e.rec.Kind != kind && e.verdict.Reason == "" {
		e.verdict.Reason = fmt.Sprintf("line says kind %s, the record is %s", kind, incident.Article(string(e.rec.Kind)))
	}
}

// judgeTables compares each table line with its signed record: the
// fields the record itself gives (for a sealed record, what it shows in
// the clear: ID, author, time). The columns a table derives from other
// records (the registry's admin path, the checks against its registered
// voters, the form's labels, the observer's label, superseded) are not
// compared here; the records they come from are checked on their own
// lines.
func (v *verifier) judgeTables() {
	for _, e := range v.order {
		if e.table == nil || !e.verdict.OK || len(e.rec.Newer()) > 0 {
			continue
		}
		var p any
		if len(e.rec.Sealed) == 0 {
			var err error
			if p, err = e.rec.DecodePayload(); err != nil {
				e.verdict.OK, e.verdict.Reason = false, err.Error()
				continue
			}
		}
		var want, got any
		switch l := e.table.(type) {
		case *TallyLine:
			want, got = tallyOwn(tallyRow(e.rec, p)), tallyOwn(l.TallyRow)
		case *ResponseLine:
			want, got = responseOwn(responseRow(e.rec, p, nil)), responseOwn(l.ResponseRow)
		case *StationLine:
			sp, ok := p.(*incident.StationPayload)
			if !ok {
				e.verdict.OK, e.verdict.Reason = false, "the line's record is not a station's"
				continue
			}
			want, got = stationOwn(stationRow(e.rec.ID, sp)), stationOwn(l.StationRow)
		}
		if len(e.rec.Sealed) > 0 {
			// Only the coordinators open it: compare what it shows in
			// the clear.
			want, got = clearOwn(want), clearOwn(got)
		}
		if field := fieldDiff(want, got); field != "" {
			e.verdict.OK, e.verdict.Reason = false, fmt.Sprintf("field %q on the line differs from the signed record", field)
		}
	}
}

// fieldDiff names (by its JSON name) the first field in which two
// values of one struct type differ, or "".
func fieldDiff(a, b any) string {
	av, bv := reflect.ValueOf(a), reflect.ValueOf(b)
	t := av.Type()
	for i := 0; i < t.NumField(); i++ {
		if !reflect.DeepEqual(av.Field(i).Interface(), bv.Field(i).Interface()) {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			return name
		}
	}
	return ""
}
