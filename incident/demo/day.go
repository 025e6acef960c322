package demo

import (
	"crypto/sha256"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

// plan is the practice mission's records in the order a store needs them,
// with the summary of what they hold.
type plan struct {
	records []*incident.Signed
	summary Summary
}

// builder signs the practice mission's records: the mission's policy and
// enrollments, the station registry, and the polling day.
type builder struct {
	w       *world
	rng     *rand.Rand
	mission incident.ID
	day     time.Time
	founded time.Time
	byKind  map[incident.Kind][]*incident.Signed
	reports []*report
	nonces  int
	text    *writer
	later   []func() // stories that review reports once they are signed
	// sosAlert is the afternoon's alert (sos), answered in notices.
	sosAlert *incident.Signed

	shutdownStart map[*district]int // minute of the day data went down
}

// report is one planned report and what later happens to it.
type report struct {
	author  *person
	region  *region
	p       incident.ReportPayload
	created time.Time
	rec     *incident.Signed

	amendments []amendment

	amended, retracted, reviewed, conflict bool
	noReview                               bool // reviewed by the story that made it, or not to be reviewed
}

// buildError carries a signing failure out of the builder's helpers, which
// would otherwise all return errors for what is a programming mistake.
type buildError struct{ err error }

// build signs every record of the practice mission founded by genesis,
// whose founder is w.founder. The result depends only on w's seed, the
// founder's key, the genesis and day.
func build(w *world, genesis *incident.Signed, day time.Time) (p plan, err error) {
	defer func() {
		if r := recover(); r != nil {
			be, ok := r.(buildError)
			if !ok {
				panic(r)
			}
			err = be.err
		}
	}()
	b := &builder{
		w: w, rng: rand.New(rand.NewPCG(w.seed, 0x706f6c6c696e67)),
		mission: genesis.ID, day: day, founded: genesis.CreatedTime(),
		byKind: map[incident.Kind][]*incident.Signed{}, shutdownStart: map[*district]int{},
	}
	b.text = newWriter(b)
	b.policy()
	b.enroll()
	b.registry()
	b.assignments()
	b.pollingDay()
	return b.finish(), nil
}

// sign signs a record as p and files it under its kind.
func (b *builder) sign(p *person, kind incident.Kind, at time.Time, payload any) *incident.Signed {
	rec, err := p.signer.Sign(b.mission, kind, at, payload)
	if err != nil {
		panic(buildError{fmt.Errorf("sign practice %s record: %w", kind, err)})
	}
	b.byKind[kind] = append(b.byKind[kind], rec)
	return rec
}

// nonce returns 16 bytes that depend on the seed and a counter.
func (b *builder) nonce() []byte {
	b.nonces++
	h := sha256.Sum256(fmt.Appendf(nil, "vigil-demo/v1/nonce/%d/%d", b.w.seed, b.nonces))
	return h[:16]
}

// clock returns the polling day at hh:mm plus sec seconds.
func (b *builder) clock(min int, sec int) time.Time {
	return b.day.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second)
}

// between returns a time on the polling day from minute lo to minute hi,
// with seconds and milliseconds as a phone would record them.
func (b *builder) between(lo, hi int) time.Time {
	m := lo
	if hi > lo {
		m += b.rng.IntN(hi - lo)
	}
	return b.clock(m, b.rng.IntN(60)).Add(time.Duration(b.rng.IntN(1000)) * time.Millisecond)
}

func hm(h, m int) int { return h*60 + m }

func minuteOf(day, t time.Time) int { return int(t.Sub(day) / time.Minute) }

func (b *builder) chance(p float64) bool { return b.rng.Float64() < p }

// policy is the mission's one config record: a category the mission adds
// and its attachment budget.
func (b *builder) policy() {
	b.sign(b.w.founder, incident.KindConfig, b.founded.Add(18*time.Minute), incident.ConfigPayload{
		Categories: []incident.Category{{Code: "polling.campaigning", Family: "polling",
			Label: "Campaigning at or near the polling station"}},
		AttachmentBudget: 64 << 20,
	})
}

// enroll issues invites and redeems them, as `mission invite` and
// `mission join` would: the issuer signs a token, the new member signs its
// member record with it.
func (b *builder) enroll() {
	join := func(p *person, issued time.Time, expires time.Duration) {
		nonce := b.nonce()
		inviteSeed := sha256.Sum256(fmt.Appendf(nil, "vigil-demo/v1/invite/%x", nonce))
		tok := incident.Token{Mission: b.mission.Bytes(), Role: p.role, Label: p.label, Nonce: nonce,
			Invite: incident.InvitePublic(inviteSeed[:])}
		if expires > 0 {
			tok.Expires = issued.Add(expires).UnixMilli()
		}
		if p.role == incident.RoleCoordinator {
			a := p.signer.Author()
			tok.For = a[:]
		}
		tok = p.issuer.signer.SignToken(tok)
		joined := issued.Add(time.Duration(2+b.rng.IntN(40))*time.Minute + time.Duration(b.rng.IntN(60000))*time.Millisecond)
		b.sign(p, incident.KindMember, joined, incident.MemberPayload{Token: tok, Recipient: p.recipient,
			InviteSig: incident.SignRedeem(inviteSeed[:], b.mission, p.signer.Author())})
	}
	// The desk coordinators the day after the mission was founded.
	for i, c := range b.w.coordinators[1:] {
		join(c, b.founded.Add(24*time.Hour+time.Duration(i)*95*time.Minute), 0)
	}
	// Observers at two training sessions, north then south; invites
	// valid until the day after polling day.
	for i, o := range b.w.observers {
		training := b.day.Add(-6*24*time.Hour + 10*time.Hour)
		if o.district.region == b.w.regions[2] || o.district.region == b.w.regions[3] {
			training = training.Add(24 * time.Hour)
		}
		issued := training.Add(time.Duration(i%20)*11*time.Minute + time.Duration(b.rng.IntN(300))*time.Second)
		join(o, issued, b.day.Add(48*time.Hour).Sub(issued))
	}
	for i, c := range b.w.carriers {
		join(c, b.day.Add(-3*24*time.Hour+15*time.Hour+time.Duration(i)*25*time.Minute), 72*time.Hour)
	}
}

// registry is the station list the founder imported from the electoral
// commission's published list, a week before polling day: one registry
// snapshot (`station import`), each station with its admin path (region,
// district, town or quarter), its registered voters, and for about a
// third of them the quick-count sample's tag (pvt); every station names
// its stratum (stratum=REGION). Its
// draws come from a generator of their own, so the polling day stays
// what it was before stations had them.
func (b *builder) registry() {
	at := b.day.Add(-8*24*time.Hour + 14*time.Hour + 5*time.Minute)
	rng := rand.New(rand.NewPCG(b.w.seed, 0x7265676973747279))
	snap := b.w.derive("registry snapshot", "")
	ids := make([]incident.ID, 0, len(b.w.stations))
	for i, s := range b.w.stations {
		registered := 400 + rng.IntN(900)
		if s.district.urban {
			registered += 300
		}
		s.registered = registered
		// Every station carries its stratum: the quick count's population
		// of a stratum is all its stations, the sample the pvt ones.
		p := incident.StationPayload{
			Code: s.code, Name: s.name, Area: s.area(), Lat: incident.Micro(s.lat), Lon: incident.Micro(s.lon),
			Admin: []string{s.district.region.name, s.district.name, s.place}, Registered: uint64(registered), Snapshot: snap,
			Tags: []string{incident.TagStratum + stratum(s.district.region.name)},
		}
		if rng.IntN(3) == 0 {
			p.Tags = []string{incident.TagPVT, incident.TagStratum + stratum(s.district.region.name)}
		}
		rec := b.sign(b.w.founder, incident.KindStation, at.Add(time.Duration(i)*250*time.Millisecond), p)
		ids = append(ids, rec.ID)
	}
	b.sign(b.w.founder, incident.KindRegistry, at.Add(time.Duration(len(ids))*250*time.Millisecond), incident.RegistryPayload{
		Snapshot: snap, Count: uint64(len(ids)), Root: incident.RegistryRoot(ids)})
}

// assignments post each observer to their station for the day, two days
// before it, by their region's desk (`vigil assign`), a minute apart.
// They draw nothing at random, so the polling day stays as it was.
func (b *builder) assignments() {
	at := b.day.Add(-2*24*time.Hour + 16*time.Hour)
	for i, o := range b.w.observers {
		a := o.signer.Author()
		b.sign(b.deskOf(o.home), incident.KindAssignment, at.Add(time.Duration(i)*time.Minute),
			incident.AssignmentPayload{Member: a[:], Station: o.home.code, Note: "Opening to count, with the closing checklist and the result sheet"})
	}
}

// stratum is a region's name as a tag word: "Dunmore Coast" is
// dunmore-coast.
func stratum(region string) string {
	return strings.ToLower(strings.ReplaceAll(region, " ", "-"))
}

// finish orders the records for a store (each kind after the kinds it
// depends on, by claimed time within a kind) and counts what they hold.
func (b *builder) finish() plan {
	var p plan
	for _, k := range incident.Kinds {
		list := b.byKind[k]
		sort.SliceStable(list, func(i, j int) bool { return incident.Before(list[i], list[j]) })
		p.records = append(p.records, list...)
	}
	s := &p.summary
	s.Regions, s.Districts, s.Stations = len(b.w.regions), len(b.w.districts), len(b.w.stations)
	s.Coordinators, s.Observers, s.Carriers = len(b.w.coordinators), len(b.w.observers), len(b.w.carriers)
	s.Reports = len(b.reports)
	for _, r := range b.reports {
		s.Amended += btoi(r.amended)
		s.Retracted += btoi(r.retracted)
		s.Reviewed += btoi(r.reviewed)
		s.Conflicts += btoi(r.conflict)
	}
	s.Checkins = len(b.byKind[incident.KindCheckin])
	s.Alerts = len(b.byKind[incident.KindAlert])
	return p
}

func btoi(v bool) int {
	if v {
		return 1
	}
	return 0
}

// The polling day, in Marenta time (UTC). Stations open at 07:00 and close
// at 18:00; mobile data is cut in the Ostmarin region and in Saltreach
// district from about 12:10 and comes back after 17:00.

var (
	opening      = hm(7, 0)
	closing      = hm(18, 0)
	shutdownEnds = hm(17, 10)
)

func (b *builder) inShutdown(d *district) bool { _, ok := b.shutdownStart[d]; return ok }

// pollingDay plans every observer's day, then the reports, their fates and
// the coordinators' reviews.
func (b *builder) pollingDay() {
	for _, d := range b.w.districts {
		if d.region == b.w.regions[1] || d.name == "Saltreach" {
			b.shutdownStart[d] = hm(12, 5) + b.rng.IntN(35)
		}
	}
	// Two observers in the shutdown area fall silent for good; half of the
	// others there stop checking in until the network returns.
	var cut []*person
	for _, o := range b.w.observers {
		if start, ok := b.shutdownStart[o.district]; ok {
			cut = append(cut, o)
			if b.chance(0.5) {
				o.gap = [2]int{start, shutdownEnds + b.rng.IntN(40)}
			}
		}
	}
	for _, i := range b.rng.Perm(len(cut))[:2] {
		cut[i].silentFrom = b.shutdownStart[cut[i].district] + 8 + b.rng.IntN(20)
	}
	for _, o := range b.w.observers {
		o.opensLate = b.chance(0.22)
	}

	b.checkins()
	b.openingProblems()
	b.daytime()
	b.shutdown()
	b.evening()
	b.disinformation()
	b.sos()
	b.fates()
	b.reviews()
	// Last, so that the random draws above, and with them every report,
	// are the same as before notices existed.
	b.notices()
	b.tallies()
	b.checklists()
}

// heard reports whether anything observer o writes at minute m reaches the
// mission.
func (o *person) heard(m int) bool { return o.silentFrom == 0 || m < o.silentFrom }

func (o *person) quiet(m int) bool { return o.heard(m) && !(m >= o.gap[0] && m < o.gap[1]) }

// stationFor picks where o writes from: their own station mostly, else one
// they visit.
func (b *builder) stationFor(o *person) *station {
	if len(o.visits) > 0 && b.chance(0.35) {
		return o.visits[b.rng.IntN(len(o.visits))]
	}
	return o.home
}

// checkins are the observers' presence signals: arrived before dawn,
// opened, all quiet a few times, closed.
func (b *builder) checkins() {
	for _, o := range b.w.observers {
		checkin := func(t time.Time, status string, st *station) {
			b.sign(o, incident.KindCheckin, t, incident.CheckinPayload{Status: status, Station: st.code})
		}
		arrived := b.between(hm(5, 30), hm(6, 30))
		checkin(arrived, "arrived", o.home)
		open := b.between(opening-4, opening+9)
		if o.opensLate {
			open = b.between(hm(7, 25), hm(9, 40))
		}
		o.opened = open
		o.arrived = arrived
		checkin(open.Add(time.Duration(40+b.rng.IntN(200))*time.Second), "opened", o.home)
		// All quiet every two or three hours, where nothing else is going on.
		for m := minuteOf(b.day, open) + 100 + b.rng.IntN(60); m < hm(17, 30); m += 120 + b.rng.IntN(70) {
			if o.quiet(m) {
				st := o.home
				if len(o.visits) > 0 && b.chance(0.3) {
					st = o.visits[b.rng.IntN(len(o.visits))]
				}
				checkin(b.between(m, m+10), "all_quiet", st)
			}
		}
		closed := b.between(closing, closing+22)
		if b.chance(0.15) {
			// Voters still in the queue at six may vote: a late close.
			closed = b.between(hm(18, 30), hm(19, 45))
		}
		if o.heard(minuteOf(b.day, closed)) {
			checkin(closed, "closed", o.home)
		}
	}
}

// newReport plans a report by o at st, occurred at t. Observers at a
// station often let the phone add their position.
func (b *builder) newReport(o *person, st *station, category string, t time.Time) *report {
	r := &report{author: o, p: incident.ReportPayload{Category: category, Occurred: t.UnixMilli()}}
	r.created = t.Add(time.Duration(60+b.rng.IntN(20*60))*time.Second + time.Duration(b.rng.IntN(1000))*time.Millisecond)
	if st != nil {
		r.p.Station, r.p.Area, r.region = st.code, st.area(), st.district.region
		if o.role == incident.RoleObserver {
			switch x := b.rng.Float64(); {
			case x < 0.4: // GPS fix, within a hundred metres or so
				r.p.Lat = incident.Micro(st.lat + (b.rng.Float64()-0.5)*0.0018)
				r.p.Lon = incident.Micro(st.lon + (b.rng.Float64()-0.5)*0.0018)
				r.p.Precision = uint64(5 + b.rng.IntN(35))
			case x < 0.5: // network location only
				r.p.Lat = incident.Micro(st.lat + (b.rng.Float64()-0.5)*0.01)
				r.p.Lon = incident.Micro(st.lon + (b.rng.Float64()-0.5)*0.01)
				r.p.Precision = uint64(250 + b.rng.IntN(1200))
			}
		}
	} else if o.district != nil {
		r.p.Area, r.region = o.district.name, o.district.region
	} else {
		r.p.Area = "National"
	}
	sc := b.text.scene(o, st, t)
	r.p.Title, r.p.Description = b.text.write(category, sc)
	if incident.FamilyOf(category) == "disinformation" {
		d := sc.sighting
		r.p.Channel, r.p.Harm, r.p.Reach, r.p.Source = d.channel, d.harm, d.reach, d.source
	}
	r.p.Severity = b.severity(category, r.p.Harm)
	b.reports = append(b.reports, r)
	return r
}

// severity is what an observer would most likely pick, give or take one.
func (b *builder) severity(category, harm string) uint64 {
	base := map[string]int{
		"polling.late_opening": 2, "polling.closure": 3, "polling.materials_missing": 2,
		"polling.intimidation": 3, "polling.violence": 4, "polling.vote_buying": 3,
		"polling.observer_denied": 3, "polling.secrecy_breach": 2, "polling.tally_discrepancy": 3,
		"polling.campaigning":        1,
		"registration.voter_deleted": 3, "registration.name_missing": 2, "registration.wrong_station": 2,
		"registration.duplicate_entries":   2,
		"infrastructure.internet_shutdown": 3, "infrastructure.sms_blocked": 3,
		"infrastructure.power_outage": 2, "infrastructure.voting_machine_failure": 2,
		"infrastructure.cyber_attack": 4, "other": 1,
	}[category]
	if harm != "" {
		base = slices.Index(incident.HarmLevels, harm) + 1
		return uint64(base)
	}
	if base == 0 {
		base = 2
	}
	switch x := b.rng.Float64(); {
	case x < 0.15 && base > 1:
		base--
	case x > 0.8 && base < 4:
		base++
	}
	return uint64(base)
}

// pickObserver returns a random observer who is heard at minute m, from
// the districts allowed (all when none).
func (b *builder) pickObserver(m int, allow func(*person) bool) *person {
	for tries := 0; tries < 200; tries++ {
		o := b.w.observers[b.rng.IntN(len(b.w.observers))]
		if o.heard(m) && (allow == nil || allow(o)) {
			return o
		}
	}
	panic(buildError{fmt.Errorf("no practice observer fits at minute %d", m)})
}

// usable reports whether this build accepts reports of category. (Four
// taxonomy v1 codes are longer than incident.MaxCodeLen, which category
// codes are held to; until that is fixed the practice day leaves them out
// rather than file their texts under another category.)
func usable(category string) bool {
	p := incident.ReportPayload{Category: category, Severity: 1, Title: "probe"}
	return incident.ValidateReport(&p) == nil
}

// pool files n reports of category by observers, at times from lo to hi.
func (b *builder) pool(category string, n, lo, hi int, allow func(*person) bool) []*report {
	if !usable(category) {
		return nil
	}
	var out []*report
	for i := 0; i < n; i++ {
		t := b.between(lo, hi)
		o := b.pickObserver(minuteOf(b.day, t), allow)
		out = append(out, b.newReport(o, b.stationFor(o), category, t))
	}
	return out
}

// openingProblems: stations that opened late say why, and update their
// report once the doors open.
func (b *builder) openingProblems() {
	for _, o := range b.w.observers {
		if !o.opensLate {
			continue
		}
		o.lateBy = int(o.opened.Sub(b.clock(opening, 0)) / time.Minute)
		if o.lateBy > 50 && b.chance(0.6) {
			r := b.newReport(o, o.home, "polling.materials_missing", b.between(hm(6, 35), hm(7, 5)))
			r.noReview = b.chance(0.3)
		}
		r := b.newReport(o, o.home, "polling.late_opening", b.between(opening+8, min(opening+40, minuteOf(b.day, o.opened)-2)))
		if b.chance(0.7) {
			b.amend(r, o.opened.Add(time.Duration(3+b.rng.IntN(25))*time.Minute), func(p *incident.ReportPayload) {
				p.Description += "\n\n" + b.text.openedUpdate(o)
				if o.lateBy >= 120 {
					p.Severity = 3
				}
			})
		}
	}
	early := func(o *person) bool { return !o.opensLate }
	b.pool("polling.materials_missing", 8, hm(6, 30), hm(8, 30), early)
	b.pool("infrastructure.voting_machine_failure", 7, hm(7, 0), hm(10, 30), nil)
	b.pool("polling.observer_denied", 4, hm(6, 20), hm(7, 10), nil)
	b.pool("infrastructure.power_outage", 3, hm(6, 0), hm(9, 0), nil)
}

// daytime: queues, the register, pressure on voters.
func (b *builder) daytime() {
	b.pool("other", 18, hm(7, 30), hm(15, 30), nil)
	b.pool("registration.name_missing", 24, hm(7, 15), hm(16, 30), nil)
	b.pool("registration.wrong_station", 13, hm(7, 30), hm(15, 0), nil)
	b.pool("registration.voter_deleted", 6, hm(8, 0), hm(15, 0), nil)
	b.pool("registration.duplicate_entries", 4, hm(7, 20), hm(12, 0), nil)
	b.pool("polling.intimidation", 13, hm(8, 0), hm(16, 45), nil)
	b.pool("polling.vote_buying", 10, hm(7, 40), hm(16, 0), nil)
	b.pool("polling.secrecy_breach", 6, hm(8, 30), hm(16, 0), nil)
	b.pool("polling.violence", 2, hm(10, 0), hm(15, 0), nil)
	b.pool("polling.campaigning", 6, hm(7, 0), hm(14, 0), nil)
}

// shutdown: from midday, mobile data and SMS go in the north-east and in
// Saltreach; the national desk confirms it.
func (b *builder) shutdown() {
	inArea := func(o *person) bool { return b.inShutdown(o.district) }
	for _, cat := range []struct {
		code string
		n    int
	}{{"infrastructure.internet_shutdown", 14}, {"infrastructure.sms_blocked", 8}} {
		for i := 0; i < cat.n; i++ {
			o := b.pickObserver(hm(12, 5), inArea)
			start := b.shutdownStart[o.district]
			hi := start + 150
			if o.silentFrom != 0 {
				hi = min(hi, o.silentFrom)
			}
			b.newReport(o, b.stationFor(o), cat.code, b.between(start+2, hi))
		}
	}
	osprey := b.w.founder
	first := hm(23, 59)
	for _, s := range b.shutdownStart {
		first = min(first, s)
	}
	r := b.newReport(osprey, nil, "infrastructure.internet_shutdown", b.clock(first+47, 12))
	r.p.Area, r.region = "Ostmarin region and Saltreach district", b.w.regions[1]
	r.p.Title, r.p.Description = b.text.nationalShutdown(b.clock(first, 0))
	r.p.Severity = 4
	// Network returns in the late afternoon.
	back := b.newReport(osprey, nil, "infrastructure.internet_shutdown", b.clock(shutdownEnds+6, 40))
	back.p.Area, back.region = r.p.Area, r.region
	back.p.Title, back.p.Description = b.text.networkBack(b.clock(shutdownEnds, 0))
	back.p.Severity = 2
	back.noReview = true
	if !usable("infrastructure.cyber_attack") {
		return
	}
	b.newReport(osprey, nil, "infrastructure.cyber_attack", b.between(hm(13, 20), hm(14, 10)))
	b.newReport(b.w.coordinators[1], nil, "infrastructure.cyber_attack", b.between(hm(9, 10), hm(10, 0)))
}

// evening: closing, counting and the tally.
func (b *builder) evening() {
	b.pool("polling.closure", 4, hm(17, 55), hm(19, 0), nil)
	b.pool("polling.tally_discrepancy", 15, hm(19, 20), hm(23, 40), nil)
	b.pool("polling.observer_denied", 8, hm(18, 20), hm(22, 30), nil)
	b.pool("infrastructure.power_outage", 3, hm(18, 45), hm(21, 30), nil)
}

// disinformation: sightings all day, at stations and on the coordinators'
// monitoring screens.
func (b *builder) disinformation() {
	codes := []string{"disinformation.fabricated_content", "disinformation.manipulated_media",
		"disinformation.impersonation", "disinformation.false_voting_info",
		"disinformation.voter_suppression", "disinformation.hate_speech",
		"disinformation.rigging_allegation", "disinformation.coordinated_inauthentic"}
	codes = slices.DeleteFunc(codes, func(c string) bool { return !usable(c) })
	for i := 0; i < 30; i++ {
		t := b.between(hm(6, 0), hm(21, 30))
		o := b.pickObserver(minuteOf(b.day, t), nil)
		var st *station
		if b.chance(0.8) {
			st = b.stationFor(o)
		}
		b.newReport(o, st, codes[b.rng.IntN(len(codes))], t)
	}
	// The monitoring desks watch social media and broadcast all day.
	for i := 0; i < 16; i++ {
		c := b.w.coordinators[i%len(b.w.coordinators)]
		r := b.newReport(c, nil, codes[(i*3)%len(codes)], b.between(hm(6, 30), hm(22, 30)))
		reg := c.desk[b.rng.IntN(len(c.desk))]
		r.region = reg
		if i%3 == 0 {
			r.p.Area = "National"
		} else {
			r.p.Area = reg.name + " region"
		}
	}
}

// sos: an observer in the south is threatened in the afternoon, sends an
// alert, then the report, and later checks in safe.
func (b *builder) sos() {
	var o *person
	for _, x := range b.w.observers {
		if x.district.region == b.w.regions[2] && !b.inShutdown(x.district) && x.heard(hm(20, 0)) {
			o = x
			break
		}
	}
	at := b.clock(hm(15, 41), 17)
	st := o.home
	b.sosAlert = b.sign(o, incident.KindAlert, at, incident.AlertPayload{
		Note:    b.text.alertNote(),
		Station: st.code, Lat: incident.Micro(st.lat + 0.0002), Lon: incident.Micro(st.lon - 0.0003),
	})
	r := b.newReport(o, st, "polling.violence", at.Add(-3*time.Minute))
	r.created = at.Add(11*time.Minute + 4*time.Second)
	r.p.Title, r.p.Description = b.text.sosReport(st)
	r.p.Severity = 4
	r.noReview = true
	b.later = append(b.later, func() {
		v1 := b.review(r, b.deskOf(st), r.created.Add(6*time.Minute), "escalated",
			"Called the observer at 15:58: safe, inside with the presiding officer. Security liaison informed; police unit on its way from "+st.district.name+" town.", nil)
		b.review(r, b.w.founder, r.created.Add(49*time.Minute), "verified",
			"Police confirm they dispersed the group at 16:35. Phone not recovered. Observer stays until the count with a second team member.", []*incident.Signed{v1})
	})
	b.sign(o, incident.KindCheckin, b.clock(hm(17, 4), 51), incident.CheckinPayload{Status: "all_quiet", Station: st.code})
}

func (b *builder) deskOf(st *station) *person { return b.w.deskOf(st.district.region) }

// amend plans an amendment by the report's author: the whole report again
// with edit applied.
func (b *builder) amend(r *report, at time.Time, edit func(*incident.ReportPayload)) {
	r.amendments = append(r.amendments, amendment{at: at, edit: edit})
	r.amended = true
}

type amendment struct {
	at   time.Time
	edit func(*incident.ReportPayload)
}

// fates signs the reports in the order they were written, then what
// happens to them: amendments and retractions.
func (b *builder) fates() {
	sort.SliceStable(b.reports, func(i, j int) bool { return b.reports[i].created.Before(b.reports[j].created) })
	// A few reports corrected after the fact (beyond the opening updates).
	var plain []*report
	for _, r := range b.reports {
		if !r.amended && !r.noReview && r.author.role == incident.RoleObserver && r.p.Station != "" {
			plain = append(plain, r)
		}
	}
	b.rng.Shuffle(len(plain), func(i, j int) { plain[i], plain[j] = plain[j], plain[i] })
	for i, r := range plain[:10] {
		at := r.created.Add(time.Duration(15+b.rng.IntN(80)) * time.Minute)
		switch i % 4 {
		case 0: // typed the wrong station code
			right := r.p.Station
			r.p.Station = typo(right)
			b.amend(r, at, func(p *incident.ReportPayload) {
				p.Station = right
				p.Description += "\n\nCorrection: the station is " + right + "; I typed the code wrong."
			})
		case 1: // worse than first thought
			b.amend(r, at, func(p *incident.ReportPayload) {
				if p.Severity < 4 {
					p.Severity++
				}
				p.Description += "\n\n" + b.text.worseUpdate(at)
			})
		case 2: // the phone had no fix at first
			st := b.stationByCode(r.p.Station)
			b.amend(r, at, func(p *incident.ReportPayload) {
				if st != nil {
					p.Lat, p.Lon, p.Precision = incident.Micro(st.lat+0.0004), incident.Micro(st.lon-0.0002), 12
				}
				p.Description += "\n\nAdded the location from the phone's GPS."
			})
		default: // a clearer title
			b.amend(r, at, func(p *incident.ReportPayload) {
				p.Title = b.text.clearerTitle(p)
				p.Description += "\n\n" + b.text.detailUpdate(at)
			})
		}
	}
	for _, r := range b.reports {
		r.rec = b.sign(r.author, incident.KindReport, r.created, r.p)
		p := r.p
		for _, a := range r.amendments {
			a.edit(&p)
			b.sign(r.author, incident.KindAmend, a.at, incident.AmendPayload{Target: r.rec.ID.Bytes(), Report: p})
		}
	}
	b.retractions(plain[10:])
}

// retractions: a report sent twice during the shutdown, one filed under
// the wrong station and sent again, one misunderstanding, and a sighting
// the national desk withdraws.
func (b *builder) retractions(candidates []*report) {
	var dup, wrong, mis *report
	for _, r := range candidates {
		switch {
		case dup == nil && b.inShutdown(b.districtOf(r)) && r.created.After(b.clock(hm(12, 30), 0)) && r.created.Before(b.clock(shutdownEnds, 0)):
			dup = r
		case wrong == nil && r.p.Category == "registration.name_missing":
			wrong = r
		case mis == nil && r.p.Category == "other":
			mis = r
		}
	}
	retract := func(r *report, at time.Time, reason string) {
		b.sign(r.author, incident.KindRetract, at, incident.RetractPayload{Target: r.rec.ID.Bytes(), Reason: reason})
		r.retracted = true
	}
	if dup != nil {
		// The same report again: sent twice while the network was down.
		again := &report{author: dup.author, region: dup.region, p: dup.p, created: dup.created.Add(3*time.Minute + 517*time.Millisecond), noReview: true}
		again.rec = b.sign(again.author, incident.KindReport, again.created, again.p)
		b.reports = append(b.reports, again)
		retract(again, b.clock(shutdownEnds+35, 8), "Duplicate: the app was offline and I pressed save twice. Keep the earlier report.")
	}
	if wrong != nil {
		st := b.stationByCode(wrong.p.Station)
		other := st.district.stations[(slices.Index(st.district.stations, st)+1)%len(st.district.stations)]
		retract(wrong, wrong.created.Add(22*time.Minute), "Filed under the wrong station by mistake; sent again under "+other.code+".")
		again := &report{author: wrong.author, region: wrong.region, p: wrong.p, created: wrong.created.Add(24*time.Minute + 3*time.Second)}
		again.p.Station = other.code
		again.p.Lat, again.p.Lon, again.p.Precision = nil, nil, 0
		again.rec = b.sign(again.author, incident.KindReport, again.created, again.p)
		b.reports = append(b.reports, again)
		wrong.noReview = true
	}
	if mis != nil {
		retract(mis, mis.created.Add(41*time.Minute), "I misunderstood: the people waiting were in line for the clinic next door, not to vote.")
		mis.noReview = true
	}
	for _, r := range b.reports {
		if r.author == b.w.founder && r.p.Category == "disinformation.impersonation" && !r.retracted {
			retract(r, r.created.Add(54*time.Minute), "Withdrawn: the account is the electoral commission's genuine regional account, recently renamed. Not impersonation.")
			r.noReview = true
			break
		}
	}
}

func (b *builder) stationByCode(code string) *station {
	for _, s := range b.w.stations {
		if s.code == code {
			return s
		}
	}
	return nil
}

// typo swaps the last two digits of a station code (PS-0154 → PS-0145),
// or changes the last one when they are equal.
func typo(code string) string {
	c := []byte(code)
	n := len(c)
	if c[n-1] != c[n-2] {
		c[n-1], c[n-2] = c[n-2], c[n-1]
	} else {
		c[n-1] = '0' + (c[n-1]-'0'+1)%10
	}
	return string(c)
}

// review signs a coordinator's review of r; prev lists the reviews the
// coordinator saw.
func (b *builder) review(r *report, c *person, at time.Time, status, note string, prev []*incident.Signed) *incident.Signed {
	p := incident.ReviewPayload{Target: r.rec.ID.Bytes(), Status: status, Note: note}
	for _, x := range prev {
		p.Prev = append(p.Prev, x.ID.Bytes())
	}
	r.reviewed = true
	return b.sign(c, incident.KindReview, at, p)
}

// reviews: the coordinators work through about two reports in five, the
// serious ones first. Some verdicts are revised, and twice two
// coordinators reviewed the same report at once and disagree.
func (b *builder) reviews() {
	for _, f := range b.later {
		f()
	}
	var pool []*report
	for _, r := range b.reports {
		if r.noReview || r.retracted || r.reviewed {
			continue
		}
		pool = append(pool, r)
	}
	// Two conflicts: a tally dispute and a sighting from a station, each
	// reviewed by both desk coordinators at once.
	for _, match := range []func(*report) bool{
		func(r *report) bool { return r.p.Category == "polling.tally_discrepancy" },
		func(r *report) bool {
			return incident.FamilyOf(r.p.Category) == "disinformation" && r.author.role == incident.RoleObserver
		},
	} {
		i := slices.IndexFunc(pool, match)
		if i < 0 {
			panic(buildError{fmt.Errorf("practice day has no report for a review conflict")})
		}
		r := pool[i]
		pool = slices.Delete(pool, i, i+1)
		at := r.created.Add(time.Duration(20+b.rng.IntN(30)) * time.Minute)
		n1, n2 := b.text.conflictNotes(r.p.Category)
		b.review(r, b.w.coordinators[1], at, "verified", n1, nil)
		b.review(r, b.w.coordinators[2], at.Add(4*time.Minute+13*time.Second), "rejected", n2, nil)
		r.conflict = true
	}
	want := int(math.Round(0.4*float64(len(b.reports)))) - b.countReviewed()
	odds := map[uint64]float64{1: 0.15, 2: 0.3, 3: 0.55, 4: 0.9}
	var picked []*report
	for _, r := range pool {
		if len(picked) < want && b.chance(odds[r.p.Severity]) {
			picked = append(picked, r)
		}
	}
	for _, r := range pool {
		if len(picked) >= want {
			break
		}
		if !slices.Contains(picked, r) {
			picked = append(picked, r)
		}
	}
	for _, r := range picked {
		c := b.reviewerFor(r)
		at := r.created.Add(time.Duration(6+b.rng.IntN(85)) * time.Minute)
		if d := b.districtOf(r); d != nil && b.inShutdown(d) && r.created.After(b.clock(hm(12, 0), 0)) && r.created.Before(b.clock(shutdownEnds, 0)) {
			// Carried out of the shutdown area by hand: reviewed late.
			at = b.clock(shutdownEnds+20+b.rng.IntN(90), b.rng.IntN(60))
		}
		status := b.verdict(r)
		first := b.review(r, c, at, status, b.text.reviewNote(r, status), nil)
		if status != "escalated" && status != "rejected" && r.p.Severity >= 3 && b.chance(0.25) {
			// The national desk takes it further.
			b.review(r, b.w.founder, at.Add(time.Duration(10+b.rng.IntN(60))*time.Minute), "escalated",
				b.text.reviewNote(r, "escalated"), []*incident.Signed{first})
		}
	}
}

func (b *builder) countReviewed() int {
	n := 0
	for _, r := range b.reports {
		n += btoi(r.reviewed)
	}
	return n
}

func (b *builder) districtOf(r *report) *district {
	if st := b.stationByCode(r.p.Station); st != nil {
		return st.district
	}
	return r.author.district
}

// reviewerFor: the desk of the report's region, the national desk for
// disinformation and national reports.
func (b *builder) reviewerFor(r *report) *person {
	if incident.FamilyOf(r.p.Category) == "disinformation" || r.region == nil || b.chance(0.12) {
		if b.chance(0.6) {
			return b.w.founder
		}
	}
	if r.region == nil {
		return b.w.founder
	}
	return b.w.deskOf(r.region)
}

func (b *builder) verdict(r *report) string {
	x := b.rng.Float64()
	switch {
	case r.p.Severity == 4 && x < 0.55:
		return "escalated"
	case x < 0.08:
		return "rejected"
	case x < 0.2:
		return "escalated"
	case x < 0.6:
		return "verified"
	}
	return "corroborated"
}

// round6 rounds to whole microdegrees, as the wire carries them.
func round6(x float64) float64 { return math.Round(x*1e6) / 1e6 }
