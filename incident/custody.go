package incident

// Custody: what a bounded device (an observer's or carrier's phone) keeps.
// Coordinators' laptops and relays keep every record; a phone keeps the
// mission's own records, the records it authored, and what it carries
// for others until enough coordinators hold it (MissionState
// CustodyReceipts), within its storage budget (StorageBudget). Each kind
// falls in one class.

// CustodyClass says how long a bounded device keeps records of a kind and
// whether they are in the set it reconciles with peers (its live set).
type CustodyClass int

const (
	// CustodyObservation: what members observe and coordinators judge
	// (reports and everything that targets them, check-ins, alerts,
	// tallies, responses, attachments, reviews, and kinds of newer
	// builds). Live, and kept by a phone that carries it, until
	// custody_receipts distinct coordinators in good standing hold it;
	// then dropped by every phone but its author's.
	CustodyObservation CustodyClass = iota
	// CustodyMission: what every device needs to take part (trust and
	// policy records, the station registry, postings, forms, notices,
	// the SMS inbox, checkpoints). Always live, never dropped.
	CustodyMission
	// CustodyReceipt: a coordinator's receipt. Not in the live set: a
	// session's covering step hands each side the receipts that cover
	// its live records. A phone keeps a receipt while it lists a record
	// the phone holds.
	CustodyReceipt
)

// custodyMission lists the kinds of class CustodyMission.
var custodyMission = []Kind{KindMission, KindConfig, KindMember, KindRevoke, KindConfirm, KindEpoch,
	KindStation, KindRegistry, KindAssignment, KindForm, KindNotice, KindInbox, KindCheckpoint}

// Custody is k's class. A kind this build does not know is an
// observation: its author waits for coordinators to hold it like any
// other, and a phone carrying it drops it once they do.
func (k Kind) Custody() CustodyClass {
	switch {
	case k == KindReceipt:
		return CustodyReceipt
	case k.in(custodyMission):
		return CustodyMission
	}
	return CustodyObservation
}

func (k Kind) in(list []Kind) bool {
	for _, x := range list {
		if x == k {
			return true
		}
	}
	return false
}
