package act

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/sms"
	"github.com/vigil-mesh/vigil/incident/store"
)

// SMS: a text message that is the signed record (docs/sms.md).
//
// What is sealed how is decided here, once, for every observation an
// observer sends (report, check-in, alert, tally, checklist response):
// when the mission takes SMS (a coordinator set sms_number, which made
// the inbox key) a record that SMS can carry is sealed compactly to the
// inbox key, so that the same signed record can go by the mesh and by a
// text message; a record too large for SMS, or with files, is sealed
// with age as before. Check-ins and alerts, in the clear otherwise, are
// sealed compactly in a mission that seals by default and takes SMS:
// operators read SMS, and where an observer is is what a check-in says.

// sealing is how a new observation is sealed.
type sealing int

const (
	inClear sealing = iota
	withAge
	compactly
)

// sealingFor decides how this device seals a new record of kind. sealed
// is what the person or the mission asked for reports, tallies and
// responses. Whether the record fits in a text is the seal's to say
// (putObservation).
func (d *Desk) sealingFor(ms *incident.MissionState, kind incident.Kind, sealed bool) sealing {
	_, inbox := ms.SMSInbox()
	takesSMS := inbox && ms.SMSNumber() != ""
	if kind == incident.KindCheckin || kind == incident.KindAlert {
		if ms.SealByDefault() && takesSMS {
			return compactly
		}
		return inClear
	}
	switch {
	case !sealed:
		return inClear
	case takesSMS:
		return compactly
	}
	return withAge
}

// putObservation signs and stores an observation sealed as sealingFor
// decides. One that SMS cannot carry (files, or too long for
// sms.MaxSegments) is sealed for the mesh instead: with age, or, for a
// check-in or an alert, which only the compact seal may seal, in the
// clear as before SMS.
func (d *Desk) putObservation(ms *incident.MissionState, kind incident.Kind, payload any, sealed bool) (*incident.Signed, error) {
	switch d.sealingFor(ms, kind, sealed) {
	case compactly:
		rec, err := d.st.PutCompactSealed(kind, payload, maxSMSSealed())
		if !errors.Is(err, incident.ErrNotCompact) {
			return rec, err
		}
		if kind == incident.KindCheckin || kind == incident.KindAlert {
			return d.st.Put(kind, payload)
		}
		return d.st.PutSealed(kind, nil, payload)
	case withAge:
		return d.st.PutSealed(kind, nil, payload)
	}
	return d.st.Put(kind, payload)
}

// maxSMSSealed is the largest compact seal whose record fits in
// sms.MaxSegments.
var maxSMSSealed = sync.OnceValue(func() int {
	n := incident.CompactOverhead + incident.CompactBuckets[len(incident.CompactBuckets)-1]
	for n > 0 && sms.SealedSegments(n, false) > sms.MaxSegments {
		n--
	}
	return n
})

// ErrSMSInClear: SMSText refuses a record that is not sealed (the
// operator would read it). Its other refusals carry the codec's reason
// (sms.ErrNotForSMS: sealed for the mesh; sms.ErrTooLong) as their Cause.
var ErrSMSInClear = errors.New("not sealed: the operator would read it")

// SMSText is one record as a text message, and where to send it.
type SMSText struct {
	ID       incident.ID   `json:"id"`
	Kind     incident.Kind `json:"kind"`
	Text     string        `json:"text"`
	Segments int           `json:"segments"`
	Number   string        `json:"number"` // the mission's sms_number; "" when it takes no SMS
	Sent     *time.Time    `json:"sent_by_sms"`
}

// SMSText returns the text message that carries record ref (an ID or a
// unique prefix of a report, check-in, alert, tally, response or
// receipt). It refuses a record SMS cannot carry, saying why: sealed for
// the mesh, in the clear (the operator would read it), or too large.
func (d *Desk) SMSText(ref string) (SMSText, error) {
	ms, err := d.mission()
	if err != nil {
		return SMSText{}, err
	}
	id, err := d.resolveSMSRecord(ref)
	if err != nil {
		return SMSText{}, err
	}
	rec, err := d.st.Get(id)
	if err != nil || rec == nil {
		return SMSText{}, refuse(NotFound, "record %s is not on this device", id)
	}
	if len(rec.Sealed) == 0 && rec.Kind != incident.KindReceipt {
		return SMSText{}, &Error{Code: Refused, Cause: ErrSMSInClear,
			Msg: fmt.Sprintf("%s %s is not sealed: the operator would read it, so it does not go by SMS", rec.Kind, id)}
	}
	text, err := sms.Encode(rec)
	if err != nil {
		return SMSText{}, &Error{Code: Refused, Cause: err, Msg: fmt.Sprintf("%s %s cannot go by SMS: %v", rec.Kind, id, err)}
	}
	out := SMSText{ID: id, Kind: rec.Kind, Text: text, Segments: sms.Segments(text), Number: ms.SMSNumber()}
	if t, ok := d.smsSent(id); ok {
		out.Sent = &t
	}
	return out, nil
}

// resolveSMSRecord names a record SMS may carry by its ID or a unique
// prefix.
func (d *Desk) resolveSMSRecord(ref string) (incident.ID, error) {
	if id, err := incident.ParseID(ref); err == nil {
		return id, nil
	}
	if err := CheckReportRef(ref); err != nil {
		return incident.ID{}, invalid("id", "%q is not a record ID or a prefix of one", ref)
	}
	var ids []incident.ID
	for _, k := range append(slices.Clone(incident.CompactKinds), incident.KindReceipt) {
		more, err := d.st.IDsOfKind(k)
		if err != nil {
			return incident.ID{}, classify(err)
		}
		ids = append(ids, more...)
	}
	return pickByPrefix(ids, IDHead+strings.TrimPrefix(ref, IDHead), "record")
}

func smsSentKey(id incident.ID) string { return "sms_sent/" + id.String() }

// MarkSMSSent notes that record ref was handed to the messaging app, so
// its delivery shows "sent by SMS" until a receipt comes back.
func (d *Desk) MarkSMSSent(ref string) error {
	id, err := d.resolveSMSRecord(ref)
	if err != nil {
		return err
	}
	b, _ := d.now().UTC().MarshalText()
	return classify(d.st.SetMeta(smsSentKey(id), b))
}

// smsSent is when record id was handed to the messaging app.
func (d *Desk) smsSent(id incident.ID) (time.Time, bool) {
	b, err := d.st.Meta(smsSentKey(id))
	var t time.Time
	if err != nil || b == nil || t.UnmarshalText(b) != nil {
		return time.Time{}, false
	}
	return t, true
}

// SMSMessage is one whole text message received, as a transport gives it.
type SMSMessage struct {
	From     string    `json:"from"` // "" when pasted by a person
	Text     string    `json:"text"`
	Received time.Time `json:"received"`
	// Imported: from a file the coordinator chose (sms import), not a
	// live transport: not limited per number, since its replies are
	// printed for the coordinator rather than sent.
	Imported bool `json:"imported,omitempty"`
}

// SMS outcomes.
const (
	SMSStored    = "stored"    // a new record, stored; a receipt goes back
	SMSDuplicate = "duplicate" // held already (by the mesh, or an earlier text); the receipt goes back again
	SMSPending   = "pending"   // from an author this device does not know yet: kept, decoded when member records arrive
	SMSRefused   = "refused"   // not a record, mangled, forged, flooding: nothing stored
)

// SMSReceived is what became of one text message.
type SMSReceived struct {
	Outcome string        `json:"outcome"`
	ID      *incident.ID  `json:"id"`
	Kind    incident.Kind `json:"kind,omitempty"`
	Reason  string        `json:"reason,omitempty"`
	Replies []string      `json:"replies,omitempty"` // texts to send back to the sender
	// ReplyTo is the sender's number, for a transport to send Replies to
	// (a text kept pending and decoded later is answered to its own
	// sender, not to the sender of the text in hand).
	ReplyTo string        `json:"reply_to,omitempty"`
	Later   []SMSReceived `json:"later,omitempty"`  // pending texts that decoded now
	Sender  string        `json:"sender,omitempty"` // the sender as counted (…5678)
}

// SMS limits: per sender number and per author, a burst then a steady
// rate; pending texts per number and in all.
const (
	smsBurst  = 20
	smsRefill = 30 * time.Second
)

// The bounds on texts kept for unknown authors and on the numbers
// counted; variables only so that tests can reach them with a few texts.
var (
	smsPendingPer   = 16
	smsPendingTotal = 512
	maxSenders      = 1000
)

// smsState is a desk's SMS bookkeeping in memory: the rate limiters, by
// sender number and by author, and how many times each record's receipt
// was sent again for a repeated text.
type smsState struct {
	mu       sync.Mutex
	numbers  map[string]*bucket
	authors  map[string]*bucket
	receipts map[incident.ID]int
}

// smsResends is how many times a repeated text gets its receipt again: an
// observer who heard nothing sends again, but an operator replaying texts
// from numbers of its own does not make the mission text back each time.
const smsResends = 3

// resend reports whether the receipt of record id may be sent again.
func (s *smsState) resend(id incident.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.receipts == nil || len(s.receipts) > 100_000 {
		s.receipts = map[incident.ID]int{}
	}
	s.receipts[id]++
	return s.receipts[id] <= smsResends
}

type bucket struct {
	tokens float64
	at     time.Time
}

// allow takes one token from key's bucket in buckets (s.numbers or
// s.authors).
func (s *smsState) allow(buckets *map[string]*bucket, key string, now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if *buckets == nil || len(*buckets) > 100_000 {
		*buckets = map[string]*bucket{} // a flood of numbers: start again rather than grow
	}
	b, ok := (*buckets)[key]
	if !ok {
		b = &bucket{tokens: smsBurst, at: now}
		(*buckets)[key] = b
	}
	b.tokens = min(smsBurst, b.tokens+float64(now.Sub(b.at))/float64(smsRefill))
	b.at = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// ReceiveSMS takes one text message: it rebuilds the signed record,
// judges it exactly as a record from the mesh (store.Add), and on a
// coordinator's device answers a stored or duplicate record with a
// receipt text signed over its full ID. A text whose author is not a
// member yet is kept pending; a bad one is refused with the reason and
// counted against its sender. Only a failure of this device (the store)
// is an error: the transport then keeps the message and offers it again.
func (d *Desk) ReceiveSMS(m SMSMessage) (SMSReceived, error) {
	ms, err := d.mission()
	if err != nil {
		return SMSReceived{}, err
	}
	if m.Received.IsZero() {
		m.Received = d.now()
	}
	m.From = strings.TrimSpace(m.From)
	if len(m.From) > maxSender {
		return SMSReceived{Outcome: SMSRefused, Reason: fmt.Sprintf("a sender of %d characters is not a phone number", len(m.From))}, nil
	}
	dir := newSMSDirectory(ms)
	out, err := d.receiveSMS(dir, m, false)
	if err != nil {
		return out, err
	}
	if out.Outcome != SMSPending {
		if out.Later, err = d.retryPendingSMS(dir); err != nil {
			return out, err
		}
	}
	return out, nil
}

// maxSender bounds a sender as a transport gives it (a number, or an
// operator's name for itself).
const maxSender = 64

// receiveSMS judges one text. A retry (a kept text whose author is known
// now) was limited and counted when it came: it is neither again.
func (d *Desk) receiveSMS(dir *smsDirectory, m SMSMessage, retry bool) (SMSReceived, error) {
	ms := dir.ms
	out := SMSReceived{Sender: senderLabel(m.From)}
	count := !retry
	refused := func(format string, args ...any) (SMSReceived, error) {
		out.Outcome, out.Reason = SMSRefused, fmt.Sprintf(format, args...)
		return out, d.countSMS(ms.ID, m.From, out, count)
	}
	if m.From != "" && !retry && !m.Imported && !d.sms.allow(&d.sms.numbers, m.From, d.now()) {
		return refused("rate limited: more than %d texts from this number in a short time", smsBurst)
	}
	raw, err := sms.Decode(m.Text, dir)
	if errors.Is(err, sms.ErrUnknownAuthor) {
		out.Outcome, out.Reason = SMSPending, "from an author this device does not know yet: kept until their member record arrives"
		if err := d.keepPendingSMS(m); err != nil {
			if CodeOf(err) == Refused {
				return refused("%v", err)
			}
			return out, err
		}
		return out, d.countSMS(ms.ID, m.From, out, count)
	}
	if err != nil {
		return refused("%v", err)
	}
	rec, err := incident.Decode(raw)
	if err != nil {
		return refused("%v", err)
	}
	out.ID, out.Kind = &rec.ID, rec.Kind
	// Nothing valid is refused for its rate: a text is deleted from the
	// modem once judged, and a record refused here would be lost to SMS.
	// What the limits hold back is the reply, which costs the mission a
	// text each: an author over their rate, or a record's receipt asked
	// for again and again (an operator replaying what it saw).
	reply := true
	r := d.st.Add(raw, "sms")
	switch r.Outcome {
	case store.Accepted:
		out.Outcome = SMSStored
		if !d.sms.allow(&d.sms.authors, rec.AuthorKey().String(), d.now()) {
			reply, out.Reason = false, fmt.Sprintf("no receipt sent: more than %d texts from this author in a short time", smsBurst)
		}
	case store.Duplicate:
		out.Outcome = SMSDuplicate
		if !d.sms.resend(rec.ID) {
			reply, out.Reason = false, fmt.Sprintf("no receipt sent: its receipt went back %d times already", smsResends)
		}
	case store.Quarantined:
		out.Outcome, out.Reason = SMSPending, r.Err.Error()
		return out, d.countSMS(ms.ID, m.From, out, count)
	default:
		if errors.Is(r.Err, store.ErrClosed) {
			return out, classify(r.Err)
		}
		return refused("%v", r.Err)
	}
	if reply {
		text, err := d.smsReceipt(ms, rec)
		if err != nil {
			return out, err
		}
		if text != "" {
			out.Replies, out.ReplyTo = []string{text}, m.From
		}
	}
	return out, d.countSMS(ms.ID, m.From, out, count)
}

// smsReceipt is the receipt text a coordinator sends back for rec: a
// receipt record over rec's full ID, signed once and sent again for a
// repeat (a replayed text makes no new record). None for a receipt, for
// this device's own record, or on a device that is not a coordinator.
func (d *Desk) smsReceipt(ms *incident.MissionState, rec *incident.Signed) (string, error) {
	self := d.st.Author()
	if role, _ := ms.Role(self); role != incident.RoleCoordinator || rec.Kind == incident.KindReceipt ||
		rec.AuthorKey() == self || len(ms.Revocations(self)) > 0 {
		return "", nil
	}
	d.smsMu.Lock() // one receipt per record, even for two texts at once
	defer d.smsMu.Unlock()
	name := "sms_receipt/" + rec.ID.String()
	var receipt *incident.Signed
	if b, err := d.st.Meta(name); err == nil && len(b) == 32 {
		var id incident.ID
		copy(id[:], b)
		receipt, _ = d.st.Get(id)
	}
	if receipt == nil {
		var err error
		if receipt, err = d.st.Put(incident.KindReceipt, incident.ReceiptPayload{IDs: [][]byte{rec.ID.Bytes()}}); err != nil {
			return "", classify(err)
		}
		if err := d.st.SetMeta(name, receipt.ID.Bytes()); err != nil {
			return "", classify(err)
		}
	}
	text, err := sms.Encode(receipt)
	if err != nil {
		return "", fmt.Errorf("receipt for %s: %w", rec.ID, err)
	}
	return text, nil
}

// smsDirectory is the receiver's member list for sms.Decode: every
// member's key, sorted once for a text and the kept texts it lets decode,
// so a prefix is a binary search rather than a walk of every member.
type smsDirectory struct {
	ms      *incident.MissionState
	authors []incident.Author
}

func newSMSDirectory(ms *incident.MissionState) *smsDirectory {
	dir := &smsDirectory{ms: ms}
	for _, m := range ms.Members() {
		dir.authors = append(dir.authors, m.Author)
	}
	slices.SortFunc(dir.authors, func(a, b incident.Author) int { return bytes.Compare(a[:], b[:]) })
	dir.authors = slices.Compact(dir.authors)
	return dir
}

func (s *smsDirectory) Mission() incident.ID { return s.ms.ID }

func (s *smsDirectory) Authors(prefix []byte) []incident.Author {
	if len(prefix) > len(incident.Author{}) {
		return nil
	}
	i := sort.Search(len(s.authors), func(i int) bool { return bytes.Compare(s.authors[i][:len(prefix)], prefix) >= 0 })
	j := i
	for j < len(s.authors) && bytes.HasPrefix(s.authors[j][:], prefix) {
		j++
	}
	return s.authors[i:j]
}

// pendingSMS is a text kept until its author's member record arrives.
// The sender's number is kept with it (in the encrypted store) so the
// receipt can go back once it decodes.
type pendingSMS struct {
	From     string    `json:"from"`
	Text     string    `json:"text"`
	Received time.Time `json:"received"`
	Imported bool      `json:"imported,omitempty"`
}

const pendingSMSKey = "sms_pending"

// smsPendingFor is how long a text waits for its author's member record.
const smsPendingFor = 7 * 24 * time.Hour

func (d *Desk) pendingSMS() ([]pendingSMS, error) {
	b, err := d.st.Meta(pendingSMSKey)
	if err != nil || b == nil {
		return nil, classify(err)
	}
	var out []pendingSMS
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, nil // damaged: start again rather than refuse every text
	}
	return out, nil
}

func (d *Desk) savePendingSMS(list []pendingSMS) error {
	b, err := json.Marshal(list)
	if err != nil {
		return err
	}
	return classify(d.st.SetMeta(pendingSMSKey, b))
}

// keepPendingSMS keeps m, bounded per number and in all; the same text
// twice is kept once. A kept text is not verified (its author's key is
// what is missing), so anyone who knows the mission's number can send
// such texts: they expire, and when the list is full the oldest text of
// the number holding the most makes room, so a flood from some numbers
// cannot keep out a real observer's text from another.
func (d *Desk) keepPendingSMS(m SMSMessage) error {
	d.smsMu.Lock()
	defer d.smsMu.Unlock()
	list, err := d.pendingSMS()
	if err != nil {
		return err
	}
	list = slices.DeleteFunc(list, func(p pendingSMS) bool { return d.now().Sub(p.Received) > smsPendingFor })
	per := map[string]int{}
	for _, p := range list {
		if p.Text == m.Text {
			return nil
		}
		per[p.From]++
	}
	if per[m.From] >= smsPendingPer {
		return refuse(Refused, "%d texts from this number already wait for their authors; this one is not kept", per[m.From])
	}
	if len(list) >= smsPendingTotal {
		most := ""
		for from, n := range per {
			if n > per[most] || (n == per[most] && from < most) {
				most = from
			}
		}
		i := slices.IndexFunc(list, func(p pendingSMS) bool { return p.From == most }) // oldest first
		list = slices.Delete(list, i, i+1)
	}
	return d.savePendingSMS(append(list, pendingSMS(m)))
}

// RetryPendingSMS decodes again the texts kept for authors this device
// did not know, now that member records may have arrived.
func (d *Desk) RetryPendingSMS() ([]SMSReceived, error) {
	ms, err := d.mission()
	if err != nil {
		return nil, err
	}
	return d.retryPendingSMS(newSMSDirectory(ms))
}

func (d *Desk) retryPendingSMS(dir *smsDirectory) ([]SMSReceived, error) {
	ready, err := d.takeDecodable(dir)
	if err != nil {
		return nil, err
	}
	var out []SMSReceived
	for i, p := range ready {
		r, err := d.receiveSMS(dir, SMSMessage(p), true)
		if err != nil {
			// This device failed (its store): the texts not judged yet
			// wait again.
			for _, q := range ready[i:] {
				_ = d.keepPendingSMS(SMSMessage(q))
			}
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

// takeDecodable removes from the pending texts those whose author is now
// known, and returns them.
func (d *Desk) takeDecodable(dir *smsDirectory) ([]pendingSMS, error) {
	d.smsMu.Lock()
	defer d.smsMu.Unlock()
	list, err := d.pendingSMS()
	if err != nil || len(list) == 0 {
		return nil, err
	}
	var ready, keep []pendingSMS
	for _, p := range list {
		if _, err := sms.Decode(p.Text, dir); errors.Is(err, sms.ErrUnknownAuthor) {
			keep = append(keep, p)
		} else {
			ready = append(ready, p)
		}
	}
	if len(ready) == 0 {
		return nil, nil
	}
	return ready, d.savePendingSMS(keep)
}

// SMSSender is what one sender number's texts came to. The number itself
// is not kept: a salted hash names it, and its last four digits show it.
type SMSSender struct {
	Sender    string    `json:"sender"` // …5678
	Stored    int       `json:"stored"`
	Duplicate int       `json:"duplicate"`
	Pending   int       `json:"pending"`
	Refused   int       `json:"refused"`
	Last      time.Time `json:"last"`
	Reason    string    `json:"last_refusal,omitempty"`
}

const smsSendersKey = "sms_senders"

// maxSenders (above) bounds the numbers counted: the counts are one record
// in the store, rewritten for each text.

// senderLabel is how a number is shown: its last four digits.
func senderLabel(from string) string {
	if from == "" {
		return "pasted"
	}
	r := []rune(from)
	return "…" + string(r[max(0, len(r)-4):])
}

// senderKey names a number in the counts without keeping it: a hash
// salted with the mission, so the counts of a seized laptop do not list
// who texted (a guess of one number can still be checked).
func senderKey(ms incident.ID, from string) string {
	h := sha256.Sum256(append(ms.Bytes(), from...))
	return hex.EncodeToString(h[:12])
}

// countSMS adds what became of one text to its sender's counts.
func (d *Desk) countSMS(mission incident.ID, from string, r SMSReceived, count bool) error {
	if !count || from == "" {
		return nil
	}
	d.smsMu.Lock()
	defer d.smsMu.Unlock()
	all := map[string]*SMSSender{}
	if b, err := d.st.Meta(smsSendersKey); err == nil && b != nil {
		_ = json.Unmarshal(b, &all)
	}
	k := senderKey(mission, from)
	s := all[k]
	if s == nil {
		s = &SMSSender{Sender: senderLabel(from)}
		all[k] = s
	}
	s.Last = d.now().UTC()
	if len(all) > maxSenders { // forget the sender heard from longest ago
		var old string
		for k, v := range all {
			if old == "" || v.Last.Before(all[old].Last) {
				old = k
			}
		}
		delete(all, old)
	}
	switch r.Outcome {
	case SMSStored:
		s.Stored++
	case SMSDuplicate:
		s.Duplicate++
	case SMSPending:
		s.Pending++
	default:
		s.Refused++
		s.Reason = r.Reason
	}
	b, err := json.Marshal(all)
	if err != nil {
		return err
	}
	return classify(d.st.SetMeta(smsSendersKey, b))
}

// SMSSenders lists the counts per sender number, the most refused first.
func (d *Desk) SMSSenders() ([]SMSSender, error) {
	b, err := d.st.Meta(smsSendersKey)
	if err != nil || b == nil {
		return nil, classify(err)
	}
	all := map[string]*SMSSender{}
	if err := json.Unmarshal(b, &all); err != nil {
		return nil, nil
	}
	out := make([]SMSSender, 0, len(all))
	for _, s := range all {
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Refused != out[j].Refused {
			return out[i].Refused > out[j].Refused
		}
		return out[i].Last.After(out[j].Last)
	})
	return out, nil
}

// SMSKeyResult says what SMSKey did.
type SMSKeyResult struct {
	Inbox  string        `json:"sms_inbox"` // the key in force
	Shared []incident.ID `json:"shared"`    // inbox records made
	Config *incident.ID  `json:"config"`    // the config that set a new key
}

// SMSKey hands every SMS inbox key this device holds to the coordinators
// of today (a coordinator enrolled since cannot open the inbox records
// made before) and, with rotate, makes a new key and sets sms_inbox to it
// (after a coordinator is revoked: the old key opens nothing sealed
// after that).
func (d *Desk) SMSKey(rotate bool) (SMSKeyResult, error) {
	ms, err := d.mission()
	if err != nil {
		return SMSKeyResult{}, err
	}
	if err := d.mayPut(ms, incident.KindInbox); err != nil {
		if CodeOf(err) == Forbidden {
			return SMSKeyResult{}, refuse(Forbidden, "only coordinators hold the SMS inbox key")
		}
		return SMSKeyResult{}, err
	}
	var out SMSKeyResult
	if !rotate {
		keys := d.st.InboxKeys()
		if len(keys) == 0 {
			return out, refuse(Refused, "this device holds no SMS inbox key: set sms_number, or ask the coordinator who did to run `vigil sms key share`")
		}
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[string(k.Bytes())] {
				continue
			}
			seen[string(k.Bytes())] = true
			rec, err := d.st.PutSealed(incident.KindInbox, nil, incident.InboxPayload{Key: k.Bytes()})
			if err != nil {
				return out, classify(err)
			}
			out.Shared = append(out.Shared, rec.ID)
		}
		if cur, ok := ms.SMSInbox(); ok {
			out.Inbox = incident.FormatInbox(cur)
		}
		return out, nil
	}
	inbox, rec, err := d.newInbox()
	if err != nil {
		return out, err
	}
	cfg, err := d.st.Put(incident.KindConfig, ms.NewConfig(map[string]string{incident.SettingSMSInbox: inbox}))
	if err != nil {
		return out, classify(err)
	}
	out.Inbox, out.Shared, out.Config = inbox, []incident.ID{rec.ID}, &cfg.ID
	return out, nil
}

// newInbox makes an inbox key and hands it to the coordinators.
func (d *Desk) newInbox() (string, *incident.Signed, error) {
	key, err := incident.NewInboxKey()
	if err != nil {
		return "", nil, err
	}
	rec, err := d.st.PutSealed(incident.KindInbox, nil, incident.InboxPayload{Key: key.Bytes()})
	if err != nil {
		return "", nil, classify(err)
	}
	return incident.FormatInbox(key.PublicKey()), rec, nil
}

// smsSettings completes a config that sets sms_number: the first time,
// it makes the inbox key and sets sms_inbox with it. A coordinator who
// sets sms_inbox by hand may only name a key this device holds (else
// nobody could open what observers seal to it).
func (d *Desk) smsSettings(ms *incident.MissionState, parsed map[string]string) error {
	if v, ok := parsed[incident.SettingSMSInbox]; ok {
		if !d.holdsInbox(v) {
			return invalid("sms_inbox", "this device holds no inbox key %s: `vigil sms key rotate` makes one", v)
		}
		return nil
	}
	if parsed[incident.SettingSMSNumber] == "" {
		return nil
	}
	if _, ok := ms.SMSInbox(); ok {
		return nil // made already (by this coordinator or another)
	}
	inbox, _, err := d.newInbox()
	if err != nil {
		return err
	}
	parsed[incident.SettingSMSInbox] = inbox
	return nil
}

// SMSInboxHeld says whether the mission has an SMS inbox key in force and
// whether this device holds it. A coordinator who does not cannot read
// what observers seal for SMS: one enrolled after the key was made (until
// a holder runs `sms key share`), or any coordinator, after another set
// sms_inbox to a key only they hold.
func (d *Desk) SMSInboxHeld() (inForce, held bool) {
	ms, err := d.st.Mission()
	if err != nil {
		return false, false
	}
	cur, ok := ms.SMSInbox()
	if !ok {
		return false, false
	}
	return true, d.holdsInbox(incident.FormatInbox(cur))
}

func (d *Desk) holdsInbox(v string) bool {
	for _, k := range d.st.InboxKeys() {
		if incident.FormatInbox(k.PublicKey()) == v {
			return true
		}
	}
	return false
}
