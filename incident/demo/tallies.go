package demo

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/vigil-mesh/vigil/incident"
)

// Contest is the practice mission's one contest.
const Contest = "presidential"

// candidates of the practice election, in the sheet's order, and their
// support by region (shares of the valid votes, summing to 1): a close
// race nationally, with regional strongholds.
var ballot = []string{"Amara Okafor (MRP)", "Bastien Louro (UDC)", "Cielo Varga (independent)"}

var regionSupport = [][]float64{
	{0.52, 0.36, 0.12},
	{0.34, 0.55, 0.11},
	{0.45, 0.41, 0.14},
	{0.39, 0.44, 0.17},
}

// tallies: at the count, each observer heard from then copies their
// station's result sheet (a few do not: a long count, a flat battery).
// Three copy a sheet wrongly or copy one that does not add up, so
// their tallies are flagged; at one station a second observer also
// copies the sheet and agrees (consolidated), at another the second
// copy differs by one number (the two are shown side by side). The
// pvt stations among the observers' posts give the quick count. The
// draws come from a generator of their own, so every other record of
// the day stays what it was.
func (b *builder) tallies() {
	rng := rand.New(rand.NewPCG(b.w.seed, 0x74616c6c696573))
	regionOf := map[*region]int{}
	for i, r := range b.w.regions {
		regionOf[r] = i
	}
	type plan struct {
		o  *person
		at time.Time
		p  incident.TallyPayload
	}
	var plans []*plan
	for _, o := range b.w.observers {
		end := hm(19, 30) + rng.IntN(150)
		skip := rng.Float64() < 0.1
		if !o.heard(end) || skip {
			continue
		}
		st := o.home
		support := regionSupport[regionOf[st.district.region]%len(regionSupport)]
		plans = append(plans, &plan{o: o, at: b.clock(end, rng.IntN(60)), p: sheetFor(rng, st, support)})
	}
	// Second copies: in one district an observer goes to a colleague's
	// count instead of their own and copies the same sheet (the two
	// agree); in another, the second copy misreads one number.
	byDistrict := map[*district][]*plan{}
	var districts []*district
	for _, pl := range plans {
		if len(byDistrict[pl.o.district]) == 0 {
			districts = append(districts, pl.o.district)
		}
		byDistrict[pl.o.district] = append(byDistrict[pl.o.district], pl)
	}
	var pairs [][2]*plan
	for _, d := range districts {
		if list := byDistrict[d]; len(list) >= 2 && len(pairs) < 2 {
			pairs = append(pairs, [2]*plan{list[0], list[1]})
		}
	}
	var seconds []*plan
	for i, pair := range pairs {
		first, second := pair[0], pair[1]
		second.p = first.p
		second.p.Votes = append([]incident.VoteCount(nil), first.p.Votes...)
		second.at = first.at.Add(time.Duration(3+i)*time.Minute + 14*time.Second)
		if i == 1 {
			second.p.Votes[1].Votes += 10 // a 2 read as a 3
		}
		seconds = append(seconds, first, second)
	}
	// Three sheets copied wrongly, or wrong themselves.
	flagged := 0
	for _, pl := range plans {
		if contains(seconds, pl) || flagged == 3 {
			continue
		}
		switch flagged {
		case 0:
			pl.p.Votes[0].Votes += 100 // a digit slipped: the votes exceed the ballots cast
		case 1:
			pl.p.Registered += 90 // an old register's number
		case 2:
			pl.p.Issued = pl.p.Cast - 3 // more ballots in the box than issued
		}
		flagged++
	}
	for _, pl := range plans {
		b.sign(pl.o, incident.KindTally, pl.at, pl.p)
	}
}

// sheetFor is station st's result sheet: turnout 55 to 78 %, about 2 %
// invalid and 1 % blank, and the valid votes shared by the region's
// support with station-level noise (voters at one station lean alike).
func sheetFor(rng *rand.Rand, st *station, support []float64) incident.TallyPayload {
	registered := st.registered
	cast := int(math.Round(float64(registered) * (0.55 + 0.23*rng.Float64())))
	invalid := int(math.Round(float64(cast) * (0.01 + 0.02*rng.Float64())))
	blank := int(math.Round(float64(cast) * 0.01 * rng.Float64() * 2))
	valid := cast - invalid - blank
	weights := make([]float64, len(support))
	var sum float64
	for i, s := range support {
		weights[i] = s * math.Exp(0.25*rng.NormFloat64())
		sum += weights[i]
	}
	p := incident.TallyPayload{Station: st.code, Contest: Contest, Registered: uint64(registered),
		Issued: uint64(cast + rng.IntN(6)), Cast: uint64(cast), Invalid: uint64(invalid), Blank: uint64(blank)}
	left := valid
	for i, name := range ballot {
		n := int(math.Round(float64(valid) * weights[i] / sum))
		if i == len(ballot)-1 || n > left {
			n = left
		}
		left -= n
		p.Votes = append(p.Votes, incident.VoteCount{Choice: name, Votes: uint64(n)})
	}
	return p
}

func contains[T comparable](list []T, v T) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
