package demo

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

// The Republic of Marenta: four regions, twelve districts, 300 polling
// stations. Coordinates put it in open ocean (about 9–13°N, 26–31°W), where
// no real country lies, so no practice map can be mistaken for a real one.

type region struct {
	name     string
	lat, lon float64
}

type district struct {
	name     string
	region   *region
	lat, lon float64
	places   []string // towns, villages and quarters
	urban    bool
	stations []*station
}

type station struct {
	code     string
	name     string
	place    string
	district *district
	lat, lon float64
	// registered is its voters on the register (set with the registry).
	registered int
}

// area is what reports and the registry give as the admin area.
func (s *station) area() string { return s.district.name }

var regionSpecs = []struct {
	name      string
	lat, lon  float64
	districts []districtSpec
}{
	{"Calvera", 12.15, -30.05, []districtSpec{
		{"Calvera City", true, []string{"Old Harbour", "San Teodor", "Millbrook", "Caldas Heights", "Riverside", "Market Ward"}},
		{"Ros Tamin", false, []string{"Ros Tamin", "Belmar", "Kilnagh", "Tamin Cross", "Orrin"}},
		{"Ebbe Valley", false, []string{"Ebbe", "Lower Ebbe", "Fennick", "Carrow", "Stonewell"}},
	}},
	{"Ostmarin", 11.95, -27.35, []districtSpec{
		{"Port Ostmarin", true, []string{"Quayside", "Fort Hill", "Lantern Row", "New Town", "Saint Ailo"}},
		{"Kessa", false, []string{"Kessa", "Kessa Market", "Dorran", "Hollin", "Varra"}},
		{"Lower Brask", false, []string{"Brask Mills", "Asheby", "Greyford", "Meridan", "Tullan Bend"}},
	}},
	{"Dunmore Coast", 9.55, -30.35, []districtSpec{
		{"Dunmore", true, []string{"Dunmore", "Dunmore Quay", "Cape Ilsa", "Halloran", "Pinebay"}},
		{"Saltreach", false, []string{"Saltreach", "Marram", "Seaholt", "Corra Point", "Windle"}},
		{"Aldra Bay", false, []string{"Aldra", "Aldra Bay", "Moss Landing", "Tarrant", "Kelpford"}},
	}},
	{"Vell Plateau", 9.45, -27.15, []districtSpec{
		{"Vellham", true, []string{"Vellham", "Upper Vell", "Orlan", "Brennock", "Highcross"}},
		{"Tor Ansel", false, []string{"Tor Ansel", "Ansel Gap", "Crail", "Dunvarra", "Skellin"}},
		{"Mirrow Fields", false, []string{"Mirrow", "Westfield", "Cobb's Ford", "Larnach", "Greenmere"}},
	}},
}

type districtSpec struct {
	name   string
	urban  bool
	places []string
}

// venues: most polling stations are schools.
var venues = []string{"Primary School", "Primary School", "Primary School", "Primary School",
	"Secondary School", "Secondary School", "Community Hall", "Community Hall", "Health Centre",
	"Parish Hall", "Youth Centre", "Market Hall", "Public Library", "Cooperative Hall",
	"Sports Pavilion", "Agricultural Office", "Chapel Hall", "Technical College", "Women's Centre"}

// stationsPerDistrict × 12 districts = 300 stations.
const stationsPerDistrict = 25

// person is a mission member with a signing key derived from the seed (the
// founder's is the home's own device key).
type person struct {
	name      string // pseudonym
	label     string // enrollment label
	role      string
	signer    *incident.Signer
	recipient string // age X25519 recipient
	issuer    *person
	district  *district // observers: where they are deployed
	home      *station  // observers: their station for the day
	visits    []*station
	desk      []*region // coordinators: regions they review

	// Observers' day (set by the day plan).
	opensLate       bool
	arrived, opened time.Time
	lateBy          int    // minutes the home station opened late
	silentFrom      int    // minute of the day from which nothing more is heard; 0: never
	gap             [2]int // minutes of the day without check-ins
}

var coordinatorSpecs = []struct{ name, desk string }{
	{"Osprey", "national desk"},
	{"Kestrel", "north desk: Calvera and Ostmarin"},
	{"Heron", "south desk: Dunmore Coast and Vell Plateau"},
}

var observerNames = []string{"Swift", "Wren", "Finch", "Robin", "Lark", "Plover", "Egret", "Ibis",
	"Kite", "Tern", "Sparrow", "Thrush", "Starling", "Warbler", "Oriole", "Curlew", "Sandpiper",
	"Dove", "Hoopoe", "Bee-eater", "Kingfisher", "Weaver", "Sunbird", "Hornbill", "Shrike",
	"Nightjar", "Bulbul", "Barbet", "Cormorant", "Pelican", "Stork", "Crane", "Avocet", "Godwit",
	"Dunlin", "Martin", "Swallow", "Redstart", "Nuthatch", "Linnet"}

var carrierSpecs = []struct{ name, route string }{
	{"Albatross", "Calvera–Ostmarin road"},
	{"Petrel", "coast road, Dunmore to Vellham"},
}

// world is the fictional country and the mission's people.
type world struct {
	seed         uint64
	rng          *rand.Rand
	regions      []*region
	districts    []*district
	stations     []*station
	founder      *person
	coordinators []*person // founder first
	observers    []*person
	carriers     []*person
}

// newWorld lays out the country and the people. The founder's signer is
// left for the caller to set (the home's device key).
func newWorld(seed uint64) *world {
	w := &world{seed: seed, rng: rand.New(rand.NewPCG(seed, 0x6d6172656e7461))}
	n := 0
	for _, rs := range regionSpecs {
		r := &region{name: rs.name, lat: rs.lat, lon: rs.lon}
		w.regions = append(w.regions, r)
		for i, ds := range rs.districts {
			// Three districts around the region's centre.
			angle := float64(i)*2.1 + w.rng.Float64()*0.4
			d := &district{name: ds.name, region: r, places: ds.places, urban: ds.urban,
				lat: r.lat + 0.42*math.Sin(angle), lon: r.lon + 0.48*math.Cos(angle)}
			if ds.urban {
				d.lat, d.lon = r.lat+0.05, r.lon-0.05
			}
			w.districts = append(w.districts, d)
			used := map[string]bool{}
			for j := 0; j < stationsPerDistrict; j++ {
				n++
				place := d.places[w.rng.IntN(len(d.places))]
				name := place + " " + venues[w.rng.IntN(len(venues))]
				for k := 0; used[name]; k++ {
					// A second station in the same building: B, C, …
					name = fmt.Sprintf("%s %s %c", place, venues[w.rng.IntN(len(venues))], 'B'+k%4)
				}
				used[name] = true
				spread := 0.16
				if d.urban {
					spread = 0.05
				}
				s := &station{code: fmt.Sprintf("PS-%04d", n), name: name, place: place, district: d,
					lat: round6(d.lat + w.rng.NormFloat64()*spread/2),
					lon: round6(d.lon + w.rng.NormFloat64()*spread/2)}
				d.stations = append(d.stations, s)
				w.stations = append(w.stations, s)
			}
		}
	}

	for i, cs := range coordinatorSpecs {
		p := &person{name: cs.name, label: cs.name + " — " + cs.desk, role: incident.RoleCoordinator}
		switch i {
		case 0:
			p.desk = w.regions
		case 1:
			p.desk = w.regions[:2]
		default:
			p.desk = w.regions[2:]
		}
		if i > 0 {
			w.keys(p)
			p.issuer = w.coordinators[0]
		}
		w.coordinators = append(w.coordinators, p)
	}
	w.founder = w.coordinators[0]

	// Forty observers: four in each district town, three elsewhere. Each
	// holds one station all day and visits up to three nearby ones.
	obs := 0
	for _, d := range w.districts {
		k := 3
		if d.urban {
			k = 4
		}
		perm := w.rng.Perm(len(d.stations))
		for j := 0; j < k; j++ {
			name := observerNames[obs]
			obs++
			p := &person{name: name, role: incident.RoleObserver, district: d, home: d.stations[perm[j]]}
			for v := 0; v < w.rng.IntN(4); v++ {
				p.visits = append(p.visits, d.stations[perm[k+j*3+v]])
			}
			p.label = fmt.Sprintf("%s — observer, %s (%s)", name, d.name, p.home.code)
			w.keys(p)
			// Regional coordinators enrolled the observers of their desk at
			// the training sessions; the founder enrolled the capital's.
			p.issuer = w.deskOf(d.region)
			if d.name == "Calvera City" {
				p.issuer = w.founder
			}
			w.observers = append(w.observers, p)
		}
	}
	for _, cs := range carrierSpecs {
		p := &person{name: cs.name, label: cs.name + " — carrier, " + cs.route, role: incident.RoleCarrier, issuer: w.founder}
		w.keys(p)
		w.carriers = append(w.carriers, p)
	}
	return w
}

// deskOf returns the regional coordinator responsible for r.
func (w *world) deskOf(r *region) *person {
	for _, c := range w.coordinators[1:] {
		for _, x := range c.desk {
			if x == r {
				return c
			}
		}
	}
	return w.founder
}

// keys derives p's signing and sealing keys from the seed and its name.
func (w *world) keys(p *person) {
	s, err := incident.NewSigner(w.derive("signing key", p.name))
	if err != nil {
		panic(err) // the seed is always 32 bytes
	}
	p.signer = s
	p.recipient = ageRecipient(w.derive("age identity", p.name))
}

// derive returns 32 bytes that depend only on the seed, purpose and name.
func (w *world) derive(purpose, name string) []byte {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], w.seed)
	h := sha256.Sum256([]byte("vigil-demo/v1/" + purpose + "/" + string(b[:]) + "/" + name))
	return h[:]
}

// ageRecipient returns the age X25519 recipient ("age1…") of the identity
// whose scalar is secret. age offers no constructor from bytes, so the
// point is computed here and bech32-encoded as age does.
func ageRecipient(secret []byte) string {
	id, err := incident.AgeIdentityFrom(secret)
	if err != nil {
		panic(err) // any 32 bytes are an X25519 scalar
	}
	return id.Recipient().String()
}
