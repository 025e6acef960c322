package incident

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// world is a mission with a second coordinator, two observers and a
// carrier, and one accepted report and check-in by the first observer.
type world struct {
	f                  *fixture
	coord2, obs, obs2  *Signer
	carrier, stranger  *Signer
	rep, checkin, rep2 *Signed
}

func newWorld(t *testing.T) *world {
	t.Helper()
	f := newFixture(t, "validate-"+t.Name())
	w := &world{f: f}
	w.coord2 = f.enroll(f.founder, "coord2", RoleCoordinator)
	w.obs = f.enroll(f.founder, "obs", RoleObserver)
	w.obs2 = f.enroll(w.coord2, "obs2", RoleObserver)
	w.carrier = f.enroll(f.founder, "carrier", RoleCarrier)
	w.stranger = f.signer("stranger")
	w.rep = f.accept(f.report(w.obs, nil))
	w.rep2 = f.accept(f.report(w.obs2, nil))
	w.checkin = f.accept(f.sign(w.obs, KindCheckin, CheckinPayload{Status: "opened"}))
	return w
}

type reportCase struct {
	name  string
	mut   func(*ReportPayload)
	field string // "" means valid
}

func reportCases() []reportCase {
	str := func(n int) string { return strings.Repeat("a", n) }
	lat := func(deg float64) func(*ReportPayload) { return func(p *ReportPayload) { p.Lat = Micro(deg) } }
	lon := func(deg float64) func(*ReportPayload) { return func(p *ReportPayload) { p.Lon = Micro(deg) } }
	disinfo := func(mut func(*ReportPayload)) func(*ReportPayload) {
		return func(p *ReportPayload) {
			p.Category = "disinformation.false_voting_info"
			p.Channel, p.Harm, p.Reach, p.Source = "whatsapp", "high", 120000, "forwarded voice note"
			if mut != nil {
				mut(p)
			}
		}
	}
	return []reportCase{
		{"typical", nil, ""},
		{"minimal", func(p *ReportPayload) { *p = ReportPayload{Category: "other", Severity: 1, Title: "x"} }, ""},
		{"description at limit", func(p *ReportPayload) { p.Description = str(MaxDescriptionLen) }, ""},
		{"description over limit", func(p *ReportPayload) { p.Description = str(MaxDescriptionLen + 1) }, "description"},
		{"NUL in description", func(p *ReportPayload) { p.Description = "before\x00after" }, "description"},
		{"severity 0", func(p *ReportPayload) { p.Severity = 0 }, "severity"},
		{"severity 1", func(p *ReportPayload) { p.Severity = 1 }, ""},
		{"severity 4", func(p *ReportPayload) { p.Severity = 4 }, ""},
		{"severity 5", func(p *ReportPayload) { p.Severity = 5 }, "severity"},
		{"severity 9", func(p *ReportPayload) { p.Severity = 9 }, "severity"},
		{"lat 200", lat(200), "lat"},
		{"lat 90", lat(90), ""},
		{"lat -90", lat(-90), ""},
		{"lat just over 90", func(p *ReportPayload) { v := int64(90e6 + 1); p.Lat = &v }, "lat"},
		{"lat -91", lat(-91), "lat"},
		{"lon -181", lon(-181), "lon"},
		{"lon 180", lon(180), ""},
		{"lon -180", lon(-180), ""},
		{"lon 181", lon(181), "lon"},
		{"lat without lon", func(p *ReportPayload) { p.Lon = nil; p.Precision = 0 }, "lat"},
		{"lon without lat", func(p *ReportPayload) { p.Lat = nil; p.Precision = 0 }, "lat"},
		{"no location", func(p *ReportPayload) { p.Lat, p.Lon, p.Precision = nil, nil, 0 }, ""},
		{"precision without location", func(p *ReportPayload) { p.Lat, p.Lon = nil, nil }, "precision"},
		{"precision over limit", func(p *ReportPayload) { p.Precision = MaxPrecisionM + 1 }, "precision"},
		{"category family only", func(p *ReportPayload) { p.Category = "polling" }, ""},
		{"category not in taxonomy but well-formed", func(p *ReportPayload) { p.Category = "polling.drones" }, ""},
		{"category empty", func(p *ReportPayload) { p.Category = "" }, "category"},
		{"category upper case", func(p *ReportPayload) { p.Category = "Polling.Late_Opening" }, "category"},
		{"category with space", func(p *ReportPayload) { p.Category = "polling.late opening" }, "category"},
		{"category trailing dot", func(p *ReportPayload) { p.Category = "polling." }, "category"},
		{"category two dots", func(p *ReportPayload) { p.Category = "polling.a.b" }, "category"},
		{"category unknown family", func(p *ReportPayload) { p.Category = "weather.rain" }, "category"},
		{"category too long", func(p *ReportPayload) { p.Category = "polling." + str(MaxCategoryLen) }, "category"},
		{"title missing", func(p *ReportPayload) { p.Title = "" }, "title"},
		{"title at limit", func(p *ReportPayload) { p.Title = str(MaxTitleLen) }, ""},
		{"title too long", func(p *ReportPayload) { p.Title = str(MaxTitleLen + 1) }, "title"},
		{"title too long in bytes", func(p *ReportPayload) { p.Title = strings.Repeat("é", MaxTitleLen/2+1) }, "title"},
		{"NUL in title", func(p *ReportPayload) { p.Title = "a\x00b" }, "title"},
		{"station with space", func(p *ReportPayload) { p.Station = "KE 047" }, "station"},
		{"station with control", func(p *ReportPayload) { p.Station = "KE\x7f047" }, "station"},
		{"station too long", func(p *ReportPayload) { p.Station = str(MaxCodeLen + 1) }, "station"},
		{"area too long", func(p *ReportPayload) { p.Area = str(MaxAreaLen + 1) }, "area"},
		{"attachments at limit", func(p *ReportPayload) { p.Attachments = make([][]byte, MaxAttachments); fill32(p.Attachments) }, ""},
		{"too many attachments", func(p *ReportPayload) { p.Attachments = make([][]byte, MaxAttachments+1); fill32(p.Attachments) }, "attachments"},
		{"short attachment hash", func(p *ReportPayload) { p.Attachments = [][]byte{make([]byte, 31)} }, "attachments[0]"},
		{"channel on a polling report", func(p *ReportPayload) { p.Channel = "whatsapp" }, "channel"},
		{"harm on a polling report", func(p *ReportPayload) { p.Harm = "low" }, "channel"},
		{"reach on a polling report", func(p *ReportPayload) { p.Reach = 10 }, "channel"},
		{"source on a polling report", func(p *ReportPayload) { p.Source = "radio" }, "channel"},
		{"disinformation with all fields", disinfo(nil), ""},
		{"disinformation without extras", disinfo(func(p *ReportPayload) { p.Channel, p.Harm, p.Reach, p.Source = "", "", 0, "" }), ""},
		{"disinformation bad channel", disinfo(func(p *ReportPayload) { p.Channel = "myspace" }), "channel"},
		{"disinformation bad harm", disinfo(func(p *ReportPayload) { p.Harm = "apocalyptic" }), "harm"},
		{"disinformation reach at limit", disinfo(func(p *ReportPayload) { p.Reach = MaxReach }), ""},
		{"disinformation reach over limit", disinfo(func(p *ReportPayload) { p.Reach = MaxReach + 1 }), "reach"},
		{"disinformation source too long", disinfo(func(p *ReportPayload) { p.Source = str(MaxSourceLen + 1) }), "source"},
		{"disinformation NUL in source", disinfo(func(p *ReportPayload) { p.Source = "a\x00" }), "source"},
	}
}

func fill32(list [][]byte) {
	for i := range list {
		list[i] = bytes.Repeat([]byte{byte(i + 1)}, 32)
	}
}

// Every report field rule, checked three ways: ValidateReport on the
// payload, Validate on a signed report, and Validate on a signed amendment.
func TestValidateReportFields(t *testing.T) {
	w := newWorld(t)
	f := w.f
	for _, c := range reportCases() {
		t.Run(c.name, func(t *testing.T) {
			p := goodReport()
			if c.mut != nil {
				c.mut(&p)
			}
			check := func(how string, err error) {
				t.Helper()
				if c.field == "" {
					if err != nil {
						t.Fatalf("%s: %v, want valid", how, err)
					}
					return
				}
				if err == nil {
					t.Fatalf("%s: valid, want a rejection of %q", how, c.field)
				}
				wantField(t, err, c.field)
			}
			check("ValidateReport", ValidateReport(&p))
			check("report", f.validate(f.sign(w.obs, KindReport, p)))
			check("amend", f.validate(f.sign(w.obs, KindAmend, AmendPayload{Target: w.rep.ID.Bytes(), Report: p})))
		})
	}
}

func TestValidateReportHugeDescription(t *testing.T) {
	p := goodReport()
	p.Description = strings.Repeat("d", 3<<20)
	wantField(t, ValidateReport(&p), "description")
}

func TestValidateReportInvalidUTF8(t *testing.T) {
	for _, field := range []string{"title", "description", "area", "source"} {
		p := goodReport()
		bad := "ok\xff\xfe"
		switch field {
		case "title":
			p.Title = bad
		case "description":
			p.Description = bad
		case "area":
			p.Area = bad
		case "source":
			p.Category, p.Source = "disinformation.hate_speech", bad
		}
		wantField(t, ValidateReport(&p), field)
	}
}

func TestValidateOtherKinds(t *testing.T) {
	str := func(n int) string { return strings.Repeat("n", n) }
	type tc struct {
		name  string
		build func(w *world) *Signed
		field string // "" means valid
	}
	f := func(w *world) *fixture { return w.f }
	cases := []tc{
		// review
		{"review ok", func(w *world) *Signed { return f(w).review(w.coord2, w.rep, "corroborated") }, ""},
		{"review status bogus", func(w *world) *Signed { return f(w).review(w.f.founder, w.rep, "approved") }, "payload.status"},
		{"review status empty", func(w *world) *Signed { return f(w).review(w.f.founder, w.rep, "") }, "payload.status"},
		{"review status unreviewed", func(w *world) *Signed { return f(w).review(w.f.founder, w.rep, StatusUnreviewed) }, "payload.status"},
		{"review note too long", func(w *world) *Signed {
			return f(w).sign(w.f.founder, KindReview, ReviewPayload{Target: w.rep.ID.Bytes(), Status: "verified", Note: str(MaxNoteLen + 1)})
		}, "payload.note"},
		{"review prev short", func(w *world) *Signed {
			return f(w).sign(w.f.founder, KindReview, ReviewPayload{Target: w.rep.ID.Bytes(), Status: "verified", Prev: [][]byte{{1, 2}}})
		}, "payload.prev[0]"},
		{"review target short", func(w *world) *Signed {
			return f(w).sign(w.f.founder, KindReview, ReviewPayload{Target: w.rep.ID.Bytes()[:31], Status: "verified"})
		}, "payload.target"},
		{"review of a check-in", func(w *world) *Signed { return f(w).review(w.f.founder, w.checkin, "verified") }, "payload.target"},
		{"review of a member record", func(w *world) *Signed {
			m, _ := w.f.ms.Member(w.obs.Author())
			return f(w).sign(w.f.founder, KindReview, ReviewPayload{Target: m.Record.Bytes(), Status: "verified"})
		}, "payload.target"},
		{"review of the genesis", func(w *world) *Signed { return f(w).review(w.f.founder, w.f.genesis, "verified") }, "payload.target"},
		{"review by an observer", func(w *world) *Signed { return f(w).review(w.obs2, w.rep, "verified") }, weakRole},
		{"review by a carrier", func(w *world) *Signed { return f(w).review(w.carrier, w.rep, "verified") }, weakRole},
		// amend and retract
		{"amend of another author's report", func(w *world) *Signed {
			return f(w).sign(w.obs2, KindAmend, AmendPayload{Target: w.rep.ID.Bytes(), Report: goodReport()})
		}, "author"},
		{"amend of a report by a coordinator", func(w *world) *Signed {
			return f(w).sign(w.f.founder, KindAmend, AmendPayload{Target: w.rep.ID.Bytes(), Report: goodReport()})
		}, "author"},
		{"amend of a check-in", func(w *world) *Signed {
			return f(w).sign(w.obs, KindAmend, AmendPayload{Target: w.checkin.ID.Bytes(), Report: goodReport()})
		}, "payload.target"},
		{"amend by a carrier", func(w *world) *Signed {
			return f(w).sign(w.carrier, KindAmend, AmendPayload{Target: w.rep.ID.Bytes(), Report: goodReport()})
		}, weakRole},
		{"retract ok", func(w *world) *Signed {
			return f(w).sign(w.obs, KindRetract, RetractPayload{Target: w.rep.ID.Bytes(), Reason: "duplicate"})
		}, ""},
		{"retract of another author's report", func(w *world) *Signed {
			return f(w).sign(w.obs2, KindRetract, RetractPayload{Target: w.rep.ID.Bytes(), Reason: "spite"})
		}, "author"},
		{"retract without a reason", func(w *world) *Signed {
			return f(w).sign(w.obs, KindRetract, RetractPayload{Target: w.rep.ID.Bytes()})
		}, "payload.reason"},
		{"retract reason too long", func(w *world) *Signed {
			return f(w).sign(w.obs, KindRetract, RetractPayload{Target: w.rep.ID.Bytes(), Reason: str(MaxNoteLen + 1)})
		}, "payload.reason"},
		// check-in, alert
		{"checkin status bogus", func(w *world) *Signed { return f(w).sign(w.obs, KindCheckin, CheckinPayload{Status: "sleeping"}) }, "payload.status"},
		{"checkin status empty", func(w *world) *Signed { return f(w).sign(w.obs, KindCheckin, CheckinPayload{}) }, "payload.status"},
		{"checkin station with space", func(w *world) *Signed {
			return f(w).sign(w.obs, KindCheckin, CheckinPayload{Status: "closed", Station: "a b"})
		}, "payload.station"},
		{"checkin by a carrier", func(w *world) *Signed { return f(w).sign(w.carrier, KindCheckin, CheckinPayload{Status: "arrived"}) }, weakRole},
		{"alert ok, empty", func(w *world) *Signed { return f(w).sign(w.obs, KindAlert, AlertPayload{}) }, ""},
		{"alert note too long", func(w *world) *Signed { return f(w).sign(w.obs, KindAlert, AlertPayload{Note: str(MaxNoteLen + 1)}) }, "payload.note"},
		{"alert lat without lon", func(w *world) *Signed { return f(w).sign(w.obs, KindAlert, AlertPayload{Lat: Micro(1)}) }, "lat"},
		{"alert lon out of range", func(w *world) *Signed {
			return f(w).sign(w.obs, KindAlert, AlertPayload{Lat: Micro(1), Lon: Micro(-181)})
		}, "lon"},
		{"alert by a carrier", func(w *world) *Signed { return f(w).sign(w.carrier, KindAlert, AlertPayload{}) }, weakRole},
		// receipt, checkpoint, attachment, station
		{"receipt empty", func(w *world) *Signed { return f(w).sign(w.f.founder, KindReceipt, ReceiptPayload{}) }, "payload.ids"},
		{"receipt short id", func(w *world) *Signed {
			return f(w).sign(w.f.founder, KindReceipt, ReceiptPayload{IDs: [][]byte{w.rep.ID.Bytes(), {1}}})
		}, "payload.ids[1]"},
		{"receipt by an observer", func(w *world) *Signed {
			return f(w).sign(w.obs, KindReceipt, ReceiptPayload{IDs: [][]byte{w.rep.ID.Bytes()}})
		}, weakRole},
		{"checkpoint short root", func(w *world) *Signed {
			return f(w).sign(w.f.founder, KindCheckpoint, CheckpointPayload{Root: make([]byte, 31), Count: 1})
		}, "payload.root"},
		{"checkpoint by an observer", func(w *world) *Signed {
			return f(w).sign(w.obs, KindCheckpoint, CheckpointPayload{Root: make([]byte, 32)})
		}, weakRole},
		{"attachment short hash", func(w *world) *Signed {
			return f(w).sign(w.obs, KindAttachment, AttachmentPayload{Hash: make([]byte, 20), Size: 1, Mime: "image/png"})
		}, "payload.hash"},
		{"attachment too big", func(w *world) *Signed {
			return f(w).sign(w.obs, KindAttachment, AttachmentPayload{Hash: make([]byte, 32), Size: MaxAttachmentSize + 1, Mime: "image/png"})
		}, "payload.size"},
		{"attachment without mime", func(w *world) *Signed {
			return f(w).sign(w.obs, KindAttachment, AttachmentPayload{Hash: make([]byte, 32), Size: 1})
		}, "payload.mime"},
		{"attachment by a carrier", func(w *world) *Signed {
			return f(w).sign(w.carrier, KindAttachment, AttachmentPayload{Hash: make([]byte, 32), Size: 1, Mime: "a/b"})
		}, weakRole},
		{"station without code", func(w *world) *Signed { return f(w).sign(w.f.founder, KindStation, StationPayload{Name: "x"}) }, "payload.code"},
		{"station name too long", func(w *world) *Signed {
			return f(w).sign(w.f.founder, KindStation, StationPayload{Code: "S1", Name: str(MaxNameLen + 1)})
		}, "payload.name"},
		{"station lat 200", func(w *world) *Signed {
			return f(w).sign(w.f.founder, KindStation, StationPayload{Code: "S1", Lat: Micro(200), Lon: Micro(0)})
		}, "lat"},
		{"station by an observer", func(w *world) *Signed { return f(w).sign(w.obs, KindStation, StationPayload{Code: "S1"}) }, weakRole},
		// config, revoke
		{"config by an observer", func(w *world) *Signed { return f(w).sign(w.obs, KindConfig, ConfigPayload{}) }, weakRole},
		{"config by a second coordinator", func(w *world) *Signed { return f(w).sign(w.coord2, KindConfig, ConfigPayload{}) }, ""},
		{"config malformed category", func(w *world) *Signed {
			return f(w).sign(w.f.founder, KindConfig, ConfigPayload{Categories: []Category{{Code: "Polling.X", Family: "polling"}}})
		}, "payload.categories[0].code"},
		{"config category of unknown family", func(w *world) *Signed {
			return f(w).sign(w.f.founder, KindConfig, ConfigPayload{Categories: []Category{{Code: "weather.rain", Family: "weather"}}})
		}, "payload.categories[0].code"},
		{"config family mismatch", func(w *world) *Signed {
			return f(w).sign(w.f.founder, KindConfig, ConfigPayload{Categories: []Category{{Code: "polling.x", Family: "other"}}})
		}, "payload.categories[0].family"},
		{"config label too long", func(w *world) *Signed {
			return f(w).sign(w.f.founder, KindConfig, ConfigPayload{Categories: []Category{{Code: "polling.x", Family: "polling", Label: str(MaxNameLen + 1)}}})
		}, "payload.categories[0].label"},
		{"config too many categories", func(w *world) *Signed {
			cats := make([]Category, MaxCategories+1)
			for i := range cats {
				cats[i] = Category{Code: "other.c" + strings.Repeat("x", i%20) + string(rune('a'+i%26)), Family: "other"}
			}
			return f(w).sign(w.f.founder, KindConfig, ConfigPayload{Categories: cats})
		}, "payload.categories"},
		{"config unknown private field", func(w *world) *Signed {
			return f(w).sign(w.f.founder, KindConfig, ConfigPayload{PrivateFields: []string{"lat", "phone"}})
		}, "payload.private_fields[1]"},
		{"revoke by an observer", func(w *world) *Signed {
			return f(w).sign(w.obs, KindRevoke, RevokePayload{Member: w.obs2.pub[:]})
		}, weakRole},
		{"revoke short member", func(w *world) *Signed {
			return f(w).sign(w.f.founder, KindRevoke, RevokePayload{Member: w.obs2.pub[:31]})
		}, "payload.member"},
		{"revoke bad accepted id", func(w *world) *Signed {
			return f(w).sign(w.f.founder, KindRevoke, RevokePayload{Member: w.obs2.pub[:], Accepted: [][]byte{w.rep2.ID.Bytes(), {9}}})
		}, "payload.accepted[1]"},
		{"revoke reason too long", func(w *world) *Signed {
			return f(w).sign(w.f.founder, KindRevoke, RevokePayload{Member: w.obs2.pub[:], Reason: str(MaxNoteLen + 1)})
		}, "payload.reason"},
		// report authorship
		{"report by a carrier", func(w *world) *Signed { return f(w).report(w.carrier, nil) }, weakRole},
		{"report by a coordinator", func(w *world) *Signed { return f(w).report(w.coord2, nil) }, ""},
		// sealed records
		{"sealed report", func(w *world) *Signed { return sealed(w, w.obs, KindReport, SealedEnvelope{}) }, ""},
		{"sealed amend of own report", func(w *world) *Signed {
			return sealed(w, w.obs, KindAmend, SealedEnvelope{Target: w.rep.ID.Bytes()})
		}, ""},
		{"sealed review", func(w *world) *Signed {
			return sealed(w, w.f.founder, KindReview, SealedEnvelope{Target: w.rep.ID.Bytes()})
		}, ""},
		{"sealed amend of another author's report", func(w *world) *Signed {
			return sealed(w, w.obs2, KindAmend, SealedEnvelope{Target: w.rep.ID.Bytes()})
		}, "author"},
		{"sealed amend without target", func(w *world) *Signed { return sealed(w, w.obs, KindAmend, SealedEnvelope{}) }, "payload.target"},
		{"sealed report with a target", func(w *world) *Signed {
			return sealed(w, w.obs, KindReport, SealedEnvelope{Target: w.rep.ID.Bytes()})
		}, "payload.target"},
		{"sealed check-in", func(w *world) *Signed { return sealed(w, w.obs, KindCheckin, SealedEnvelope{}) }, "sealed"},
		{"sealed alert", func(w *world) *Signed { return sealed(w, w.obs, KindAlert, SealedEnvelope{}) }, "sealed"},
		{"sealed config", func(w *world) *Signed { return sealed(w, w.f.founder, KindConfig, SealedEnvelope{}) }, "sealed"},
		{"sealed revoke", func(w *world) *Signed { return sealed(w, w.f.founder, KindRevoke, SealedEnvelope{}) }, "sealed"},
		{"sealed station", func(w *world) *Signed { return sealed(w, w.f.founder, KindStation, SealedEnvelope{}) }, "sealed"},
		{"sealed receipt", func(w *world) *Signed { return sealed(w, w.f.founder, KindReceipt, SealedEnvelope{}) }, "sealed"},
		{"sealed member", func(w *world) *Signed {
			s := w.f.signer("sealed-member")
			rec, err := s.SignSealed(w.f.ms.ID, KindMember, w.f.next(), SealedEnvelope{}, []byte{1, 2, 3})
			if err != nil {
				t.Fatal(err)
			}
			return rec
		}, "sealed"},
		{"sealed report with a non-envelope payload", func(w *world) *Signed {
			rec, err := w.obs.SignSealed(w.f.ms.ID, KindReport, w.f.next(), goodReport(), []byte{1})
			if err != nil {
				t.Fatal(err)
			}
			return rec
		}, "payload"},
		{"sealed by a carrier", func(w *world) *Signed { return sealed(w, w.carrier, KindReport, SealedEnvelope{}) }, weakRole},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			rec := c.build(w)
			err := w.f.validate(rec)
			if c.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want valid", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want a rejection of %q", c.field)
			}
			if c.field == weakRole {
				wantWeakRole(t, err)
				return
			}
			wantField(t, err, c.field)
		})
	}
}

func sealed(w *world, s *Signer, k Kind, env SealedEnvelope) *Signed {
	w.f.tb.Helper()
	rec, err := s.SignSealed(w.f.ms.ID, k, w.f.next(), env, bytes.Repeat([]byte{0xee}, 256))
	if err != nil {
		w.f.tb.Fatalf("SignSealed: %v", err)
	}
	return rec
}

func TestValidateMissing(t *testing.T) {
	t.Run("report from a non-member, then valid once enrolled", func(t *testing.T) {
		w := newWorld(t)
		newcomer := w.f.signer("newcomer")
		rec := w.f.report(newcomer, nil)
		wantMissing(t, w.f.validate(rec), newcomer.Author(), ID{})
		w.f.enroll(w.f.founder, "newcomer", RoleObserver)
		if err := w.f.validate(rec); err != nil {
			t.Fatalf("after enrollment: %v", err)
		}
	})
	t.Run("non-member's invalid report waits, then is rejected", func(t *testing.T) {
		w := newWorld(t)
		newcomer := w.f.signer("newcomer")
		rec := w.f.report(newcomer, func(p *ReportPayload) { p.Severity = 9 })
		wantMissing(t, w.f.validate(rec), newcomer.Author(), ID{})
		w.f.enroll(w.f.founder, "newcomer", RoleObserver)
		wantField(t, w.f.validate(rec), "severity")
	})
	t.Run("amend whose target is not held", func(t *testing.T) {
		w := newWorld(t)
		unheld := w.f.report(w.obs, nil)
		am := w.f.sign(w.obs, KindAmend, AmendPayload{Target: unheld.ID.Bytes(), Report: goodReport()})
		wantMissing(t, w.f.validate(am), Author{}, unheld.ID)
		w.f.accept(unheld)
		if err := w.f.validate(am); err != nil {
			t.Fatalf("after the target arrived: %v", err)
		}
	})
	t.Run("review whose target is not held", func(t *testing.T) {
		w := newWorld(t)
		unheld := w.f.report(w.obs2, nil)
		rv := w.f.review(w.coord2, unheld, "verified")
		wantMissing(t, w.f.validate(rv), Author{}, unheld.ID)
	})
	t.Run("retract whose target is not held", func(t *testing.T) {
		w := newWorld(t)
		unheld := w.f.report(w.obs, nil)
		rt := w.f.sign(w.obs, KindRetract, RetractPayload{Target: unheld.ID.Bytes(), Reason: "x"})
		wantMissing(t, w.f.validate(rt), Author{}, unheld.ID)
	})
	t.Run("sealed review whose target is not held", func(t *testing.T) {
		w := newWorld(t)
		unheld := w.f.report(w.obs2, nil)
		wantMissing(t, w.f.validate(sealed(w, w.coord2, KindReview, SealedEnvelope{Target: unheld.ID.Bytes()})), Author{}, unheld.ID)
	})
	t.Run("member whose issuer is not known", func(t *testing.T) {
		w := newWorld(t)
		issuer := w.f.signer("coord-later")
		joiner := w.f.signer("joiner")
		rec := w.f.memberRecord(joiner, w.f.token(issuer, RoleObserver, "", nil))
		wantMissing(t, w.f.validate(rec), issuer.Author(), ID{})
		w.f.enroll(w.f.founder, "coord-later", RoleCoordinator)
		if err := w.f.validate(rec); err != nil {
			t.Fatalf("after the issuer was enrolled: %v", err)
		}
	})
	t.Run("MissingError.Key", func(t *testing.T) {
		a := signerFor(t, "k").Author()
		if k := (&MissingError{Author: a}).Key(); !bytes.Equal(k, a[:]) {
			t.Fatalf("Key() = %x, want the author", k)
		}
		id := IDOf([]byte("x"))
		if k := (&MissingError{Record: id}).Key(); !bytes.Equal(k, id[:]) {
			t.Fatalf("Key() = %x, want the record ID", k)
		}
	})
}

func TestValidateMission(t *testing.T) {
	w := newWorld(t)
	other := newFixture(t, "another-mission")
	otherObs := other.enroll(other.founder, "obs", RoleObserver)

	t.Run("own genesis", func(t *testing.T) {
		if err := w.f.validate(w.f.genesis); err != nil {
			t.Fatalf("Validate(genesis) = %v", err)
		}
	})
	t.Run("genesis of another mission", func(t *testing.T) {
		wantField(t, w.f.validate(other.genesis), "mission")
	})
	t.Run("record for another mission", func(t *testing.T) {
		wantField(t, w.f.validate(other.report(otherObs, nil)), "mission")
	})
	t.Run("member's record signed for another mission", func(t *testing.T) {
		rec, err := w.obs.Sign(other.ms.ID, KindReport, w.f.next(), goodReport())
		if err != nil {
			t.Fatal(err)
		}
		wantField(t, w.f.validate(rec), "mission")
	})
}

func TestValidateMember(t *testing.T) {
	type tc struct {
		name  string
		build func(w *world) *Signed
		field string
	}
	other := newFixture(t, "member-other-mission")
	cases := []tc{
		{"observer token from the founder", func(w *world) *Signed {
			return w.f.memberRecord(w.f.signer("j"), w.f.token(w.f.founder, RoleObserver, "", nil))
		}, ""},
		{"carrier token from the second coordinator", func(w *world) *Signed {
			return w.f.memberRecord(w.f.signer("j"), w.f.token(w.coord2, RoleCarrier, "relay", nil))
		}, ""},
		{"observer token bound to the joiner", func(w *world) *Signed {
			j := w.f.signer("j")
			a := j.Author()
			return w.f.memberRecord(j, w.f.token(w.f.founder, RoleObserver, "", &a))
		}, ""},
		{"token from another mission", func(w *world) *Signed {
			return w.f.memberRecord(w.f.signer("j"), other.token(other.founder, RoleObserver, "", nil))
		}, "token.mission"},
		{"token from another mission, issuer a coordinator here", func(w *world) *Signed {
			tok := other.token(w.f.founder, RoleObserver, "", nil)
			return w.f.memberRecord(w.f.signer("j"), tok)
		}, "token.mission"},
		{"token signed by an observer", func(w *world) *Signed {
			return w.f.memberRecord(w.f.signer("j"), w.f.token(w.obs, RoleObserver, "", nil))
		}, weakRole},
		{"token signed by a carrier", func(w *world) *Signed {
			return w.f.memberRecord(w.f.signer("j"), w.f.token(w.carrier, RoleObserver, "", nil))
		}, weakRole},
		{"tampered token: role raised to carrier", func(w *world) *Signed {
			tok := w.f.token(w.f.founder, RoleObserver, "", nil)
			tok.Role = RoleCarrier
			return w.f.memberRecord(w.f.signer("j"), tok)
		}, "token.signature"},
		{"tampered token: role raised to coordinator", func(w *world) *Signed {
			j := w.f.signer("j")
			a := j.Author()
			tok := w.f.token(w.f.founder, RoleObserver, "", &a)
			tok.Role = RoleCoordinator
			return w.f.memberRecord(j, tok)
		}, "token.signature"},
		{"tampered token: label", func(w *world) *Signed {
			tok := w.f.token(w.f.founder, RoleObserver, "alice", nil)
			tok.Label = "mallory"
			return w.f.memberRecord(w.f.signer("j"), tok)
		}, "token.signature"},
		{"tampered token: expiry removed", func(w *world) *Signed {
			tok := Token{Mission: w.f.ms.ID.Bytes(), Role: RoleObserver, Nonce: w.f.nonce(), Expires: t0.UnixMilli()}
			tok = w.f.founder.SignToken(tok)
			tok.Expires = 0
			return w.f.memberRecord(w.f.signer("j"), tok)
		}, "token.signature"},
		{"tampered token: binding removed", func(w *world) *Signed {
			j := w.f.signer("j")
			a := j.Author()
			tok := w.f.token(w.f.founder, RoleObserver, "", &a)
			tok.For = nil
			return w.f.memberRecord(j, tok)
		}, "token.signature"},
		{"token issuer swapped", func(w *world) *Signed {
			tok := w.f.token(w.obs, RoleObserver, "", nil)
			tok.Issuer = w.f.founder.pub[:]
			return w.f.memberRecord(w.f.signer("j"), tok)
		}, "token.signature"},
		{"token without a signature", func(w *world) *Signed {
			tok := w.f.token(w.f.founder, RoleObserver, "", nil)
			tok.Sig = nil
			return w.f.memberRecord(w.f.signer("j"), tok)
		}, "token.signature"},
		{"token with a record-domain signature", func(w *world) *Signed {
			tok := Token{Mission: w.f.ms.ID.Bytes(), Role: RoleObserver, Nonce: w.f.nonce(), Issuer: w.f.founder.pub[:]}
			body := mustMarshal(t, tok)
			tok.Sig = edSign(w.f.founder, append([]byte(recordDomain), body...))
			return w.f.memberRecord(w.f.signer("j"), tok)
		}, "token.signature"},
		{"token issuer short", func(w *world) *Signed {
			tok := w.f.token(w.f.founder, RoleObserver, "", nil)
			tok.Issuer = tok.Issuer[:31]
			return w.f.memberRecord(w.f.signer("j"), tok)
		}, "token.issuer"},
		{"coordinator token without For", func(w *world) *Signed {
			return w.f.memberRecord(w.f.signer("j"), w.f.token(w.f.founder, RoleCoordinator, "", nil))
		}, "token.for"},
		{"coordinator token bound to a different key", func(w *world) *Signed {
			other := w.f.signer("someone-else").Author()
			return w.f.memberRecord(w.f.signer("j"), w.f.token(w.f.founder, RoleCoordinator, "", &other))
		}, "token.for"},
		{"observer token bound to a different key", func(w *world) *Signed {
			other := w.f.signer("someone-else").Author()
			return w.f.memberRecord(w.f.signer("j"), w.f.token(w.f.founder, RoleObserver, "", &other))
		}, "token.for"},
		{"coordinator token bound to the joiner, from the second coordinator", func(w *world) *Signed {
			j := w.f.signer("j")
			a := j.Author()
			return w.f.memberRecord(j, w.f.token(w.coord2, RoleCoordinator, "", &a))
		}, ""},
		{"unknown role", func(w *world) *Signed {
			return w.f.memberRecord(w.f.signer("j"), w.f.token(w.f.founder, "admin", "", nil))
		}, "token.role"},
		{"short nonce", func(w *world) *Signed {
			tok := w.f.founder.SignToken(Token{Mission: w.f.ms.ID.Bytes(), Role: RoleObserver, Nonce: []byte{1, 2, 3}})
			return w.f.memberRecord(w.f.signer("j"), tok)
		}, "token.nonce"},
		{"label too long", func(w *world) *Signed {
			return w.f.memberRecord(w.f.signer("j"), w.f.token(w.f.founder, RoleObserver, strings.Repeat("l", MaxLabelLen+1), nil))
		}, "token.label"},
		{"recipient too long", func(w *world) *Signed {
			return w.f.sign(w.f.signer("j"), KindMember, MemberPayload{Token: w.f.token(w.f.founder, RoleObserver, "", nil),
				Recipient: strings.Repeat("r", MaxRecipientLen+1)})
		}, "payload.recipient"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			err := w.f.validate(c.build(w))
			if c.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want valid", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want a rejection of %q", c.field)
			}
			if c.field == weakRole {
				wantWeakRole(t, err)
				return
			}
			wantField(t, err, c.field)
		})
	}
}

func TestRolesAndPermissions(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		s    *Signer
		role string
	}{{w.f.founder, RoleCoordinator}, {w.coord2, RoleCoordinator}, {w.obs, RoleObserver}, {w.carrier, RoleCarrier}} {
		if got, ok := w.f.ms.Role(c.s.Author()); !ok || got != c.role {
			t.Errorf("Role(%s) = %q, %v; want %q", c.s.Author().Short(), got, ok, c.role)
		}
	}
	if _, ok := w.f.ms.Role(w.stranger.Author()); ok {
		t.Error("a stranger has a role")
	}
	// The documented matrix: carriers author nothing but their own
	// enrollment; observers author observations; coordinators everything.
	for _, k := range Kinds {
		if k == KindMission {
			continue
		}
		coord := Allowed(RoleCoordinator, k)
		obs := Allowed(RoleObserver, k)
		car := Allowed(RoleCarrier, k)
		wantObs := k == KindMember || k == KindReport || k == KindAmend || k == KindRetract ||
			k == KindCheckin || k == KindAlert || k == KindAttachment || k == KindTally || k == KindResponse ||
			k == KindCapture
		if !coord || obs != wantObs || car != (k == KindMember) {
			t.Errorf("Allowed(%s): coordinator %v, observer %v, carrier %v", k, coord, obs, car)
		}
	}
}

// weakRole marks rows where a known member's role is too weak: the record
// waits (a later enrollment may raise the role) rather than being rejected,
// so the verdict does not depend on arrival order.
const weakRole = "(weak role)"

func wantWeakRole(t *testing.T, err error) {
	t.Helper()
	var me *MissingError
	if !errors.As(err, &me) || me.Problem == "" || me.Author.IsZero() {
		t.Fatalf("err = %v (%T), want a *MissingError for a member whose role is too weak", err, err)
	}
}

// Every built-in category is a valid report category (the longest codes
// once broke a 32-byte limit).
func TestEveryBaseCategoryValidates(t *testing.T) {
	for _, c := range BaseTaxonomy {
		r := ReportPayload{Category: c.Code, Severity: 2, Title: "t"}
		if err := ValidateReport(&r); err != nil {
			t.Errorf("%s: %v", c.Code, err)
		}
	}
}

func TestArticleAndPlural(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Article("observer"), "an observer"},
		{Article("carrier"), "a carrier"},
		{Article("amend"), "an amend"},
		{Plural(0, "record"), "0 records"},
		{Plural(1, "record"), "1 record"},
		{Plural(2, "round"), "2 rounds"},
		{Plural(1, "entry", "entries"), "1 entry"},
		{Plural(3, "entry", "entries"), "3 entries"},
		{Verb(1, "is", "are"), "is"},
		{Verb(0, "is", "are"), "are"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
