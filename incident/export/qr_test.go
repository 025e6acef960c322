package export

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/vigil-mesh/vigil/incident"
)

// paperMission is a real mission for the XLSX, PDF and QR tests: a founder
// (coordinator), a second coordinator, an observer, and reports in every
// family, with reviews, an amendment, a retraction, non-Latin text and a
// sealed report. Everything is deterministic.
type paperMission struct {
	tb       testing.TB
	name     string
	founder  *incident.Signer
	coord    *incident.Signer
	observer *incident.Signer
	genesis  *incident.Signed
	ms       *incident.MissionState
	src      map[incident.ID]*incident.Signed
	deps     []*incident.Signed // genesis and member records, in order
	clock    time.Time
	nonces   byte
	items    []Item
	byTitle  map[string]*Item
}

var paperT0 = time.Date(2026, 5, 17, 6, 0, 0, 0, time.UTC)

func paperSigner(tb testing.TB, label string) *incident.Signer {
	tb.Helper()
	seed := sha256.Sum256([]byte("vigil-export-test/" + label))
	s, err := incident.NewSigner(seed[:])
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func (m *paperMission) nonce() []byte {
	m.nonces++
	h := sha256.Sum256([]byte{m.nonces})
	return h[:16]
}

func (m *paperMission) tick() time.Time {
	m.clock = m.clock.Add(time.Minute)
	return m.clock
}

func (m *paperMission) sign(s *incident.Signer, kind incident.Kind, payload any) *incident.Signed {
	m.tb.Helper()
	rec, err := s.Sign(m.ms.ID, kind, m.tick(), payload)
	if err != nil {
		m.tb.Fatalf("sign %s: %v", kind, err)
	}
	return rec
}

// accept validates rec, applies it and holds it.
func (m *paperMission) accept(rec *incident.Signed) *incident.Signed {
	m.tb.Helper()
	if err := incident.Validate(rec, m.ms, paperSource(m.src)); err != nil {
		m.tb.Fatalf("Validate(%s): %v", rec.Kind, err)
	}
	if err := m.ms.Apply(rec); err != nil {
		m.tb.Fatal(err)
	}
	m.src[rec.ID] = rec
	return rec
}

type paperSource map[incident.ID]*incident.Signed

func (s paperSource) Get(id incident.ID) (*incident.Signed, error) { return s[id], nil }

func (m *paperMission) enroll(label, role string) *incident.Signer {
	m.tb.Helper()
	s := paperSigner(m.tb, m.name+"/"+label)
	tok := incident.Token{Mission: m.ms.ID.Bytes(), Role: role, Label: label, Nonce: m.nonce()}
	if role == incident.RoleCoordinator {
		a := s.Author()
		tok.For = a[:]
	}
	rec := m.accept(m.sign(s, incident.KindMember, incident.MemberPayload{Token: m.founder.SignToken(tok)}))
	m.deps = append(m.deps, rec)
	return s
}

func newPaperMission(tb testing.TB, name string) *paperMission {
	tb.Helper()
	m := &paperMission{tb: tb, name: name, src: map[incident.ID]*incident.Signed{}, clock: paperT0, byTitle: map[string]*Item{}}
	m.founder = paperSigner(tb, name+"/founder")
	g, err := m.founder.Sign(incident.ID{}, incident.KindMission, m.clock, incident.MissionPayload{
		Name: name, Nonce: m.nonce(), Taxonomy: incident.TaxonomyVersion, Label: "founder",
	})
	if err != nil {
		tb.Fatal(err)
	}
	if m.ms, err = incident.NewMissionState(g); err != nil {
		tb.Fatal(err)
	}
	m.genesis = g
	m.src[g.ID] = g
	m.deps = append(m.deps, g)
	m.coord = m.enroll("Heron", incident.RoleCoordinator)
	m.observer = m.enroll("Kestrel", incident.RoleObserver)
	return m
}

// report signs and accepts a report by the observer and returns it.
func (m *paperMission) report(p incident.ReportPayload) *incident.Signed {
	m.tb.Helper()
	if p.Occurred == 0 {
		p.Occurred = m.clock.UnixMilli()
	}
	return m.accept(m.sign(m.observer, incident.KindReport, p))
}

// add folds rep with related into an Item and keeps it.
func (m *paperMission) add(rep *incident.Signed, related ...*incident.Signed) *Item {
	m.tb.Helper()
	view, err := incident.FoldReport(rep, related, m.ms, paperT0.Add(48*time.Hour))
	if err != nil {
		m.tb.Fatal(err)
	}
	it := Item{View: view, Record: rep.Raw}
	for _, r := range related {
		it.Related = append(it.Related, r.Raw)
	}
	m.items = append(m.items, it)
	item := &m.items[len(m.items)-1]
	if !view.Sealed {
		m.byTitle[view.Report.Title] = item
	}
	return item
}

// Titles of the standard reports, for lookups.
const (
	titleLate     = "Station opened 2h late"
	titleRussian  = "Имя избирателя отсутствует в списке — 选民名单缺失 — الاسم مفقود"
	titleRumour   = "Voice note says voting moved to Tuesday"
	titleShutdown = "Mobile data cut across the district"
	titleBallots  = "Ballot papers short"
	titleOther    = "Long queue and a very long description"
)

// standard builds the standard set of reports.
func (m *paperMission) standard() *paperMission {
	m.tb.Helper()
	late := m.report(incident.ReportPayload{
		Category: "polling.late_opening", Severity: 2, Occurred: paperT0.Add(30 * time.Minute).UnixMilli(),
		Station: "KE-047-112", Area: "Nairobi / Kibra", Lat: incident.Micro(-1.3133), Lon: incident.Micro(36.7876), Precision: 50,
		Title: titleLate, Description: "Queue of about 300 voters; presiding officer absent until 08:10.",
	})
	verified := m.accept(m.sign(m.founder, incident.KindReview, incident.ReviewPayload{Target: late.ID.Bytes(), Status: "verified", Note: "Confirmed by phone with the presiding officer."}))
	m.add(late, verified)

	ballots := m.report(incident.ReportPayload{
		Category: "polling.materials_missing", Severity: 3, Station: "KE-047-113", Title: titleBallots,
		Description: "Only 200 ballots for 650 registered voters.",
	})
	m.add(ballots)

	missing := m.report(incident.ReportPayload{
		Category: "registration.name_missing", Severity: 3, Station: "KE-050-001", Area: "Mombasa / Mvita",
		Title: titleRussian, Description: "Пятеро избирателей не нашли себя в списке. 五名选民未在名单上找到自己。",
	})
	m.add(missing)

	rumour := m.report(incident.ReportPayload{
		Category: "disinformation.false_voting_info", Severity: 4, Area: "Kisumu",
		Title: titleRumour, Description: "Forwarded many times on WhatsApp groups in Kisumu East.",
		Channel: "whatsapp", Harm: "high", Reach: 12000, Source: "Forwarded voice note, origin unknown",
	})
	r1 := m.accept(m.sign(m.founder, incident.KindReview, incident.ReviewPayload{Target: rumour.ID.Bytes(), Status: "verified"}))
	r2 := m.accept(m.sign(m.coord, incident.KindReview, incident.ReviewPayload{Target: rumour.ID.Bytes(), Status: "escalated", Note: "Refer to the election body's rapid response team."}))
	m.add(rumour, r1, r2)

	shutdown := m.report(incident.ReportPayload{
		Category: "infrastructure.internet_shutdown", Severity: 1, Area: "Kisumu", Title: "Mobile data down",
	})
	amended := incident.ReportPayload{Category: "infrastructure.internet_shutdown", Severity: 2, Area: "Kisumu",
		Occurred: shutdown.Created, Title: titleShutdown}
	amend := m.accept(m.sign(m.observer, incident.KindAmend, incident.AmendPayload{Target: shutdown.ID.Bytes(), Report: amended}))
	retract := m.accept(m.sign(m.observer, incident.KindRetract, incident.RetractPayload{Target: shutdown.ID.Bytes(), Reason: "Duplicate of another observer's report"}))
	m.add(shutdown, amend, retract)

	long := strings.Repeat("Voters waited in the sun for hours; several left without voting. ", 40) +
		"\n\nA second paragraph with a-very-long-token-" + strings.Repeat("x", 150) + " that has to break inside the word."
	other := m.report(incident.ReportPayload{Category: "other", Severity: 1, Title: titleOther, Description: long})
	m.add(other)

	// A sealed report: its content is ciphertext nobody here can read.
	sealed, err := m.observer.SignSealed(m.ms.ID, incident.KindReport, m.tick(), incident.SealedEnvelope{}, bytes.Repeat([]byte{0xa5}, 300))
	if err != nil {
		m.tb.Fatal(err)
	}
	m.add(sealed)
	return m
}

func qrImage(t *testing.T, raw []byte) image.Image {
	t.Helper()
	q, err := RecordQR(raw)
	if err != nil {
		t.Fatalf("RecordQR: %v", err)
	}
	b, err := q.PNG(-4)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func TestQRTextRoundTrip(t *testing.T) {
	raw := []byte("\x00\x01signed record bytes\xff")
	text := QRText(raw)
	if !strings.HasPrefix(text, QRPrefix) || strings.ContainsAny(text[len(QRPrefix):], "=abcdefghijklmnopqrstuvwxyz") {
		t.Fatalf("QRText = %q: want the prefix and unpadded upper-case base32", text)
	}
	for _, in := range []string{text, strings.ToLower(text), " " + text + "\n", base64.StdEncoding.EncodeToString(raw)} {
		got, err := ParseQRText(in)
		if err != nil || !bytes.Equal(got, raw) {
			t.Errorf("ParseQRText(%q) = %x, %v; want %x", in, got, err, raw)
		}
	}
	for _, in := range []string{"", QRPrefix, "https://example.org/", QRPrefix + "!!!"} {
		if _, err := ParseQRText(in); err == nil {
			t.Errorf("ParseQRText(%q): want an error", in)
		}
	}
}

func TestVerifyQROK(t *testing.T) {
	m := newPaperMission(t, "QR mission").standard()
	it := m.byTitle[titleLate]
	v, rec, err := VerifyQR(qrImage(t, it.Record))
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK || v.ID != it.View.ID.String() || v.String() != it.View.ID.String()+" OK" {
		t.Fatalf("verdict %+v, want %s OK", v, it.View.ID)
	}
	if rec == nil || rec.Kind != incident.KindReport || !bytes.Equal(rec.Raw, it.Record) || rec.Created != it.View.Created {
		t.Fatalf("record %+v, want the exported report", rec)
	}
}

func TestVerifyQRTampered(t *testing.T) {
	m := newPaperMission(t, "QR mission").standard()
	raw := append([]byte(nil), m.byTitle[titleLate].Record...)
	i := bytes.Index(raw, []byte("2h late"))
	if i < 0 {
		t.Fatal("title not found in the record")
	}
	raw[i] = '5' // "5h late": same length, still canonical CBOR
	v, rec, err := VerifyQR(qrImage(t, raw))
	if err != nil {
		t.Fatal(err)
	}
	if v.OK || rec != nil || !strings.Contains(v.Reason, "signature") {
		t.Fatalf("verdict %+v, record %v: want BAD for the signature", v, rec)
	}
	if v.ID != incident.IDOf(raw).String() || !strings.HasPrefix(v.String(), v.ID+" BAD ") {
		t.Fatalf("verdict %q: want it named by the hash of the tampered bytes", v)
	}
}

func TestVerifyQRNoCode(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 200, 200))
	for i := range img.Pix {
		img.Pix[i] = 255
	}
	img.Set(100, 100, color.Black)
	if _, _, err := VerifyQR(img); !errors.Is(err, ErrNoQR) {
		t.Fatalf("VerifyQR(blank) = %v, want ErrNoQR", err)
	}
}

func TestVerifyQRNotVigil(t *testing.T) {
	q, err := qrcode.New("https://example.org/", qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	b, err := q.PNG(-4)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := VerifyQR(img); err == nil || !strings.Contains(err.Error(), "not hold a Vigil record") {
		t.Fatalf("VerifyQR(a URL code) = %v, want an error saying it holds no record", err)
	}
}

func TestRecordQRTooLarge(t *testing.T) {
	if _, err := RecordQR(bytes.Repeat([]byte{7}, 2000)); err != nil {
		t.Fatalf("2000-byte record: %v", err)
	}
	if _, err := RecordQR(bytes.Repeat([]byte{7}, 3000)); !errors.Is(err, ErrQRTooLarge) {
		t.Fatalf("3000-byte record: %v, want ErrQRTooLarge", err)
	}
}

func missionJSONL(t *testing.T, m *paperMission) []byte {
	t.Helper()
	var buf bytes.Buffer
	if _, err := NewJSONL(&buf, m.deps); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestVerifyInMission(t *testing.T) {
	m := newPaperMission(t, "QR mission").standard()
	chain := missionJSONL(t, m)
	rep := m.byTitle[titleRumour]

	v, r, err := VerifyInMission(rep.Record, bytes.NewReader(chain), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !v.OK || v.ID != rep.View.ID.String() || r.Mission != m.ms.ID || r.Name != "QR mission" {
		t.Fatalf("verdict %+v in %s %q: want OK in the mission", v, r.Mission, r.Name)
	}
	id := m.ms.ID
	if v, _, _ := VerifyInMission(rep.Record, bytes.NewReader(chain), &id); !v.OK {
		t.Fatalf("with --mission: %+v", v)
	}

	// A stranger's report signs correctly but its author is no member.
	stranger := paperSigner(t, "stranger")
	forged, err := stranger.Sign(m.ms.ID, incident.KindReport, paperT0.Add(time.Hour), incident.ReportPayload{
		Category: "polling.violence", Severity: 4, Occurred: paperT0.UnixMilli(), Title: "Forged report"})
	if err != nil {
		t.Fatal(err)
	}
	if v, _, err := VerifyQRText(QRText(forged.Raw)); err != nil || !v.OK {
		t.Fatalf("alone, the forged report's signature holds: %+v %v", v, err)
	}
	v, _, err = VerifyInMission(forged.Raw, bytes.NewReader(chain), nil)
	if err != nil || v.OK || !strings.Contains(v.Reason, "not in the file") {
		t.Fatalf("forged report in the mission: %+v %v, want BAD (unknown author)", v, err)
	}

	// Another mission's chain: the report does not belong to it.
	other := newPaperMission(t, "Another mission")
	v, _, err = VerifyInMission(rep.Record, bytes.NewReader(missionJSONL(t, other)), nil)
	if err != nil || v.OK || !strings.Contains(v.Reason, "mission") {
		t.Fatalf("report against another mission: %+v %v, want BAD", v, err)
	}
	if _, _, err := VerifyInMission(rep.Record, strings.NewReader(" \n"), nil); err == nil {
		t.Fatal("empty chain file: want an error")
	}
}
