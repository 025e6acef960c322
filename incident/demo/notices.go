package demo

import (
	"fmt"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

// notices: what the coordinators tell the field during the day (one
// notice to everyone in force, one to a station, one to an area that has
// expired, one for the close), and their answers to the day's alerts: the
// afternoon's alert is acknowledged and then resolved, an evening one is
// acknowledged, and one sent shortly before midnight is not answered yet.
// It draws nothing from the random source, so the rest of the day stays
// what it was.
func (b *builder) notices() {
	founder := b.w.founder
	notice := func(p *person, at time.Time, n incident.NoticePayload) *incident.Signed {
		return b.sign(p, incident.KindNotice, at, n)
	}
	// Morning: a road closed in the capital's district, for three hours.
	var capital *station
	for _, st := range b.w.stations {
		if st.district.urban {
			capital = st
			break
		}
	}
	morning := b.clock(hm(6, 10), 42)
	notice(founder, morning, incident.NoticePayload{Severity: 2, Area: capital.area(),
		Text:    fmt.Sprintf("Road works close the main road through %s until about 09:00: allow twenty minutes more to reach your station, and check in as usual when you arrive.", capital.place),
		Expires: morning.Add(3 * time.Hour).UnixMilli()})

	// Midday: the shutdown.
	notice(founder, b.clock(hm(12, 48), 5), incident.NoticePayload{Severity: 3,
		Text: "Mobile data is down in Ostmarin and Saltreach. Keep reporting: Vigil keeps every report on your phone and sends it over any link that returns. Carriers are on their way to the stations there."})

	// The afternoon's alert: acknowledged by the region's desk, a notice
	// to the station, then resolved once the police had been.
	sos := b.sosAlert
	ap, _ := sos.DecodePayload()
	code := ap.(*incident.AlertPayload).Station
	st := b.stationByCode(code)
	desk := b.deskOf(st)
	at := sos.CreatedTime()
	notice(desk, at.Add(5*time.Minute+12*time.Second), incident.NoticePayload{Severity: 4, Ack: sos.ID.Bytes(),
		Text: "Seen. Calling you now; the security liaison is informed. Stay inside with the presiding officer."})
	notice(desk, at.Add(9*time.Minute+40*time.Second), incident.NoticePayload{Severity: 4, Station: code,
		Text: fmt.Sprintf("%s: a group with sticks at the gate. Observers nearby, keep away from %s until a coordinator says otherwise.", code, st.name)})
	notice(founder, at.Add(61*time.Minute+3*time.Second), incident.NoticePayload{Severity: 2, Ack: sos.ID.Bytes(), Resolve: true,
		Text: "Police dispersed the group at 16:35. The observer is safe and stays for the count with a second team member."})

	// The close.
	notice(founder, b.clock(hm(17, 52), 30), incident.NoticePayload{Severity: 1,
		Text: "Stations close at 18:00. Stay for the count, photograph the posted results sheet and attach it to a report."})

	// Two alerts in the evening, from observers heard all day.
	evening := b.observerFor(b.w.regions[0], hm(23, 59), nil)
	late := b.observerFor(b.w.regions[3], hm(23, 59), evening)
	if evening == nil || late == nil {
		panic(buildError{fmt.Errorf("no observer for the evening's alerts")})
	}
	a := b.sign(evening, incident.KindAlert, b.clock(hm(20, 47), 33), incident.AlertPayload{Station: evening.home.code,
		Note: "A crowd is pushing at the door during the count and party agents are shouting. I do not feel safe leaving."})
	notice(b.deskOf(evening.home), a.CreatedTime().Add(6*time.Minute+20*time.Second), incident.NoticePayload{Severity: 3, Ack: a.ID.Bytes(),
		Text: "Seen. The security liaison is calling the district commander. Stay inside with the party agents until we call you back."})
	b.sign(late, incident.KindAlert, b.clock(hm(22, 58), 9), incident.AlertPayload{Station: late.home.code,
		Lat: incident.Micro(late.home.lat + 0.004), Lon: incident.Micro(late.home.lon + 0.003),
		Note: "A car followed me from the tally centre and is parked outside my house."})
}

// observerFor is the first observer deployed in r and heard until minute
// m, other than not.
func (b *builder) observerFor(r *region, m int, not *person) *person {
	for _, o := range b.w.observers {
		if o != not && o.district.region == r && !b.inShutdown(o.district) && o.heard(m) {
			return o
		}
	}
	return nil
}
