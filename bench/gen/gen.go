// Package gen makes the data Vigil's benchmarks run on: a mission (a
// founding coordinator's store and many observers' signing keys with their
// member records) and signed reports whose contents look like real ones
// (taxonomy codes with a skewed mix, stations grouped in areas, locations
// near the station, titles and descriptions of realistic lengths, some
// attachments, disinformation fields) but whose text and hashes come from a
// random source, so they do not compress much: sizes measured on them are
// not flattered by compression anywhere along the way.
//
// Everything is reproducible from a seed except what the store draws
// itself (device keys, mission nonce and secret).
package gen

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"time"

	"filippo.io/age"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
)

// Passphrase opens every store the benchmarks create.
var Passphrase = []byte("bench passphrase")

// CheapKDF keeps store creation fast; the KDF is not what is measured.
var CheapKDF = vault.KDFParams{Time: 1, MemoryKiB: 64, Threads: 1}

// StoreOptions are the options benchmark stores use: the phone profile
// (the memory settings in docs/architecture.md) and a cheap KDF.
func StoreOptions() store.Options {
	return store.Options{KDF: &CheapKDF, Profile: store.PhoneProfile}
}

// Mission is a mission founded by a coordinator's store, with observers
// whose keys the benchmark holds, so it can sign their reports in memory.
type Mission struct {
	Founder   *store.Store
	ID        incident.ID
	Secret    []byte
	Observers []*incident.Signer
	// Members are the observers' signed member records, in order.
	Members [][]byte
	World   *World
}

// NewMission creates a founder store in home (phone profile) and enrolls
// observers observers (member records signed in memory, not yet stored
// anywhere: add Members to each store that needs them, founder included).
func NewMission(home string, observers int, seed uint64) (*Mission, error) {
	f, err := store.Init(home, Passphrase, StoreOptions())
	if err != nil {
		return nil, err
	}
	mid, err := f.CreateMission("Benchmark mission", "desk", false)
	if err != nil {
		f.Close()
		return nil, err
	}
	m := &Mission{Founder: f, ID: mid, Secret: f.Secret(), World: NewWorld(seed)}
	rng := mrand.New(mrand.NewPCG(seed, 0x6f6273))
	at := time.Now().Add(-30 * 24 * time.Hour)
	for i := range observers {
		seedKey := make([]byte, 32)
		fill(rng, seedKey)
		s, err := incident.NewSigner(seedKey)
		if err != nil {
			f.Close()
			return nil, err
		}
		nonce := make([]byte, 16)
		fill(rng, nonce)
		inviteSeed := make([]byte, 32)
		fill(rng, inviteSeed)
		tok := f.Signer().SignToken(incident.Token{Mission: mid.Bytes(), Role: incident.RoleObserver,
			Label: fmt.Sprintf("observer-%04d", i), Nonce: nonce, Invite: incident.InvitePublic(inviteSeed)})
		rec, err := s.Sign(mid, incident.KindMember, at, incident.MemberPayload{Token: tok,
			InviteSig: incident.SignRedeem(inviteSeed, mid, s.Author())})
		if err != nil {
			f.Close()
			return nil, err
		}
		m.Observers = append(m.Observers, s)
		m.Members = append(m.Members, rec.Raw)
	}
	return m, nil
}

// Invite returns an observer invite code for a new device.
func (m *Mission) Invite(label string) (string, error) {
	return m.Founder.Invite(store.InviteRequest{Role: incident.RoleObserver, Label: label})
}

// JoinStore creates a store in home that joins the mission as an observer
// and holds the observers' member records.
func (m *Mission) JoinStore(home string, opts store.Options) (*store.Store, error) {
	code, err := m.Invite("device")
	if err != nil {
		return nil, err
	}
	st, err := store.Init(home, Passphrase, opts)
	if err != nil {
		return nil, err
	}
	if _, err := st.Join(code); err != nil {
		st.Close()
		return nil, err
	}
	if err := AddAll(st, m.Members, "bench"); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// AddAll stores raws with AddMany in batches of 500 and fails unless each
// is accepted or already held.
func AddAll(st *store.Store, raws [][]byte, source string) error {
	for start := 0; start < len(raws); start += 500 {
		batch := raws[start:min(start+500, len(raws))]
		res, err := st.AddMany(batch, source, nil)
		if err != nil {
			return err
		}
		for i, r := range res {
			if r.Outcome != store.Accepted && r.Outcome != store.Duplicate {
				return fmt.Errorf("record %d: %s: %v", start+i, r.Outcome, r.Err)
			}
		}
	}
	return nil
}

// World is the fictional geography reports refer to: areas, and stations
// that belong to an area and have a location.
type World struct {
	Areas    []string
	Stations []Station
}

// Station is a polling station.
type Station struct {
	Code     string
	Area     string
	Lat, Lon int64 // microdegrees
}

// NewWorld makes 60 areas and 3000 stations.
func NewWorld(seed uint64) *World {
	rng := mrand.New(mrand.NewPCG(seed, 0x776f726c64))
	w := &World{}
	suffix := []string{"", " North", " South", " East", " West", " Central"}
	for range 60 {
		w.Areas = append(w.Areas, capitalize(word(rng, 4, 9))+suffix[rng.IntN(len(suffix))])
	}
	centre := make([][2]float64, len(w.Areas))
	for i := range centre {
		centre[i] = [2]float64{4 + rng.Float64()*8, -2 + rng.Float64()*9} // a West African-sized box
	}
	for i := range 3000 {
		a := rng.IntN(len(w.Areas))
		lat := centre[a][0] + rng.NormFloat64()*0.2
		lon := centre[a][1] + rng.NormFloat64()*0.2
		w.Stations = append(w.Stations, Station{Code: fmt.Sprintf("PS-%04d", i+1), Area: w.Areas[a],
			Lat: int64(math.Round(lat * 1e6)), Lon: int64(math.Round(lon * 1e6))})
	}
	return w
}

// categoryWeights skews the mix the way observer data is skewed: a few
// polling-day problems dominate.
var categoryWeights = func() []float64 {
	w := make([]float64, len(incident.BaseTaxonomy))
	for i, c := range incident.BaseTaxonomy {
		switch c.Family {
		case "polling":
			w[i] = 6
		case "registration":
			w[i] = 4
		case "infrastructure":
			w[i] = 2
		case "disinformation":
			w[i] = 2.5
		default:
			w[i] = 1
		}
		w[i] *= 1 + float64(i%3) // uneven within families too
	}
	return w
}()

func pick(rng *mrand.Rand, weights []float64) int {
	total := 0.0
	for _, w := range weights {
		total += w
	}
	x := rng.Float64() * total
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// Spec says which reports to sign.
type Spec struct {
	N     int    // how many
	Seed  uint64 // content and authors; record i depends on (Seed, i) only
	Start time.Time
	Days  int // claimed creation times spread over this many days from Start
}

// Report returns the payload, author index and claimed time of report i.
func (m *Mission) Report(sp Spec, i int) (incident.ReportPayload, int, time.Time) {
	rng := mrand.New(mrand.NewPCG(sp.Seed, uint64(i)))
	return m.World.report(rng, sp, len(m.Observers))
}

func (w *World) report(rng *mrand.Rand, sp Spec, observers int) (incident.ReportPayload, int, time.Time) {
	days := max(sp.Days, 1)
	created := sp.Start.Add(time.Duration(rng.Int64N(int64(days) * int64(24*time.Hour)))).Truncate(time.Millisecond)
	occurred := created.Add(-time.Duration(rng.Int64N(int64(3 * time.Hour))))
	cat := incident.BaseTaxonomy[pick(rng, categoryWeights)]
	st := w.Stations[rng.IntN(len(w.Stations))]
	p := incident.ReportPayload{
		Category: cat.Code,
		Severity: 1 + uint64(pick(rng, []float64{4, 3, 2, 1})),
		Occurred: occurred.UnixMilli(),
		Station:  st.Code,
		Area:     st.Area,
		Title:    sentence(rng, 20+rng.IntN(100)),
	}
	if rng.IntN(10) < 7 { // most phones add a location
		lat := st.Lat + int64(rng.NormFloat64()*800)
		lon := st.Lon + int64(rng.NormFloat64()*800)
		p.Lat, p.Lon = &lat, &lon
		p.Precision = 5 + uint64(rng.IntN(200))
	}
	if rng.IntN(10) < 6 {
		p.Description = sentence(rng, 80+rng.IntN(820))
	}
	if rng.IntN(5) == 0 {
		for range 1 + rng.IntN(3) {
			h := make([]byte, 32)
			fill(rng, h)
			p.Attachments = append(p.Attachments, h)
		}
	}
	if cat.Family == "disinformation" {
		p.Channel = incident.Channels[rng.IntN(len(incident.Channels))]
		p.Harm = incident.HarmLevels[rng.IntN(len(incident.HarmLevels))]
		p.Reach = uint64(rng.IntN(200000))
		p.Source = sentence(rng, 10+rng.IntN(60))
	}
	return p, rng.IntN(observers), created
}

// Sign signs sp.N reports by the mission's observers, in parallel on
// every core, and returns their encodings in index order.
func (m *Mission) Sign(sp Spec) ([][]byte, error) {
	return m.signAll(sp, func(i int) ([]byte, error) {
		p, who, at := m.Report(sp, i)
		r, err := m.Observers[who].Sign(m.ID, incident.KindReport, at, p)
		if err != nil {
			return nil, err
		}
		return r.Raw, nil
	})
}

// SignSealed is Sign for sealed reports: the same payloads Sign gives for
// sp (so a sealed store and a clear one hold the same reports), each
// sealed to recipients (incident.Seal: padded, age-encrypted) and signed
// with an envelope that carries nothing. Sealing costs an X25519 key
// agreement per recipient and record, so this takes a few times Sign's
// time.
func (m *Mission) SignSealed(sp Spec, recipients []age.Recipient) ([][]byte, error) {
	return m.signAll(sp, func(i int) ([]byte, error) {
		p, who, at := m.Report(sp, i)
		ct, err := incident.Seal(incident.KindReport, p, recipients)
		if err != nil {
			return nil, fmt.Errorf("seal: %w", err)
		}
		r, err := m.Observers[who].SignSealed(m.ID, incident.KindReport, at, incident.SealedEnvelope{}, ct)
		if err != nil {
			return nil, err
		}
		return r.Raw, nil
	})
}

// signAll runs one(i) for every report index on every core and returns
// the encodings in index order.
func (m *Mission) signAll(sp Spec, one func(i int) ([]byte, error)) ([][]byte, error) {
	out := make([][]byte, sp.N)
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < sp.N; i += workers {
				raw, err := one(i)
				if err != nil {
					errs[w] = fmt.Errorf("report %d: %w", i, err)
					return
				}
				out[i] = raw
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Recipients returns the age recipients sealed records of the mission go
// to (its coordinators': here the founder's).
func (m *Mission) Recipients() ([]age.Recipient, error) {
	ms, err := m.Founder.Mission()
	if err != nil {
		return nil, err
	}
	return ms.SealRecipients()
}

// Payload returns one fresh random report payload (for stores that sign
// their own reports with Put, as the simulation's nodes do).
func (w *World) Payload(rng *mrand.Rand, at time.Time) incident.ReportPayload {
	p, _, _ := w.report(rng, Spec{Start: at, Days: 0}, 1)
	p.Occurred = at.Add(-time.Duration(rng.Int64N(int64(time.Hour)))).UnixMilli()
	return p
}

// Sizes sums and averages encodings.
func Sizes(raws [][]byte) (total int64, mean float64) {
	for _, r := range raws {
		total += int64(len(r))
	}
	if len(raws) > 0 {
		mean = float64(total) / float64(len(raws))
	}
	return total, mean
}

// GzipRatio is the size gzip (default level) leaves of the concatenated
// encodings of up to the first 2000 records, as a fraction: a check that
// the data is not trivially compressible.
func GzipRatio(raws [][]byte) float64 {
	var in, out bytes.Buffer
	for _, r := range raws[:min(len(raws), 2000)] {
		in.Write(r)
	}
	zw := gzip.NewWriter(&out)
	zw.Write(in.Bytes())
	zw.Close()
	if in.Len() == 0 {
		return 0
	}
	return float64(out.Len()) / float64(in.Len())
}

// Text: pseudo-words over a Latin alphabet with some accented letters
// (missions write in French and Portuguese too), capitals, digits and
// punctuation, each drawn at random. About 4.8 bits of entropy per byte:
// as close to incompressible as readable text gets.
const letters = "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzeeaaiioonnrrsstt"

var accented = []string{"é", "è", "à", "ç", "ô", "ã", "õ", "ú", "í"}

func word(rng *mrand.Rand, lo, hi int) string {
	var b strings.Builder
	n := lo + rng.IntN(hi-lo+1)
	for range n {
		if rng.IntN(40) == 0 {
			b.WriteString(accented[rng.IntN(len(accented))])
			continue
		}
		b.WriteByte(letters[rng.IntN(len(letters))])
	}
	return b.String()
}

func capitalize(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// sentence returns text of about n bytes (never more than n+12).
func sentence(rng *mrand.Rand, n int) string {
	var b strings.Builder
	first := true
	for b.Len() < n {
		w := word(rng, 1, 10)
		switch {
		case first:
			w = capitalize(w)
			first = false
		case rng.IntN(25) == 0:
			w = fmt.Sprintf("%d", rng.IntN(5000))
		case rng.IntN(12) == 0:
			w = capitalize(w)
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w)
		if rng.IntN(14) == 0 {
			b.WriteString([]string{".", ",", ";", ":", "!", "?"}[rng.IntN(6)])
			first = rng.IntN(2) == 0
		}
	}
	return strings.TrimSpace(b.String())
}

func fill(rng *mrand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}

// RandomBytes is crypto/rand for callers that want unseeded bytes.
func RandomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
