package incident

import "fmt"

// Payloads, one type per kind. Field keys are small integers; optional
// fields are omitted when empty, so every payload has one encoding.
// Coordinates are integer microdegrees: no floats on the wire, no NaN.

// MissionPayload is the genesis.
type MissionPayload struct {
	Name          string `cbor:"1,keyasint"`
	Nonce         []byte `cbor:"2,keyasint"` // 16 random bytes: two missions never share an ID
	Taxonomy      uint64 `cbor:"3,keyasint"`
	SealByDefault bool   `cbor:"4,keyasint,omitempty"`
	Recipient     string `cbor:"5,keyasint,omitempty"` // the founding coordinator's age recipient
	Label         string `cbor:"6,keyasint,omitempty"` // the founding coordinator's label
	// Practice marks a training mission (vigil demo, mission create
	// --practice). It is part of the signed genesis, so every member's
	// device shows it and no one can turn a practice mission into a real
	// one, or the reverse, without founding a new mission.
	Practice bool `cbor:"7,keyasint,omitempty"`
}

// ConfigPayload is mission policy, signed by a coordinator. Keys 1 to 4
// are the first format's typed settings, still read; `mission config set`
// writes Settings, a map from setting name to its value as text, so a
// setting a later build adds travels through this one unchanged
// (config.go). Prev lists the config records the writer held and nobody
// had superseded, so concurrent settings show as conflicts.
type ConfigPayload struct {
	Categories       []Category        `cbor:"1,keyasint,omitempty"`
	PrivateFields    []string          `cbor:"2,keyasint,omitempty"`
	SealByDefault    *bool             `cbor:"3,keyasint,omitempty"`
	AttachmentBudget uint64            `cbor:"4,keyasint,omitempty"`
	Settings         map[string]string `cbor:"5,keyasint,omitempty"`
	Prev             [][]byte          `cbor:"6,keyasint,omitempty"`
}

// Roles a member can hold.
const (
	RoleCoordinator = "coordinator"
	RoleObserver    = "observer"
	RoleCarrier     = "carrier"
)

// Roles lists every role.
var Roles = []string{RoleCoordinator, RoleObserver, RoleCarrier}

// Token is a coordinator-signed enrollment token, carried in an invite and
// then inside the member record that redeems it.
type Token struct {
	Mission []byte `cbor:"1,keyasint"`
	Role    string `cbor:"2,keyasint"`
	Label   string `cbor:"3,keyasint,omitempty"`
	Expires int64  `cbor:"4,keyasint,omitempty"` // Unix ms; checked when joining only
	Nonce   []byte `cbor:"5,keyasint"`
	For     []byte `cbor:"6,keyasint,omitempty"` // bound device key (required for coordinators)
	Issuer  []byte `cbor:"7,keyasint"`
	Sig     []byte `cbor:"8,keyasint,omitempty"`
	// Invite is the public half of the invite's one-time key (Ed25519);
	// the code holds the private half, and the member record that redeems
	// the token is countersigned with it (MemberPayload.InviteSig). Tokens
	// from before invite keys have none.
	Invite []byte `cbor:"9,keyasint,omitempty"`
}

// MemberPayload enrolls its record's author.
type MemberPayload struct {
	Token     Token  `cbor:"1,keyasint"`
	Recipient string `cbor:"2,keyasint,omitempty"` // the member's age X25519 recipient
	// InviteSig is the invite key's signature over the mission and the
	// joining author key (RedeemMessage): present exactly when the token
	// names an invite key. Only the code's holder can make it, so a
	// member record that anyone holds cannot enroll anyone else.
	InviteSig []byte `cbor:"3,keyasint,omitempty"`
}

// ConfirmPayload picks, for each invite used by more than one key, the
// redemption a coordinator vouches for: it lists member record IDs, and
// closes each one's invite to every other key.
type ConfirmPayload struct {
	Members [][]byte `cbor:"1,keyasint"`
}

// EpochPayload starts a secret epoch: a coordinator made a new member
// secret and commits to it here (EpochCommit); members hand the secret on
// in hello to members whose standing they checked. Number is one more
// than the highest epoch its author held. Cause lists the revoke or
// confirm records that ended someone's standing and so started it: the
// epoch depends on them, so no device holds the epoch (and hands its
// secret on) without them.
type EpochPayload struct {
	Number uint64   `cbor:"1,keyasint"`
	Commit []byte   `cbor:"2,keyasint"`
	Cause  [][]byte `cbor:"3,keyasint,omitempty"`
}

// RevokePayload revokes a member (or, naming an invite key, cancels that
// invite); Accepted lists the IDs of that member's records that stay
// confirmed. Tokens names the member's enrollment tokens (TokenID): each
// is void for any other key that redeems it, even on a device that never
// received the revoked member's own record.
type RevokePayload struct {
	Member   []byte   `cbor:"1,keyasint"`
	Accepted [][]byte `cbor:"2,keyasint,omitempty"`
	Reason   string   `cbor:"3,keyasint,omitempty"`
	Tokens   [][]byte `cbor:"4,keyasint,omitempty"`
}

// StationPayload is a polling-station registry entry.
type StationPayload struct {
	Code string `cbor:"1,keyasint"`
	Name string `cbor:"2,keyasint,omitempty"`
	Area string `cbor:"3,keyasint,omitempty"`
	Lat  *int64 `cbor:"4,keyasint,omitempty"`
	Lon  *int64 `cbor:"5,keyasint,omitempty"`
	// Admin is the station's administrative path, widest first (region,
	// district, ward): what coverage is counted by.
	Admin []string `cbor:"6,keyasint,omitempty"`
	// Registered is the number of voters on the station's register (0:
	// not given).
	Registered uint64 `cbor:"7,keyasint,omitempty"`
	// Tags mark a station: "pvt" (in the quick-count sample),
	// "stratum=NAME" (its stratum), or the mission's own words.
	Tags []string `cbor:"8,keyasint,omitempty"`
	// Snapshot names the registry import the station belongs to (a
	// registry record's snapshot); empty for a station signed on its own.
	Snapshot []byte `cbor:"9,keyasint,omitempty"`
}

// RegistryPayload closes one registry import (a snapshot): its stations
// are the station records that name Snapshot, Count of them, whose IDs,
// sorted and concatenated, hash (SHA-256) to Root. The newest complete
// snapshot is the mission's registry (registry.go).
type RegistryPayload struct {
	Snapshot []byte `cbor:"1,keyasint"` // 32 random bytes
	Count    uint64 `cbor:"2,keyasint"`
	Root     []byte `cbor:"3,keyasint"`
}

// TallyPayload copies one contest's result sheet at one station, as
// the observer read it at the count: the sheet's own numbers, whether or
// not they add up (tally.go checks them and flags, never refuses).
type TallyPayload struct {
	Station    string      `cbor:"1,keyasint"`
	Contest    string      `cbor:"2,keyasint"` // "presidential", "parliamentary Kibra"
	Registered uint64      `cbor:"3,keyasint"` // voters on the register
	Issued     uint64      `cbor:"4,keyasint"` // ballots issued
	Cast       uint64      `cbor:"5,keyasint"` // ballots found in the box
	Invalid    uint64      `cbor:"6,keyasint"`
	Blank      uint64      `cbor:"7,keyasint"`
	Votes      []VoteCount `cbor:"8,keyasint"` // per candidate or party, in the sheet's order
	// Photos are the SHA-256 hashes of the sheet's photos (attachment
	// records carry the files; a sealed tally's photos are named by the
	// hash of their ciphertext, as a sealed report's files are); none
	// when the tally came by SMS.
	Photos [][]byte `cbor:"9,keyasint,omitempty"`
	// Files are the keys of a sealed tally's photos, as a sealed report's
	// key 17: only ever inside a sealed payload.
	Files []FileKey `cbor:"10,keyasint,omitempty"`
}

// VoteCount is one choice's votes on a result sheet.
type VoteCount struct {
	Choice string `cbor:"1,keyasint"`
	Votes  uint64 `cbor:"2,keyasint"`
}

// AssignmentPayload posts a member to a station (Station empty: to none).
// The latest assignment of a member, by claimed time then ID, is in
// force. Where the mission seals, it is sealed to the coordinators and
// the member (who is posted where is what a seized phone must not
// reveal).
type AssignmentPayload struct {
	Member  []byte `cbor:"1,keyasint"` // the member's author key
	Station string `cbor:"2,keyasint,omitempty"`
	Note    string `cbor:"3,keyasint,omitempty"`
}

// ReportPayload is an incident report; amendments carry a whole new one.
type ReportPayload struct {
	Category    string   `cbor:"1,keyasint"`
	Severity    uint64   `cbor:"2,keyasint"`
	Occurred    int64    `cbor:"3,keyasint"` // Unix ms
	Station     string   `cbor:"4,keyasint,omitempty"`
	Area        string   `cbor:"5,keyasint,omitempty"`
	Lat         *int64   `cbor:"6,keyasint,omitempty"` // microdegrees
	Lon         *int64   `cbor:"7,keyasint,omitempty"`
	Precision   uint64   `cbor:"8,keyasint,omitempty"` // metres
	Title       string   `cbor:"9,keyasint"`
	Description string   `cbor:"10,keyasint,omitempty"`
	Attachments [][]byte `cbor:"11,keyasint,omitempty"` // SHA-256 content hashes
	Channel     string   `cbor:"12,keyasint,omitempty"` // disinformation only
	Harm        string   `cbor:"13,keyasint,omitempty"`
	Reach       uint64   `cbor:"14,keyasint,omitempty"`
	Source      string   `cbor:"15,keyasint,omitempty"`
	// Files are the keys of a sealed report's files (SealFile), one per
	// attachment it names by ciphertext hash. Only ever inside a sealed
	// payload. Key 16 stays unused: the recorded compatibility records
	// (testdata/formatv0) stand for a newer build's field there.
	Files []FileKey `cbor:"17,keyasint,omitempty"`
}

// AmendPayload replaces a report's fields.
type AmendPayload struct {
	Target []byte        `cbor:"1,keyasint"`
	Report ReportPayload `cbor:"2,keyasint"`
}

// RetractPayload withdraws a report.
type RetractPayload struct {
	Target []byte `cbor:"1,keyasint"`
	Reason string `cbor:"2,keyasint"`
}

// ReviewPayload is a coordinator's verdict. Prev lists the review heads the
// reviewer saw, so concurrent reviews are detectable. Publish, when set,
// approves the free text of one version of the report for public exports:
// it names the record (the report, or the amendment) whose title,
// description and source the reviewer read. An amendment made after it
// is a version nobody approved (ReportView.TextApproved).
type ReviewPayload struct {
	Target  []byte   `cbor:"1,keyasint"`
	Status  string   `cbor:"2,keyasint"`
	Note    string   `cbor:"3,keyasint,omitempty"`
	Prev    [][]byte `cbor:"4,keyasint,omitempty"`
	Publish []byte   `cbor:"5,keyasint,omitempty"`
}

// CheckinPayload is an observer's presence signal.
type CheckinPayload struct {
	Status  string `cbor:"1,keyasint"`
	Station string `cbor:"2,keyasint,omitempty"`
}

// AlertPayload is an SOS.
type AlertPayload struct {
	Note    string `cbor:"1,keyasint,omitempty"`
	Station string `cbor:"2,keyasint,omitempty"`
	Lat     *int64 `cbor:"3,keyasint,omitempty"`
	Lon     *int64 `cbor:"4,keyasint,omitempty"`
}

// ReceiptPayload confirms that a coordinator's node holds records.
type ReceiptPayload struct {
	IDs [][]byte `cbor:"1,keyasint"`
}

// CheckpointPayload is a signed set root, published out of band.
type CheckpointPayload struct {
	Root  []byte `cbor:"1,keyasint"`
	Count uint64 `cbor:"2,keyasint"`
}

// AttachmentPayload is the manifest of one attached file. For a sealed
// report's file it describes the ciphertext alone: no name, a type that
// says nothing (SealedFileMime), the padded size.
type AttachmentPayload struct {
	Hash []byte `cbor:"1,keyasint"` // SHA-256 of the content
	Size uint64 `cbor:"2,keyasint"`
	Mime string `cbor:"3,keyasint"`
	Name string `cbor:"4,keyasint,omitempty"`
	// Chunks are the SHA-256 of each AttachmentChunk of the content, so a
	// receiver checks every chunk as it arrives (older manifests lack
	// them: their content is checked whole).
	Chunks [][]byte `cbor:"5,keyasint,omitempty"`
}

// SealedEnvelope is the public payload of a sealed record: only what the
// fold needs to attach it to its report, never its content.
type SealedEnvelope struct {
	Target []byte `cbor:"1,keyasint,omitempty"`
}

// InboxPayload hands the coordinators the mission's SMS inbox key: the
// private X25519 key that opens compact seals. An inbox record is always
// sealed (with age, to the coordinators of the day); the public half is
// the sms_inbox setting.
type InboxPayload struct {
	Key []byte `cbor:"1,keyasint"` // 32 bytes
}

// newPayload returns a pointer to the zero payload of kind k.
func newPayload(k Kind) any {
	switch k {
	case KindMission:
		return new(MissionPayload)
	case KindConfig:
		return new(ConfigPayload)
	case KindMember:
		return new(MemberPayload)
	case KindRevoke:
		return new(RevokePayload)
	case KindStation:
		return new(StationPayload)
	case KindReport:
		return new(ReportPayload)
	case KindAmend:
		return new(AmendPayload)
	case KindRetract:
		return new(RetractPayload)
	case KindReview:
		return new(ReviewPayload)
	case KindCheckin:
		return new(CheckinPayload)
	case KindAlert:
		return new(AlertPayload)
	case KindReceipt:
		return new(ReceiptPayload)
	case KindCheckpoint:
		return new(CheckpointPayload)
	case KindAttachment:
		return new(AttachmentPayload)
	case KindConfirm:
		return new(ConfirmPayload)
	case KindEpoch:
		return new(EpochPayload)
	case KindNotice:
		return new(NoticePayload)
	case KindRegistry:
		return new(RegistryPayload)
	case KindAssignment:
		return new(AssignmentPayload)
	case KindTally:
		return new(TallyPayload)
	case KindForm:
		return new(FormPayload)
	case KindResponse:
		return new(ResponsePayload)
	case KindInbox:
		return new(InboxPayload)
	case KindCapture:
		return new(CapturePayload)
	}
	return nil
}

// DecodePayload decodes a record's payload into its kind's type (a
// *SealedEnvelope for a sealed record), canonically. Fields a newer build
// added are skipped (Newer lists them); a kind this build does not know
// gives ErrNewerKind.
func (s *Signed) DecodePayload() (any, error) {
	p, _, err := s.decodePayload()
	return p, err
}

// DecodePayloadNewer is DecodePayload that also lists the fields a newer
// build added, by path.
func (s *Signed) DecodePayloadNewer() (any, []string, error) { return s.decodePayload() }

func (s *Signed) decodePayload() (any, []string, error) {
	var p any
	if len(s.Sealed) > 0 {
		p = new(SealedEnvelope)
	} else if p = newPayload(s.Kind); p == nil {
		return nil, nil, fmt.Errorf("%w: %s", ErrNewerKind, s.Kind)
	}
	newer, err := decodeChecked(s.Payload, p, s.own)
	if err != nil {
		return nil, nil, &FieldError{Field: "payload", Problem: err.Error()}
	}
	return p, newer, nil
}
