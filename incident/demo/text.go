package demo

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

// The words of the practice day: what observers and coordinators write,
// in the plain, hurried English of a phone at a polling station. Parties,
// candidates, companies and media are as fictional as the country.

type party struct{ name, short, colour string }

var parties = []party{
	{"Marenta Unity Party", "MUP", "green"},
	{"Democratic Renewal Alliance", "DRA", "orange"},
	{"People's Labour Front", "PLF", "red"},
	{"Coastal Greens", "CG", "blue"},
}

var candidates = []string{"Adrian Kessel (MUP)", "Nadia Oruel (DRA)", "Tomas Brenn (PLF)"}

var communities = []string{"Vell hill communities", "Saltreach fishing families", "Brask mill workers",
	"returnees from the mines", "Kessa market traders"}

// writer picks texts for scenes, cycling through each category's
// templates so neighbouring reports rarely repeat one another.
type writer struct {
	b    *builder
	rng  *rand.Rand
	next map[string]int
}

func newWriter(b *builder) *writer {
	return &writer{b: b, rng: b.rng, next: map[string]int{}}
}

// scene is where and when a text is written, and by whom.
type scene struct {
	w        *writer
	who      *person
	st       *station
	d        *district
	t        time.Time
	desk     bool // a coordinator at the monitoring desk
	sighting sighting
}

// sighting is what a disinformation report adds.
type sighting struct {
	channel, harm, source string
	reach                 uint64
}

func (w *writer) scene(o *person, st *station, t time.Time) *scene {
	s := &scene{w: w, who: o, st: st, t: t, desk: o.role == incident.RoleCoordinator}
	if st != nil {
		s.d = st.district
	} else if o.district != nil {
		s.d = o.district
	} else {
		s.d = w.b.w.districts[w.rng.IntN(len(w.b.w.districts))]
	}
	return s
}

func (s *scene) n(lo, hi int) int { return lo + s.w.rng.IntN(hi-lo+1) }

func (s *scene) pick(xs ...string) string { return xs[s.w.rng.IntN(len(xs))] }

func (s *scene) hm() string { return s.t.Format("15:04") }

// ago is the time some minutes before the scene.
func (s *scene) ago(lo, hi int) string {
	return s.t.Add(-time.Duration(s.n(lo, hi)) * time.Minute).Format("15:04")
}

func (s *scene) party() party { return parties[s.w.rng.IntN(len(parties))] }

// parties2 returns two different parties.
func (s *scene) parties2() (party, party) {
	i := s.w.rng.IntN(len(parties))
	j := (i + 1 + s.w.rng.IntN(len(parties)-1)) % len(parties)
	return parties[i], parties[j]
}

func (s *scene) cand() string { return candidates[s.w.rng.IntN(len(candidates))] }

func (s *scene) place() string { return s.d.places[s.w.rng.IntN(len(s.d.places))] }

// code is the scene's station code ("" away from stations).
func (s *scene) code() string {
	if s.st == nil {
		return ""
	}
	return s.st.code
}

// at names the station for a title: "at PS-0042" or "in Kessa".
func (s *scene) at() string {
	if s.st == nil {
		return "in " + s.d.name
	}
	return "at " + s.st.code
}

// stName is the station's name, or the district's.
func (s *scene) stName() string {
	if s.st == nil {
		return s.d.name
	}
	return s.st.name
}

// other returns another station of the district.
func (s *scene) other() *station {
	for {
		o := s.d.stations[s.w.rng.IntN(len(s.d.stations))]
		if o != s.st {
			return o
		}
	}
}

// since is when data went down where the scene is (shutdown texts only).
func (s *scene) since() string {
	m, ok := s.w.b.shutdownStart[s.d]
	if !ok {
		return s.ago(5, 30)
	}
	return s.w.b.clock(m, 0).Add(time.Duration(s.n(0, 4)) * time.Minute).Format("15:04")
}

func (s *scene) marks(lo, hi int) string { return fmt.Sprintf("%d marks", s.n(lo, hi)*100) }

type template func(s *scene) (title, desc string)

// write returns a title and description for a report of category.
func (w *writer) write(category string, s *scene) (string, string) {
	if incident.FamilyOf(category) == "disinformation" {
		return w.disinfo(category, s)
	}
	list := templates[category]
	if len(list) == 0 {
		panic(buildError{fmt.Errorf("no practice texts for category %s", category)})
	}
	i, ok := w.next[category]
	if !ok {
		i = w.rng.IntN(len(list))
	}
	w.next[category] = i + 1
	return list[i%len(list)](s)
}

var templates = map[string][]template{
	"polling.late_opening": {
		func(s *scene) (string, string) {
			n := s.n(20, 140)
			return fmt.Sprintf("%s not open at %s, about %d voters waiting", s.code(), s.hm(), n),
				fmt.Sprintf("Arrived at %s. Staff are inside but the doors were still closed at %s. The presiding officer says they are waiting for %s from the %s returning office. Roughly %d voters in the queue; a few have gone home.",
					s.who.arrived.Format("15:04"), s.hm(), s.pick("the ballot papers", "the sensitive materials kit", "the voter register", "the ballot box seals"), s.d.name, n)
		},
		func(s *scene) (string, string) {
			k := s.n(2, 4)
			return fmt.Sprintf("Opening delayed at %s: polling staff arrived late", s.stName()),
				fmt.Sprintf("Only %d of the 7 polling staff had arrived by 07:00. The presiding officer will not open until the full team is present. Voters waiting outside, calm so far.", k)
		},
		func(s *scene) (string, string) {
			return fmt.Sprintf("%s still setting up booths at %s", s.code(), s.hm()),
				"Booths and ballot boxes were still being assembled after seven. Boxes were shown empty to the agents before sealing; no irregularity seen, just a slow start. Queue growing."
		},
		func(s *scene) (string, string) {
			p1, p2 := s.parties2()
			return fmt.Sprintf("Late opening %s: presiding officer absent", s.at()),
				fmt.Sprintf("The presiding officer had not arrived at %s. Her deputy says she is coming from %s by motorbike. Agents of %s and %s present and waiting with us.", s.hm(), s.place(), p1.short, p2.short)
		},
		func(s *scene) (string, string) {
			return fmt.Sprintf("Station closed at opening time, key to the building missing (%s)", s.code()),
				fmt.Sprintf("The school is locked and the caretaker with the key cannot be found. Staff and materials are in the yard. Someone has gone to %s to fetch him.", s.place())
		},
	},
	"polling.materials_missing": {
		func(s *scene) (string, string) {
			return fmt.Sprintf("No indelible ink %s", s.at()),
				fmt.Sprintf("The ink bottles in the sensitive materials kit are missing. The presiding officer phoned the %s returning officer at %s. The %s agent objects to voting without ink, so voting has not started.", s.d.name, s.ago(2, 15), s.party().short)
		},
		func(s *scene) (string, string) {
			m := s.n(12, 28) * 50
			n := m - s.n(1, 4)*50
			return fmt.Sprintf("Ballot papers short: %d delivered for %d registered voters", n, m),
				fmt.Sprintf("The presidential ballot pad count is %d, the register lists %d voters. The presiding officer counted twice in front of agents and wrote it in the minutes. District office promises more by midday.", n, m)
		},
		func(s *scene) (string, string) {
			stream := s.pick("B", "C", "2", "3")
			return fmt.Sprintf("Voter register for stream %s missing %s", stream, s.at()),
				fmt.Sprintf("The station has three streams; the printed register for stream %s was not in the kit. Voters assigned to stream %s are asked to wait. The other streams are voting.", stream, stream)
		},
		func(s *scene) (string, string) {
			k := s.n(2, 4)
			return "Ballot box seals missing from the kit",
				fmt.Sprintf("Only %d numbered seals in the kit instead of 8. The presiding officer used spare seals from the tendered-ballot envelope and recorded the numbers in the log; agents copied them.", k)
		},
		func(s *scene) (string, string) {
			o := s.w.b.w.districts[s.w.rng.IntN(len(s.w.b.w.districts))]
			return fmt.Sprintf("Wrong parliamentary ballots delivered to %s", s.code()),
				fmt.Sprintf("The parliamentary ballot papers are for %s constituency, not ours. Parliamentary voting stopped; the presidential ballot continues.", o.name)
		},
		func(s *scene) (string, string) {
			return "Official stamp for ballot papers missing",
				"The validation stamp is not in the kit. The presiding officer is signing the back of each ballot instead and noted it in the minutes. Agents accepted this for now."
		},
	},
	"polling.observer_denied": {
		func(s *scene) (string, string) {
			if s.t.Hour() < 12 {
				return fmt.Sprintf("Observers kept outside during setup %s", s.at()),
					fmt.Sprintf("The presiding officer did not let me or the %s agent in to watch the setup and the sealing of the boxes, saying accreditations must first be confirmed by the district office. I showed my accreditation card.", s.party().short)
			}
			return fmt.Sprintf("Observers asked to leave during the count %s", s.at()),
				fmt.Sprintf("At %s a police officer asked all observers to leave the room while ballots were sorted. Party agents also removed. We are watching through the window.", s.hm())
		},
		func(s *scene) (string, string) {
			p := s.party()
			return fmt.Sprintf("%s agents refused entry %s", p.short, s.at()),
				fmt.Sprintf("Agents of the %s were refused entry at %s. The presiding officer says only one agent per party is allowed and theirs 'arrived late'. The agent says he was here before opening.", p.name, s.stName())
		},
		func(s *scene) (string, string) {
			if s.t.Hour() < 12 {
				return fmt.Sprintf("Accreditation of observers questioned %s", s.at()),
					"Presiding officer says he was told not to admit 'civil society people' and is checking by phone. I am waiting at the door with two other observers."
			}
			return "Not allowed to photograph the results form",
				fmt.Sprintf("After the count at %s the presiding officer refused to let observers photograph the signed results form and said it would be posted 'tomorrow'. The law requires it to be posted at the station tonight.", s.stName())
		},
	},
	"polling.intimidation": {
		func(s *scene) (string, string) {
			p := s.party()
			n := s.n(6, 25)
			return fmt.Sprintf("Group in %s shirts near the queue %s", p.short, s.at()),
				fmt.Sprintf("About %d young men in %s %s T-shirts standing about 30 m from the entrance, telling voters in the queue who to vote for. Some older voters left the queue. Police present but not intervening.", n, p.colour, p.short)
		},
		func(s *scene) (string, string) {
			return "Local chief noting names of voters at the entrance",
				fmt.Sprintf("The chief of %s is sitting at the station entrance writing down the names of voters as they go in. Several voters told me they were warned that the village 'will know' how they voted.", s.place())
		},
		func(s *scene) (string, string) {
			return fmt.Sprintf("Armed men in plain clothes in the compound %s", s.at()),
				fmt.Sprintf("Two men with visible pistols, not in uniform, walking around the compound since %s. They say they are 'security'. Voters look nervous; the queue has slowed.", s.ago(10, 40))
		},
		func(s *scene) (string, string) {
			return "Police questioning voters in the queue",
				fmt.Sprintf("Police officers are asking voters in the queue for ID and where they live, although ID is checked inside by polling staff. I saw at least %d voters from %s turn back.", s.n(4, 15), s.place())
		},
		func(s *scene) (string, string) {
			return "Observer threatened by party supporters",
				fmt.Sprintf("A man who said he is a %s coordinator told me to 'stop writing' and asked my name and where I live. I moved inside the station and told the presiding officer. I am continuing.", s.party().short)
		},
		func(s *scene) (string, string) {
			p := s.party()
			return fmt.Sprintf("Motorcycle convoy with %s flags circling the station", p.short),
				fmt.Sprintf("About %d motorcycles with %s flags circled the station several times, hooting, for around 15 minutes. No violence, but the queue thinned.", s.n(10, 40), p.short)
		},
	},
	"polling.violence": {
		func(s *scene) (string, string) {
			p1, p2 := s.parties2()
			return fmt.Sprintf("Fight in the queue %s, one injured", s.at()),
				fmt.Sprintf("Scuffle between %s and %s supporters at %s; one man with a head wound taken to the health centre. Police restored order after about 10 minutes. Voting paused, resumed at %s.",
					p1.short, p2.short, s.hm(), s.t.Add(25*time.Minute).Format("15:04"))
		},
		func(s *scene) (string, string) {
			return fmt.Sprintf("Stones thrown at %s", s.stName()),
				fmt.Sprintf("Stones thrown at the building from the road at about %s; one window broken. Voters ran inside. Police arrived %d minutes later. Nobody seriously hurt as far as I can see.", s.hm(), s.n(10, 35))
		},
	},
	"polling.vote_buying": {
		func(s *scene) (string, string) {
			return fmt.Sprintf("Cash handed out near %s", s.code()),
				fmt.Sprintf("A woman at a kiosk about 50 m from the station gives %s to voters who show her a %s membership card. I saw at least %d people receive money between %s and %s.",
					s.marks(2, 10), s.party().short, s.n(5, 20), s.ago(40, 70), s.hm())
		},
		func(s *scene) (string, string) {
			p := s.party()
			return fmt.Sprintf("Food parcels given to voters in the queue (%s pickup)", p.short),
				fmt.Sprintf("A pickup truck with %s stickers is parked near the entrance; people are handing out bags of rice and cooking oil to voters in the queue.", p.name)
		},
		func(s *scene) (string, string) {
			return "Voters told to photograph their ballots for payment",
				fmt.Sprintf("Voters in the queue say they were promised %s each if they show a photo of their marked ballot to a man at the %s market. Phones are not being collected at the booth.", s.marks(5, 20), s.place())
		},
		func(s *scene) (string, string) {
			return fmt.Sprintf("Free transport 'from %s' with vouchers", s.party().short),
				fmt.Sprintf("Minibuses bring voters from %s. Drivers tell passengers the ride is paid by the party and that they must vote for %s. Each passenger got a voucher for the market.", s.place(), s.cand())
		},
	},
	"polling.secrecy_breach": {
		func(s *scene) (string, string) {
			return fmt.Sprintf("Voting booths face an open window %s", s.at()),
				fmt.Sprintf("The booths are set up facing an open window; people outside can see how voters mark the ballot. Raised it with the presiding officer at %s; he says there is no other space.", s.hm())
		},
		func(s *scene) (string, string) {
			return "Same man 'assisting' many voters in the booth",
				fmt.Sprintf("One man has gone into the booth with elderly voters %d times so far. He is not a relative of any of them. The presiding officer allows it.", s.n(5, 14))
		},
		func(s *scene) (string, string) {
			return "Marked ballots visible as they go into the box",
				"Staff are not showing voters how to fold the ballot; the marks are visible through the transparent box when the ballot is dropped in."
		},
	},
	"polling.closure": {
		func(s *scene) (string, string) {
			return fmt.Sprintf("Voters in the queue at 18:00 turned away %s", s.at()),
				fmt.Sprintf("The presiding officer closed the gate at 18:00 and turned away about %d people who were already in the queue. Everyone in line at closing time has the right to vote.", s.n(15, 80))
		},
		func(s *scene) (string, string) {
			return fmt.Sprintf("Voting suspended at %s for lack of light", s.code()),
				fmt.Sprintf("Voting stopped from %s to %s: the room became too dark to mark ballots. Staff are now using phone torches and a lamp from the clinic.", s.ago(30, 50), s.hm())
		},
		func(s *scene) (string, string) {
			return "Presidential ballots ran out before closing time",
				fmt.Sprintf("Presidential ballot papers ran out at 17:%d. The presiding officer closed the station; about %d voters still in the queue left without voting.", s.n(15, 50), s.n(20, 90))
		},
	},
	"polling.tally_discrepancy": {
		func(s *scene) (string, string) {
			cast := s.n(250, 700)
			total := cast + s.n(12, 60)
			return fmt.Sprintf("Presidential tally exceeds voters marked in the register %s", s.at()),
				fmt.Sprintf("The results form gives %d votes for the presidential candidates, but only %d voters are marked in the register as having voted: %d more votes than voters. The presiding officer calls it a counting error and will not recount.", total, cast, total-cast)
		},
		func(s *scene) (string, string) {
			x := s.n(300, 650)
			return "Ballots in the box do not match the register",
				fmt.Sprintf("The box held %d ballots; the register has %d ticks. Both numbers went into the minutes. The %s agent refused to sign the results form.", x, x-s.n(8, 30), s.party().short)
		},
		func(s *scene) (string, string) {
			a := s.n(120, 300)
			return fmt.Sprintf("Posted result differs from the form we photographed (%s)", s.code()),
				fmt.Sprintf("The result posted on the door at %s gives %s %d votes; the form we photographed during the count said %d. We have the photo; the carrier takes it to the district centre tonight.", s.hm(), s.cand(), a+s.n(30, 90), a)
		},
		func(s *scene) (string, string) {
			return "Results form not posted after the count",
				fmt.Sprintf("Count finished at %s. The presiding officer sealed the results form in the envelope without posting a copy at the station, although agents asked for it.", s.ago(5, 30))
		},
		func(s *scene) (string, string) {
			n := s.n(25, 90)
			return fmt.Sprintf("%d ballots declared invalid, agents dispute it", n),
				fmt.Sprintf("%d ballots were declared invalid, most of them clearly marked for %s. The %s agent asked for a recount of the invalid pile; the presiding officer refused.", n, s.cand(), s.party().short)
		},
	},
	"polling.campaigning": {
		func(s *scene) (string, string) {
			return fmt.Sprintf("Campaign posters inside the station compound %s", s.at()),
				fmt.Sprintf("Posters of %s are still on the compound wall, about 20 m from the door. Presiding officer says removing them is 'not his job'.", s.cand())
		},
		func(s *scene) (string, string) {
			return "Candidate's vehicle with loudspeaker at the gate",
				fmt.Sprintf("A car with a loudspeaker playing %s campaign songs parked at the gate for about %d minutes. Left after the police spoke to the driver.", s.party().short, s.n(10, 30))
		},
		func(s *scene) (string, string) {
			p := s.party()
			return "Polling staff wearing party colours",
				fmt.Sprintf("Two polling clerks are wearing %s caps in %s colours. The %s agent complained; one clerk took it off.", p.short, p.colour, s.party().short)
		},
	},
	"registration.name_missing": {
		func(s *scene) (string, string) {
			return fmt.Sprintf("Voters with registration slips not on the list %s", s.at()),
				fmt.Sprintf("Since opening, %d voters with valid registration slips have been turned away because their names are not in the register. Most say they registered at the %s mobile kit in March.", s.n(8, 40), s.place())
		},
		func(s *scene) (string, string) {
			return "Whole family missing from the register",
				fmt.Sprintf("A family of %d adults who have voted here for years are not on the list; their neighbours are. They were told to try the district office in %s.", s.n(3, 7), s.d.name)
		},
		func(s *scene) (string, string) {
			l := string(rune('A' + s.w.rng.IntN(20)))
			return fmt.Sprintf("Register page missing? Surnames %s–%s turned away", l, string(rune(l[0]+2))),
				fmt.Sprintf("Every voter whose surname starts with %s to %s is turned away; a page of the register seems to be missing. The presiding officer phoned the district office at %s.", l, string(rune(l[0]+2)), s.hm())
		},
		func(s *scene) (string, string) {
			return "Voter with NEC confirmation SMS not in the register",
				"A voter showed an SMS from the National Electoral Commission confirming her registration at this station. Her name is not in the printed register. The presiding officer refused her a tendered ballot."
		},
		func(s *scene) (string, string) {
			return fmt.Sprintf("Names missing from the register: %d voters turned away so far", s.n(10, 30)),
				"Names missing from the register. Voters are angry; the presiding officer is writing their voter numbers on a separate sheet for the district office."
		},
	},
	"registration.wrong_station": {
		func(s *scene) (string, string) {
			o := s.other()
			km := s.n(6, 35)
			return fmt.Sprintf("Voters sent to %s, %d km away", o.code, km),
				fmt.Sprintf("About %d voters were told they are registered at %s (%s), %d km away, although they registered here. Many say they cannot afford the trip.", s.n(10, 40), o.code, o.name, km)
		},
		func(s *scene) (string, string) {
			return "Register puts voters in the wrong stream",
				"Voters from stream A are listed in stream C, so they queued for an hour in the wrong line. The presiding officer is now redirecting them."
		},
		func(s *scene) (string, string) {
			o := s.w.b.w.districts[s.w.rng.IntN(len(s.w.b.w.districts))]
			return fmt.Sprintf("Voters moved to %s district without asking", o.name),
				fmt.Sprintf("Several voters from %s found they were moved to %s district. None of them asked for a transfer.", s.place(), o.name)
		},
	},
	"registration.voter_deleted": {
		func(s *scene) (string, string) {
			return "Voters who checked their registration now deleted",
				fmt.Sprintf("%d voters who checked their registration at the verification desk last month are no longer in the register. All of them live in %s.", s.n(5, 25), s.place())
		},
		func(s *scene) (string, string) {
			return "Voter listed as deceased came to vote",
				"A woman was told she is marked as deceased in the register. She is here in person with her voter card and national ID. Turned away."
		},
	},
	"registration.duplicate_entries": {
		func(s *scene) (string, string) {
			return fmt.Sprintf("Same names listed twice in the register %s", s.at()),
				fmt.Sprintf("The register contains at least %d names listed twice with different voter numbers. The presiding officer noted it; nobody has tried to vote twice so far.", s.n(6, 30))
		},
		func(s *scene) (string, string) {
			return "Duplicate entries with the same photo",
				fmt.Sprintf("Pages %d and %d of the register show the same voter photos under different names. Agents of %s photographed the pages.", s.n(3, 20), s.n(21, 40), s.party().short)
		},
	},
	"infrastructure.internet_shutdown": {
		func(s *scene) (string, string) {
			return fmt.Sprintf("Mobile data down on MarTel and Orbis since %s", s.since()),
				"Data stopped working on both networks. Calls still go through. Recording offline; will sync when a carrier passes."
		},
		func(s *scene) (string, string) {
			return fmt.Sprintf("No internet %s; results kit cannot transmit", s.at()),
				fmt.Sprintf("The NEC results transmission tablet shows 'no network' since %s. Staff say they were told to expect it. We are logging offline.", s.since())
		},
		func(s *scene) (string, string) {
			return "Total blackout: no data, calls dropping",
				fmt.Sprintf("Since about %s no data on any network and calls drop after a few seconds. Other observers in %s report the same.", s.since(), s.d.name)
		},
		func(s *scene) (string, string) {
			return "Internet back for a few minutes, then cut again",
				fmt.Sprintf("Data came back for about %d minutes around %s, then went again. Used the window to sync; most of our records went through.", s.n(3, 9), s.ago(5, 20))
		},
		func(s *scene) (string, string) {
			return fmt.Sprintf("Wi-Fi at %s has no uplink", s.stName()),
				"The building's Wi-Fi still works but nothing gets out. Phones in the same room exchanged records over it. Waiting for a carrier."
		},
	},
	"infrastructure.sms_blocked": {
		func(s *scene) (string, string) {
			return fmt.Sprintf("SMS not delivered since %s", s.since()),
				"Text messages show 'sending failed'. The mission hotline number does not receive SMS. Voice calls work, with long delays."
		},
		func(s *scene) (string, string) {
			return "Structured SMS reports to the data centre bounce",
				"Our coded SMS reports come back with 'service unavailable'. Switched to the app in offline mode."
		},
		func(s *scene) (string, string) {
			return "Personal SMS blocked, bulk SMS still arriving",
				fmt.Sprintf("We cannot send SMS, but at %s everyone in the queue received a bulk text from sender 'NEC-INFO' (logged separately as a sighting).", s.ago(5, 40))
		},
	},
	"infrastructure.power_outage": {
		func(s *scene) (string, string) {
			if s.t.Hour() >= 18 {
				return fmt.Sprintf("Power cut during the count %s", s.at()),
					fmt.Sprintf("Power went at %s in the middle of the count. Counting continues by lamp and phone torches; agents asked to move closer to see the ballots.", s.ago(5, 30))
			}
			return fmt.Sprintf("No electricity %s since early morning", s.at()),
				fmt.Sprintf("No power since before opening. The voter verification kit is on battery (%d%%). No generator on site.", s.n(30, 80))
		},
		func(s *scene) (string, string) {
			pl := s.place()
			return fmt.Sprintf("Power outage across %s", pl),
				fmt.Sprintf("The whole of %s is without power since %s. Phones are charging from a car battery in the yard.", pl, s.ago(10, 60))
		},
	},
	"infrastructure.voting_machine_failure": {
		func(s *scene) (string, string) {
			m := s.n(20, 60)
			return "Biometric kit not recognising fingerprints",
				fmt.Sprintf("The voter verification kit failed to verify %d of the first %d voters. At %s the presiding officer switched to manual verification with the printed register.", s.n(5, m/2), m, s.hm())
		},
		func(s *scene) (string, string) {
			return fmt.Sprintf("Verification kit battery dead %s", s.at()),
				"The kit's battery was flat on delivery and there is no power to charge it. Voting continues with the printed register only; agents were told."
		},
		func(s *scene) (string, string) {
			return "Verification kit shows last year's date and will not start",
				fmt.Sprintf("The kit shows a date from last year and refuses to open today's session. A technician from %s is on the way; manual verification meanwhile.", s.d.name)
		},
	},
	"infrastructure.cyber_attack": {
		func(s *scene) (string, string) {
			return "Electoral commission results portal down and defaced",
				fmt.Sprintf("Since about %s the commission's public results page shows a message claiming the election is 'cancelled'. Screenshots from two partners. Informed the commission's ICT team by phone.", s.ago(5, 25))
		},
		func(s *scene) (string, string) {
			return "Phishing SMS aimed at presiding officers",
				fmt.Sprintf("Presiding officers at %d stations we know of received an SMS with a link to 'update the NEC results app' and enter their login. Warned all observers to tell their presiding officer not to open it.", s.n(5, 14))
		},
	},
	"other": {
		func(s *scene) (string, string) {
			n := s.n(150, 600)
			return fmt.Sprintf("Queue of about %d people %s, wait over %d hours", n, s.at(), s.n(2, 4)),
				fmt.Sprintf("Only %d of the booths are in use because of a shortage of clerks. Elderly voters and pregnant women are not given priority.", s.n(1, 2))
		},
		func(s *scene) (string, string) {
			return "Polling room on the first floor, no access for wheelchair users",
				fmt.Sprintf("Voting takes place upstairs at %s. Two voters in wheelchairs could not get up; the presiding officer brought a ballot box down for them after %d minutes.", s.stName(), s.n(20, 60))
		},
		func(s *scene) (string, string) {
			return fmt.Sprintf("Long, slow queue %s in the heat", s.at()),
				"Queue moving very slowly, about one voter every two minutes. No shade and no water; several people fainted and were helped by first-aid volunteers."
		},
		func(s *scene) (string, string) {
			return "Polling staff threaten to stop: allowances not paid",
				"Clerks say they have not received their allowance and will stop after 16:00 if nobody pays. The presiding officer is calling the district office."
		},
		func(s *scene) (string, string) {
			return "Heavy rain: queue moved under the veranda",
				fmt.Sprintf("Heavy rain since %s. The queue moved under the school veranda; it is crowded and agents cannot see the booths well.", s.ago(10, 40))
		},
	},
}

// Disinformation: what is seen, through which channel, how far it goes.
// Observers record sightings, they do not rule on them.

type claim struct {
	title, body string
	channels    []string
	harm        string
	source      string // when the claim names its source; else one per channel
}

type claimFn func(s *scene) claim

var online = []string{"whatsapp", "facebook", "x", "tiktok", "telegram"}

var claims = map[string][]claimFn{
	"disinformation.fabricated_content": {
		func(s *scene) claim {
			c := s.cand()
			pct := s.n(61, 78)
			when := "although polls are still open"
			if s.t.Hour() >= 18 {
				when = "although counting has barely started"
			}
			return claim{fmt.Sprintf("Fake 'provisional results' give %s %d%%", c, pct),
				fmt.Sprintf("An image styled as a commission results sheet gives %s %d%% with '%d of 300 stations counted', %s.", c, pct, s.n(150, 280), when),
				[]string{"whatsapp", "facebook", "telegram"}, "high", ""}
		},
		func(s *scene) claim {
			r := s.d.region.name
			return claim{fmt.Sprintf("Fabricated commission letter extends voting in %s to Sunday", r),
				fmt.Sprintf("A scanned 'letter' on commission letterhead says voting in %s is extended to Sunday for 'logistical reasons'. The signature block names a commissioner who does not exist.", r),
				[]string{"whatsapp", "facebook", "print"}, "critical", ""}
		},
		func(s *scene) claim {
			c := s.cand()
			return claim{fmt.Sprintf("False news that %s has withdrawn", c),
				fmt.Sprintf("A post made to look like a news article says %s withdrew from the race this morning 'for health reasons' and asks supporters to stay home.", c),
				[]string{"facebook", "whatsapp", "x", "word_of_mouth"}, "high", ""}
		},
	},
	"disinformation.manipulated_media": {
		func(s *scene) claim {
			return claim{fmt.Sprintf("Video said to show ballot stuffing in %s", s.d.name),
				fmt.Sprintf("Short video of a man pushing a stack of ballots into a box, captioned as filmed today in %s. The box design and the language spoken do not look like Marenta's.", s.d.name),
				[]string{"tiktok", "whatsapp", "facebook"}, "high", ""}
		},
		func(s *scene) claim {
			c := s.cand()
			return claim{fmt.Sprintf("Audio clip attributed to %s, voice sounds synthetic", c),
				fmt.Sprintf("A voice note in which '%s' appears to tell supporters to 'take care of' observers. Flat intonation and odd pauses; the campaign says it is fake.", c),
				[]string{"whatsapp", "telegram", "x"}, "critical", ""}
		},
		func(s *scene) claim {
			return claim{fmt.Sprintf("Photo of burning ballot boxes 'in %s today'", s.place()),
				fmt.Sprintf("Photo of ballot boxes on fire said to be from %s this morning. People in the queue say the same photo went round after the last local elections.", s.place()),
				[]string{"facebook", "whatsapp", "x"}, "medium", ""}
		},
	},
	"disinformation.impersonation": {
		func(s *scene) claim {
			return claim{"Lookalike commission account announces voting continues tomorrow",
				"An account copying the commission's logo and name, one letter different, posted that voting 'will continue tomorrow' in several districts.",
				[]string{"x", "facebook"}, "critical", ""}
		},
		func(s *scene) claim {
			return claim{"SMS from 'NEC-INFO' says your polling station has changed",
				fmt.Sprintf("Voters received an SMS from sender 'NEC-INFO' saying their polling station moved to '%s Community Hall'. The commission says it sends no such messages.", s.place()),
				[]string{"sms"}, "high", "Bulk SMS from sender ID 'NEC-INFO'"}
		},
		func(s *scene) claim {
			return claim{"Fake police notice bans gatherings near stations",
				"A notice using the Marenta Police Service crest says nobody may 'gather within 500 m' of a polling station, queues included.",
				[]string{"facebook", "whatsapp", "print"}, "medium", ""}
		},
	},
	"disinformation.false_voting_info": {
		func(s *scene) claim {
			p := s.party()
			return claim{fmt.Sprintf("Message says %s supporters vote on Monday", p.short),
				fmt.Sprintf("The message says that because of crowding %s supporters vote on Monday and everyone else today.", p.name),
				[]string{"sms", "whatsapp", "word_of_mouth"}, "critical", ""}
		},
		func(s *scene) claim {
			return claim{"Claim that voters need two forms of ID",
				"Voters are being told they need both the voter card and a national ID card to vote. The electoral law asks for one of them.",
				[]string{"radio", "word_of_mouth", "whatsapp"}, "high", ""}
		},
		func(s *scene) claim {
			return claim{"Claim that polls close at 16:00 today",
				"People are saying the stations close at 16:00 today, two hours early. Some voters in the queue decided to come back 'tomorrow'.",
				[]string{"word_of_mouth", "radio", "whatsapp"}, "high", ""}
		},
		func(s *scene) claim {
			return claim{"Rumour that inked voters cannot vote in the next election",
				"Voters are told that the ink on their finger is recorded and bars them from the next election. Some voters refuse the ink.",
				[]string{"word_of_mouth", "print"}, "medium", ""}
		},
	},
	"disinformation.voter_suppression": {
		func(s *scene) claim {
			return claim{fmt.Sprintf("Voice notes warn of attacks on stations in %s", s.d.name),
				fmt.Sprintf("Voice notes say 'armed groups' will attack polling stations in %s after midday and tell people to vote early or stay home.", s.d.name),
				[]string{"whatsapp", "telegram"}, "critical", ""}
		},
		func(s *scene) claim {
			p := s.party()
			return claim{fmt.Sprintf("Message claims observers report %s voters to employers", p.short),
				fmt.Sprintf("The message says observers' phones send the name of every voter who votes %s to their employer.", p.short),
				[]string{"whatsapp", "word_of_mouth", "facebook"}, "high", ""}
		},
		func(s *scene) claim {
			return claim{"Flyer says voting is pointless, 'results already fixed'",
				"Flyers say the results are already decided and voting is 'a waste of a day's work'.",
				[]string{"print", "facebook"}, "medium", ""}
		},
	},
	"disinformation.hate_speech": {
		func(s *scene) claim {
			g := communities[s.w.rng.IntN(len(communities))]
			return claim{fmt.Sprintf("Posts calling %s 'outsiders' who should not vote", g),
				fmt.Sprintf("Posts describe the %s as 'foreigners' and call on people to stop them voting in %s.", g, s.d.name),
				[]string{"facebook", "tiktok", "whatsapp"}, "high", ""}
		},
		func(s *scene) claim {
			g := communities[s.w.rng.IntN(len(communities))]
			return claim{fmt.Sprintf("Radio caller uses slurs against %s", g),
				fmt.Sprintf("During a call-in show a caller used slurs against the %s and said they 'vote as a herd'. The host did not intervene.", g),
				[]string{"radio"}, "high", ""}
		},
	},
	"disinformation.rigging_allegation": {
		func(s *scene) claim {
			p := s.party()
			pct := s.n(62, 81)
			return claim{fmt.Sprintf("Premature claim that %s has won with %d%%", p.short, pct),
				fmt.Sprintf("Posts claim the %s has 'already won with %d%%' and that any other result means rigging. No results have been announced.", p.name, pct),
				[]string{"x", "facebook", "whatsapp", "tv"}, "high", ""}
		},
		func(s *scene) claim {
			return claim{fmt.Sprintf("Claim that ballot boxes arrived pre-filled in %s", s.d.name),
				fmt.Sprintf("Message says boxes arrived already full of ballots in %s. We have no observation of this ourselves.", s.d.name),
				[]string{"whatsapp", "word_of_mouth", "telegram"}, "high", ""}
		},
		func(s *scene) claim {
			return claim{"Post claims commission servers hacked, results decided",
				"A long post says the commission's servers were 'taken over' last night and the results file is already written.",
				[]string{"telegram", "facebook", "x"}, "medium", ""}
		},
	},
	"disinformation.coordinated_inauthentic": {
		func(s *scene) claim {
			c := s.cand()
			return claim{fmt.Sprintf("Dozens of new accounts posting identical text about %s", c),
				fmt.Sprintf("At least %d accounts created in the last two weeks posted the same text within minutes, praising %s and calling observers 'foreign agents'.", s.n(30, 120), c),
				[]string{"x", "facebook"}, "medium", ""}
		},
		func(s *scene) claim {
			return claim{"Hashtag #MarentaRigged pushed by accounts with no history",
				fmt.Sprintf("The hashtag went from nothing to trending in about %d minutes; most accounts using it have default pictures and no posts before this month.", s.n(20, 60)),
				[]string{"x", "tiktok"}, "medium", ""}
		},
		func(s *scene) claim {
			return claim{"Same comment pasted under commission posts by many accounts",
				fmt.Sprintf("Under each commission post about turnout, %d or more accounts paste the same comment accusing the commission of 'hiding ballots'.", s.n(25, 80)),
				[]string{"facebook", "x"}, "low", ""}
		},
	},
}

var reachRange = map[string][2]int{
	"whatsapp": {400, 80000}, "facebook": {2000, 250000}, "x": {1000, 400000},
	"tiktok": {5000, 600000}, "telegram": {800, 60000}, "sms": {3000, 900000},
	"radio": {10000, 300000}, "tv": {50000, 1200000}, "print": {50, 2000},
	"word_of_mouth": {20, 500}, "other": {100, 5000},
}

// disinfo writes a sighting: the claim, where it was seen, and the
// channel, harm, reach and source.
func (w *writer) disinfo(category string, s *scene) (string, string) {
	list := claims[category]
	i, ok := w.next[category]
	if !ok {
		i = w.rng.IntN(len(list))
	}
	w.next[category] = i + 1
	c := list[i%len(list)](s)
	channels := c.channels
	if s.desk {
		var on []string
		for _, ch := range channels {
			if slices.Contains(online, ch) || ch == "tv" || ch == "radio" {
				on = append(on, ch)
			}
		}
		if len(on) > 0 {
			channels = on
		}
	}
	ch := channels[w.rng.IntN(len(channels))]
	rr := reachRange[ch]
	reach := uint64(rr[0] + w.rng.IntN(rr[1]-rr[0]))
	if reach > 1000 {
		reach = reach / 100 * 100
	}
	harm := c.harm
	if w.rng.Float64() < 0.2 {
		harm = incident.HarmLevels[max(0, slices.Index(incident.HarmLevels, harm)-1)]
	}
	src := c.source
	if src == "" {
		src = s.source(ch)
	}
	s.sighting = sighting{channel: ch, harm: harm, reach: reach, source: src}
	var seen string
	switch {
	case s.desk:
		seen = fmt.Sprintf("Found by the monitoring desk at %s.", s.hm())
	case ch == "radio" || ch == "tv":
		seen = fmt.Sprintf("Heard at %s on a radio in the station yard; voters were discussing it.", s.hm())
	case ch == "print":
		seen = fmt.Sprintf("Found at %s at the entrance of %s.", s.hm(), s.stName())
	case ch == "word_of_mouth":
		seen = fmt.Sprintf("Voters in the queue %s were repeating this at %s.", s.at(), s.hm())
	case s.st == nil:
		seen = fmt.Sprintf("Received on my own phone at %s; others in %s have it too.", s.hm(), s.d.name)
	default:
		seen = fmt.Sprintf("Several voters in the queue %s showed me this on their phones at %s.", s.at(), s.hm())
	}
	end := s.pick("Screenshot kept on the phone.", "Voters asked us whether it is true; we said we only record what we see.",
		"Sighting only; not checked by us.", "Still circulating.")
	if s.desk {
		end = s.pick("Screenshot archived; source and reach logged.", "Still circulating at the time of writing.",
			"Sighting only; fact-checking partner informed.")
	}
	return c.title, seen + " " + c.body + " " + end
}

// source says where a sighting came from, per channel.
func (s *scene) source(ch string) string {
	switch ch {
	case "whatsapp":
		return fmt.Sprintf("WhatsApp group '%s' (%d members), forwarded many times", s.pick("Kessa Market Traders", "Calvera Parents' Forum",
			"Dunmore Fishermen United", "Vell Plateau Farmers", "Port Ostmarin Riders", "Saint Ailo Youth", s.d.name+" Community News"), s.n(80, 1024))
	case "facebook":
		return fmt.Sprintf("Facebook page '%s' (%dk followers)", s.pick("Marenta Truth Today", "Ostmarin Patriots", "Real Calvera News",
			"The Vell Voice", "Marenta Decides"), s.n(3, 240))
	case "x":
		return "X account " + s.pick("@NEC_Marenta_lnfo (lookalike of the commission's account)", "@calvera_watch", "@TruthMarenta",
			"@marenta_insider", "@VoiceOfDunmore")
	case "tiktok":
		return "TikTok account " + s.pick("@dunmore.daily", "@vellham.voice", "@marenta.now", "@portost.vibes")
	case "telegram":
		return "Telegram channel " + s.pick("'Marenta Uncensored'", "'Ostmarin Front'", "'Election Leaks MR'")
	case "sms":
		return s.pick("Bulk SMS from sender ID 'NEC-INFO'", "SMS from short code 4410", "SMS from an unknown foreign number")
	case "radio":
		return s.pick("Radio Kessa FM, call-in show", "Coast FM 98.4, news bulletin", "Voice of Vell, talk show",
			"MBC Radio One, phone-in")
	case "tv":
		return s.pick("Sunrise TV news ticker", "MBC Television studio discussion")
	case "print":
		if s.st != nil && !s.desk {
			return "Leaflets left at the station entrance"
		}
		return s.pick("Photocopied flyer on the market wall", "Flyers handed out at the bus stop")
	case "word_of_mouth":
		return s.pick("Voters in the queue", "A party agent repeating it inside the station", "Moto-taxi drivers at the gate")
	}
	return "Unknown"
}

// Stories' words.

func (w *writer) openedUpdate(o *person) string {
	return fmt.Sprintf("Update %s: the station opened at %s, %d minutes late. First voter at %s. Queue about %d people.",
		o.opened.Add(4*time.Minute).Format("15:04"), o.opened.Format("15:04"), o.lateBy,
		o.opened.Add(3*time.Minute).Format("15:04"), 30+w.rng.IntN(150))
}

func (w *writer) nationalShutdown(start time.Time) (string, string) {
	return "Mobile data cut across Ostmarin region and Saltreach district",
		fmt.Sprintf("From about %s, reports from stations in Port Ostmarin, Kessa, Lower Brask and Saltreach stopped arriving. "+
			"Observers reached by voice call confirm no mobile data on MarTel or Orbis; SMS failing in places. "+
			"Network measurement partners show traffic from both operators in the area falling to near zero. "+
			"Carriers Albatross and Petrel sent on their routes to collect records by hand.", start.Format("15:04"))
}

func (w *writer) networkBack(at time.Time) (string, string) {
	return "Mobile data returning in Ostmarin and Saltreach",
		fmt.Sprintf("From about %s records are arriving again from the shutdown area, many of them written hours ago. "+
			"Partners confirm traffic recovering on both operators. Coordinators: expect a backlog from the afternoon.", at.Format("15:04"))
}

func (w *writer) alertNote() string {
	return "Men with sticks at the gate, they took the phone of the other observer. I am inside with the presiding officer. Please call."
}

func (w *writer) sosReport(st *station) (string, string) {
	return fmt.Sprintf("Armed group at %s, observer's phone taken", st.code),
		fmt.Sprintf("Around 15:35 a group of about 15 men with sticks came to the gate of %s shouting that the station is 'rigged'. "+
			"They grabbed the phone of my team member while he was writing. We went inside; the presiding officer locked the door. "+
			"Voting stopped. Nobody hurt so far. Sent an alert at 15:41.", st.name)
}

func (w *writer) worseUpdate(at time.Time) string {
	return fmt.Sprintf("Update %s: %s", at.Format("15:04"), []string{
		"it has got worse since; more people involved and the presiding officer has stopped trying to intervene.",
		"agents of two parties now confirm it and have written it into the minutes.",
		"raising the severity: voters are leaving the queue because of it.",
	}[w.rng.IntN(3)])
}

func (w *writer) clearerTitle(p *incident.ReportPayload) string {
	t := p.Title
	if st := w.b.stationByCode(p.Station); st != nil && !strings.Contains(t, st.code) {
		t = st.code + ", " + st.place + ": " + t
	}
	if len(t) > incident.MaxTitleLen {
		t = strings.ToValidUTF8(t[:incident.MaxTitleLen], "")
	}
	return t
}

func (w *writer) detailUpdate(at time.Time) string {
	return fmt.Sprintf("Update %s: %s", at.Format("15:04"), []string{
		"talked to the presiding officer, who confirms what I wrote and has put it in the station diary.",
		"a second observer passing through saw the same thing.",
		"photos taken; sending with the carrier tonight.",
	}[w.rng.IntN(3)])
}

func (w *writer) conflictNotes(category string) (string, string) {
	if category == "polling.tally_discrepancy" {
		return "Photo of the results form received: the presidential column does not add up to the total. Verified as reported.",
			"Rejected: the district copy of the form counts spoilt ballots in the total, which explains the difference. No discrepancy."
	}
	return "Sighting verified: a second observer in the same district reports the same content.",
		"Rejected: the desk cannot find this content at the named source; looks like a retelling of an older rumour."
}

// reviewNote is a coordinator's note for a verdict on r.
func (w *writer) reviewNote(r *report, status string) string {
	where := r.p.Station
	if where == "" {
		where = r.p.Area
	}
	disinfo := incident.FamilyOf(r.p.Category) == "disinformation"
	var notes []string
	family := incident.FamilyOf(r.p.Category)
	switch status {
	case "verified":
		if disinfo {
			notes = []string{"Sighting confirmed: content found at the named source.",
				"Screenshot received; content as described.", "Seen by the desk too; source and reach logged."}
		} else {
			notes = []string{"Confirmed with the observer by phone.", "Called the presiding officer at " + where + "; confirmed.",
				"Photo received via carrier; matches the description.", "Checked against the station's check-ins; consistent."}
		}
	case "corroborated":
		if disinfo {
			notes = []string{"Same content reported from two other districts.", "Fact-checking partner logged the same sighting."}
		} else {
			notes = []string{"A second observer in the district reports the same.", "Matches reports from two other stations in the area.",
				"Party agents' account matches; two independent sources.", "Partner organisation logged the same at " + where + "."}
		}
	case "rejected":
		if disinfo {
			notes = []string{"The desk cannot find this content at the named source.", "Duplicate of a sighting already logged by the desk."}
		} else {
			notes = []string{"Could not be confirmed: the observer heard it second-hand.", "Duplicate of an earlier report from the same station.",
				"Check-ins and two agents say otherwise; not as reported."}
		}
	case "escalated":
		switch {
		case disinfo:
			notes = []string{"Sent to the fact-checking partner and the commission's communications unit.",
				"Reported to the platform through the trusted-flagger channel.", "Potential incitement: passed to the legal team."}
		case r.p.Category == "polling.violence" || r.p.Category == "polling.intimidation":
			notes = []string{"Security liaison informed; police commander notified.", "Passed to the legal team and the security liaison."}
		case family == "infrastructure":
			notes = []string{"Raised with the commission's situation room and the telecoms regulator.",
				"Included in the shutdown log for tonight's statement."}
		default:
			notes = []string{"Escalated to the district returning officer.", "Passed to the legal team for the complaints log.",
				"Raised with the commission's situation room; asked for a response tonight."}
		}
	}
	return notes[w.rng.IntN(len(notes))]
}
