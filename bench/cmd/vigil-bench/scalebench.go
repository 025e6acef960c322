package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/vigil-mesh/vigil/bench/gen"
	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/node"
	"github.com/vigil-mesh/vigil/sync/daemon"
	"github.com/vigil-mesh/vigil/sync/mesh"
)

// scaleGroup: an observer's phone in a national mission (issue 19,
// "custody and bounded phones"). The mission has 10,000 observers and two
// coordinators; a million of the observers' reports pass through the
// phone, as gossip brings a busy mesh's records to every member, in
// chunks of 10,000, each followed by both coordinators' receipts for it
// (signed with the coordinators' keys: their nodes hold the records by
// other paths) and the phone's prune, as its engine runs it after each
// session. The phone writes its own 100 reports meanwhile; at the end it
// reconciles with both coordinators' real nodes on loopback over the live
// protocol, the coordinators receipt, and every one of its reports must
// be at both desks and show "held by a coordinator". Value: the most disk
// the phone's store took at any point (before each prune); target: within
// the mission's default storage budget.
//
// Then d more own reports and one more live session: the reconciliation
// bytes against d × 32 B, target ≤ 3 × d × 32 B + 2 KiB as for full sets.
func scaleGroup(rs *Results, o benchOptions, work string, logf func(string, ...any)) error {
	total, chunk, observers := 1_000_000, 10_000, 10_000
	if o.quick {
		total, chunk, observers = 5_000, 1_000, 200
	}
	if o.scaleTotal > 0 {
		total = o.scaleTotal
		chunk = min(chunk, total)
	}
	own := 100
	dir := filepath.Join(work, "scale")
	m, err := gen.NewMission(filepath.Join(dir, "c1"), observers, o.seed)
	if err != nil {
		return err
	}
	c1 := m.Founder
	defer c1.Close()
	c2, err := secondCoordinator(m, filepath.Join(dir, "c2"))
	if err != nil {
		return err
	}
	defer c2.Close()
	phone, err := m.JoinStore(filepath.Join(dir, "phone"), gen.StoreOptions())
	if err != nil {
		return err
	}
	defer phone.Close()
	for _, st := range []*store.Store{c1, c2} {
		if err := gen.AddAll(st, m.Members, "bench"); err != nil {
			return err
		}
	}
	for _, st := range []*store.Store{c1, phone} {
		if err := copyKinds(c2, st, incident.KindMember); err != nil {
			return err
		}
	}
	if err := copyKinds(phone, c1, incident.KindMember); err != nil {
		return err
	}
	if !phone.Bounded() {
		return fmt.Errorf("the observer's store is not bounded")
	}
	sp, err := phone.Space()
	if err != nil {
		return err
	}
	budget := sp.Budget

	start := time.Now().Add(-12 * time.Hour)
	var peak uint64
	var dropped, ownIDs, refused int
	var mine []incident.ID
	for done, k := 0, 0; done < total; done, k = done+chunk, k+1 {
		raws, err := m.Sign(gen.Spec{N: chunk, Seed: o.seed + uint64(k)*7919, Start: start.Add(time.Duration(k) * time.Minute), Days: 1})
		if err != nil {
			return err
		}
		res, err := phone.AddMany(raws, "gossip", nil)
		if err != nil {
			return err
		}
		ids := make([]incident.ID, 0, len(raws))
		for i, r := range res {
			switch {
			case r.Outcome == store.Rejected && errors.Is(r.Err, store.ErrBudget):
				refused++ // the budget at work: the coordinators hold it by other paths
			case r.Outcome == store.Rejected:
				return fmt.Errorf("chunk %d record %d: %v", k, i, r.Err)
			}
			ids = append(ids, r.ID)
		}
		for range max(1, own*chunk/total) {
			if ownIDs < own {
				rec, err := phone.Put(incident.KindReport, incident.ReportPayload{Category: "polling.late_opening", Severity: 2,
					Occurred: time.Now().UnixMilli(), Title: fmt.Sprintf("own report %d", ownIDs), Station: "PS-0001"})
				if err != nil {
					return err
				}
				mine = append(mine, rec.ID)
				ownIDs++
			}
		}
		if sp, err := phone.Space(); err == nil && sp.Bytes > peak {
			peak = sp.Bytes
		}
		var receipts [][]byte
		for _, c := range []*store.Store{c1, c2} {
			for i := 0; i < len(ids); i += 1000 {
				list := make([][]byte, 0, 1000)
				for _, id := range ids[i:min(i+1000, len(ids))] {
					list = append(list, id.Bytes())
				}
				r, err := c.Signer().Sign(m.ID, incident.KindReceipt, time.Now(), incident.ReceiptPayload{IDs: list})
				if err != nil {
					return err
				}
				receipts = append(receipts, r.Raw)
			}
		}
		if err := gen.AddAll(phone, receipts, "gossip"); err != nil {
			return err
		}
		pr, err := phone.Prune()
		if err != nil {
			return err
		}
		dropped += pr.Dropped
		if k%10 == 0 {
			logf("scale: %d of %d records through the phone; %s on disk after the prune (peak %s), %d dropped and %d refused for the budget so far",
				done+chunk, total, incident.FormatSize(pr.Bytes), incident.FormatSize(peak), dropped, refused)
		}
	}
	for len(mine) < own {
		rec, err := phone.Put(incident.KindReport, incident.ReportPayload{Category: "polling.late_opening", Severity: 2,
			Occurred: time.Now().UnixMilli(), Title: fmt.Sprintf("own report %d", len(mine)), Station: "PS-0001"})
		if err != nil {
			return err
		}
		mine = append(mine, rec.ID)
	}
	final, err := phone.Space()
	if err != nil {
		return err
	}

	// The phone's own reports reach both desks over the live protocol.
	reconBytes, d, delivered, err := scaleSessions(phone, c1, c2, mine)
	if err != nil {
		return err
	}
	// What the phone keeps, by key table, from the closed store: where
	// the bytes after the last prune go.
	if err := phone.Close(); err != nil {
		return err
	}
	tables, err := tableBytes(filepath.Join(dir, "phone"))
	if err != nil {
		return err
	}
	disk, err := measureDisk(store.DataDir(filepath.Join(dir, "phone")))
	if err != nil {
		return err
	}
	logf("scale: phone closed: %d B on disk (value log %d, SST %d); tables %s", disk.total(), disk.VLog, disk.SST, describeTables(tables))
	params := map[string]any{"records": total, "own": own, "observers": observers, "coordinators": 2, "custody_receipts": sp.Receipts}
	rs.add(Result{Name: "scale.phone_store_bytes", Params: params, Value: float64(peak), Unit: "B",
		Target: fmt.Sprintf("≤ budget %s (and ≤ 150 MB)", incident.FormatSize(budget)), Met: boolp(peak <= budget && peak <= 150e6),
		Note: fmt.Sprintf("the most disk the phone's store took while %d reports by %d observers passed through it in chunks of %d, "+
			"each chunk followed by both coordinators' receipts and a prune (%d refused while the budget was full); at the end it held %d own, %d mission and %d carried records, "+
			"%s on disk, with %d dropped; of its %d reports, %d reached both desks over the live protocol and show held by a coordinator; "+
			"closed: value log %d B, SST %d B; logical bytes by key table: %s",
			total, observers, chunk, refused, final.Own, final.Mission, final.Carried, incident.FormatSize(final.Bytes), final.Dropped, own, delivered,
			disk.VLog, disk.SST, describeTables(tables))}.
		withBaseline("budget", float64(budget)))
	bound := 3*d*32 + 2048
	rs.add(Result{Name: "scale.live_recon_bytes", Params: map[string]any{"d": d, "records": total},
		Value: float64(reconBytes), Unit: "B", Target: fmt.Sprintf("≤ 3×d×32 B + 2 KiB = %d B", bound), Met: boolp(reconBytes <= bound),
		Note: "set reconciliation bytes of one live session between the phone and a coordinator after the phone wrote d new reports (the covering step before it is not counted)"}.
		withBaseline("d × 32 B", float64(d*32)))
	if delivered < own {
		return fmt.Errorf("only %d of the phone's %d reports show held by a coordinator", delivered, own)
	}
	return nil
}

// secondCoordinator enrolls a second coordinator in m, in home.
func secondCoordinator(m *gen.Mission, home string) (*store.Store, error) {
	st, err := store.Init(home, gen.Passphrase, gen.StoreOptions())
	if err != nil {
		return nil, err
	}
	a := st.Author()
	code, err := m.Founder.Invite(store.InviteRequest{Role: incident.RoleCoordinator, Label: "desk two", For: &a})
	if err == nil {
		_, err = st.Join(code)
	}
	if err == nil {
		err = copyKinds(m.Founder, st, incident.Kinds...)
	}
	if err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

// copyKinds adds from's records of kinds to to.
func copyKinds(from, to *store.Store, kinds ...incident.Kind) error {
	for _, k := range kinds {
		recs, err := from.ByKind(k)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if res := to.Add(r.Raw, "bench"); res.Outcome == store.Rejected {
				return fmt.Errorf("%s %s: %v", k, r.ID, res.Err)
			}
		}
	}
	return nil
}

// scaleSessions runs the phone's sessions with both coordinators on
// loopback: its reports reach both, both receipt, the phone learns so;
// then d new reports and one more session, whose reconciliation bytes it
// returns with d and how many of mine show held by a coordinator.
func scaleSessions(phone, c1, c2 *store.Store, mine []incident.ID) (reconBytes, d, delivered int, err error) {
	start := func(st *store.Store, isPhone bool) (*daemon.Mesh, error) {
		key, _, err := crypto.GenerateEd25519Key(rand.Reader)
		if err != nil {
			return nil, err
		}
		return daemon.StartMesh(node.Config{Key: key, Secret: st.Secret(), Phone: isPhone,
			Listen: []ma.Multiaddr{ma.StringCast("/ip4/127.0.0.1/tcp/0")}},
			mesh.Config{Store: st, Interval: time.Hour, ReceiptInterval: time.Hour})
	}
	p, err := start(phone, true)
	if err != nil {
		return 0, 0, 0, err
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var desks []*daemon.Mesh
	for _, st := range []*store.Store{c1, c2} {
		c, err := start(st, false)
		if err != nil {
			return 0, 0, 0, err
		}
		defer c.Close()
		info := peer.AddrInfo{ID: c.Engine.Node().ID(), Addrs: c.Engine.Node().Host().Addrs()}
		if err := p.Engine.Node().Connect(ctx, info); err != nil {
			return 0, 0, 0, err
		}
		if err := p.Engine.Node().WaitAdmitted(ctx, info.ID); err != nil {
			return 0, 0, 0, err
		}
		desks = append(desks, c)
	}
	syncAll := func() error {
		for _, c := range desks {
			if _, err := p.Engine.SyncPeer(ctx, c.Engine.Node().ID()); err != nil {
				return err
			}
		}
		return nil
	}
	if err := syncAll(); err != nil {
		return 0, 0, 0, err
	}
	for i, c := range desks {
		for _, id := range mine {
			if ok, _ := []*store.Store{c1, c2}[i].Has(id); !ok {
				return 0, 0, 0, fmt.Errorf("coordinator %d lacks the phone's report %s", i+1, id)
			}
		}
		if err := c.Engine.IssueReceipt(); err != nil {
			return 0, 0, 0, err
		}
	}
	if err := syncAll(); err != nil {
		return 0, 0, 0, err
	}
	for _, id := range mine {
		if dl, _ := phone.DeliveryOf(id); dl.Coordinator {
			delivered++
		}
	}
	// Signed and stored without the store's publish hook, so gossip does
	// not carry them first: the session must find them.
	d = 10
	ms, err := phone.Mission()
	if err != nil {
		return 0, 0, 0, err
	}
	var late [][]byte
	for i := range d {
		r, err := phone.Signer().Sign(ms.ID, incident.KindReport, time.Now(), incident.ReportPayload{Category: "polling.late_opening",
			Severity: 2, Occurred: time.Now().UnixMilli(), Title: fmt.Sprintf("late report %d", i), Station: "PS-0001"})
		if err != nil {
			return 0, 0, 0, err
		}
		late = append(late, r.Raw)
	}
	if err := gen.AddAll(phone, late, "local"); err != nil {
		return 0, 0, 0, err
	}
	res, err := p.Engine.SyncPeer(ctx, desks[0].Engine.Node().ID())
	if err != nil {
		return 0, 0, 0, err
	}
	return res.ReconBytes, d, delivered, nil
}
