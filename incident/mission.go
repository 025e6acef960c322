package incident

import (
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/sha256"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Member is one enrollment: the founder, or a member record.
type Member struct {
	Author    Author `json:"author"`
	Role      string `json:"role"`
	Label     string `json:"label"`
	Record    ID     `json:"record"` // zero for the founder
	Issuer    Author `json:"issuer"`
	TokenID   ID     `json:"-"`
	Invite    Author `json:"-"` // the token's invite key; zero for tokens from before invite keys
	Recipient string `json:"recipient,omitempty"`
	Created   int64  `json:"-"`
}

// Revocation is a decoded revoke record.
type Revocation struct {
	ID       ID
	By       Author
	Member   Author
	Accepted map[ID]bool
	Reason   string
	Created  int64
}

// MissionState holds the mission records that every other record depends
// on: the genesis, the members, the revocations and the configs. It is
// pure data, rebuilt by applying records; the order of Apply calls does not
// change the result. Not safe for concurrent use.
type MissionState struct {
	ID      ID
	Genesis *Signed
	Mission MissionPayload
	Founder Author

	members map[Author][]Member
	tokens  map[ID][]Author
	revoked map[Author][]Revocation
	configs map[ID]configEntry
	policy  *policy

	confirms      map[ID][]confirmRef // member record → the confirms naming it
	epochs        map[ID]Epoch
	revokedTokens map[ID][]Author // token → the revoked members whose revocations name it
}

type configEntry struct {
	id      ID
	author  Author
	created int64
	p       ConfigPayload
}

// NewMissionState starts a state from a genesis record.
func NewMissionState(genesis *Signed) (*MissionState, error) {
	if genesis.Kind != KindMission {
		return nil, fieldErr("kind", "want a mission genesis, got %q", genesis.Kind)
	}
	p, err := genesis.DecodePayload()
	if err != nil {
		return nil, err
	}
	mp, ok := p.(*MissionPayload)
	if !ok {
		return nil, fieldErr("sealed", "a mission genesis cannot be sealed")
	}
	if err := validateMission(mp); err != nil {
		return nil, err
	}
	ms := &MissionState{
		ID: genesis.ID, Genesis: genesis, Mission: *mp, Founder: genesis.AuthorKey(),
		members: map[Author][]Member{}, tokens: map[ID][]Author{},
		revoked: map[Author][]Revocation{}, configs: map[ID]configEntry{},
		confirms: map[ID][]confirmRef{}, epochs: map[ID]Epoch{}, revokedTokens: map[ID][]Author{},
	}
	ms.members[ms.Founder] = []Member{{Author: ms.Founder, Role: RoleCoordinator, Label: mp.Label,
		Recipient: mp.Recipient, Created: genesis.Created}}
	ms.derive()
	return ms, nil
}

var roleRank = map[string]int{RoleCarrier: 1, RoleObserver: 2, RoleCoordinator: 3}

// Role returns the strongest role author holds, if any.
func (ms *MissionState) Role(a Author) (string, bool) {
	best := ""
	for _, m := range ms.members[a] {
		if roleRank[m.Role] > roleRank[best] {
			best = m.Role
		}
	}
	return best, best != ""
}

// Member returns author's enrollment with the strongest role.
func (ms *MissionState) Member(a Author) (Member, bool) {
	var best Member
	for _, m := range ms.members[a] {
		if roleRank[m.Role] > roleRank[best.Role] {
			best = m
		}
	}
	return best, best.Role != ""
}

// Members returns every enrollment, founder first, then by time and ID.
func (ms *MissionState) Members() []Member {
	var out []Member
	for _, list := range ms.members {
		out = append(out, list...)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Record.IsZero() != out[j].Record.IsZero() {
			return out[i].Record.IsZero()
		}
		if out[i].Created != out[j].Created {
			return out[i].Created < out[j].Created
		}
		return string(out[i].Record[:]) < string(out[j].Record[:])
	})
	return out
}

// DuplicateToken reports whether the token behind m was redeemed by more
// than one device and no coordinator has confirmed one redemption yet.
// Every device on it is flagged, and none is admitted to a hello.
func (ms *MissionState) DuplicateToken(m Member) bool {
	return !m.Record.IsZero() && len(ms.tokens[m.TokenID]) > 1 && !ms.tokenConfirmed(m.TokenID)
}

// Revocations returns the revocations naming a.
func (ms *MissionState) Revocations(a Author) []Revocation { return ms.revoked[a] }

// Confirmed reports whether a record by author with the given ID is
// confirmed: every revocation of the author lists the record as accepted
// (if two coordinators revoke each other, both revocations apply), and
// the author's invite is not void (trust.go: revoked with another member
// who redeemed it, cancelled, or confirmed for another device).
func (ms *MissionState) Confirmed(author Author, id ID) bool {
	return ms.accepted(author, id) && ms.inviteFlag(author) == ""
}

// policy is what the configs that count make of the mission: derived
// whenever a config or a revocation is applied (configs are few; folds
// and lists ask for categories once per report), then never changed, so
// clones share it.
type policy struct {
	categories []Category
	category   map[string]int    // code → index in categories
	effective  map[string]string // known setting → the value in force
}

func (ms *MissionState) derive() {
	cats := ms.deriveCategories()
	p := &policy{categories: cats, category: make(map[string]int, len(cats)), effective: map[string]string{}}
	for i, c := range cats {
		p.category[c.Code] = i
	}
	for _, k := range ConfigKeys {
		if strings.HasSuffix(k.Name, ".") {
			continue // a prefix: categories, derived above
		}
		if v, ok := ms.deriveEffective(k.Name); ok {
			p.effective[k.Name] = v
		}
	}
	ms.policy = p
}

// Categories returns the base taxonomy plus every category that configs
// add (category.CODE settings; the latest label of a code wins), in the
// order they were first added.
func (ms *MissionState) Categories() []Category {
	return append([]Category(nil), ms.policy.categories...)
}

func (ms *MissionState) deriveCategories() []Category {
	out := append([]Category(nil), BaseTaxonomy...)
	at := map[string]int{}
	for i, c := range out {
		at[c.Code] = i
	}
	for _, e := range ms.sortedConfigs() {
		for k, label := range sortedAssignments(e.assignments()) {
			code, ok := strings.CutPrefix(k, SettingCategoryPrefix)
			if !ok {
				continue
			}
			if _, err := readSetting(k, label); err != nil {
				continue
			}
			if i, ok := at[code]; ok {
				if i >= len(BaseTaxonomy) {
					out[i].Label = label
				}
				continue
			}
			at[code] = len(out)
			out = append(out, Category{Code: code, Family: FamilyOf(code), Label: label})
		}
	}
	return out
}

// sortedAssignments iterates over a config's assignments by name.
func sortedAssignments(m map[string]string) func(yield func(string, string) bool) {
	return func(yield func(string, string) bool) {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if !yield(k, m[k]) {
				return
			}
		}
	}
}

// Category looks a code up in the mission's taxonomy.
func (ms *MissionState) Category(code string) (Category, bool) {
	if i, ok := ms.policy.category[code]; ok {
		return ms.policy.categories[i], true
	}
	return Category{}, false
}

// SealByDefault is the mission's sealing policy: the latest config that
// sets it, else the genesis.
func (ms *MissionState) SealByDefault() bool {
	if v, ok := ms.effective(SettingSealByDefault); ok {
		return v == "true"
	}
	return ms.Mission.SealByDefault
}

// PrivateFields lists the report fields the mission marks private: the
// latest private_fields setting.
func (ms *MissionState) PrivateFields() []string {
	v, ok := ms.effective(SettingPrivateFields)
	if !ok || v == "" {
		return nil
	}
	return strings.Split(v, ",")
}

// sortedConfigs returns the configs that count, oldest first by (claimed
// time, ID): those whose author's revocations all accept them.
func (ms *MissionState) sortedConfigs() []configEntry {
	list := make([]configEntry, 0, len(ms.configs))
	for _, e := range ms.configs {
		if ms.accepted(e.author, e.id) {
			list = append(list, e)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].created != list[j].created {
			return list[i].created < list[j].created
		}
		return string(list[i].id[:]) < string(list[j].id[:])
	})
	return list
}

// Apply adds a valid mission record (config, member, revoke) to the state.
// Other kinds are ignored. Apply is idempotent and order-free.
func (ms *MissionState) Apply(s *Signed) error {
	switch s.Kind {
	case KindConfig:
		p, err := s.DecodePayload()
		if err != nil {
			return err
		}
		if cp, ok := p.(*ConfigPayload); ok {
			ms.configs[s.ID] = configEntry{id: s.ID, author: s.AuthorKey(), created: s.Created, p: *cp}
			ms.derive()
		}
	case KindMember:
		p, err := s.DecodePayload()
		if err != nil {
			return err
		}
		mp, ok := p.(*MemberPayload)
		if !ok {
			return fieldErr("sealed", "member records cannot be sealed")
		}
		a := s.AuthorKey()
		for _, m := range ms.members[a] {
			if m.Record == s.ID {
				return nil
			}
		}
		issuer, _ := authorFromBytes("token.issuer", mp.Token.Issuer)
		tid := TokenID(mp.Token)
		invite, _ := InviteID(mp.Token)
		ms.members[a] = append(ms.members[a], Member{Author: a, Role: mp.Token.Role, Label: mp.Token.Label,
			Record: s.ID, Issuer: issuer, TokenID: tid, Invite: invite, Recipient: mp.Recipient, Created: s.Created})
		if !containsAuthor(ms.tokens[tid], a) {
			ms.tokens[tid] = append(ms.tokens[tid], a)
		}
	case KindRevoke:
		p, err := s.DecodePayload()
		if err != nil {
			return err
		}
		rp, ok := p.(*RevokePayload)
		if !ok {
			return fieldErr("sealed", "revocations cannot be sealed")
		}
		m, _ := authorFromBytes("member", rp.Member)
		for _, r := range ms.revoked[m] {
			if r.ID == s.ID {
				return nil
			}
		}
		acc := make(map[ID]bool, len(rp.Accepted))
		for _, b := range rp.Accepted {
			var id ID
			copy(id[:], b)
			acc[id] = true
		}
		ms.revoked[m] = append(ms.revoked[m], Revocation{ID: s.ID, By: s.AuthorKey(), Member: m,
			Accepted: acc, Reason: rp.Reason, Created: s.Created})
		for _, b := range rp.Tokens {
			var tid ID
			copy(tid[:], b)
			if !slices.Contains(ms.revokedTokens[tid], m) {
				ms.revokedTokens[tid] = append(ms.revokedTokens[tid], m)
			}
		}
		ms.derive() // a revoked coordinator's configs stop counting
	case KindConfirm:
		p, err := s.DecodePayload()
		if err != nil {
			return err
		}
		cp, ok := p.(*ConfirmPayload)
		if !ok {
			return fieldErr("sealed", "confirms cannot be sealed")
		}
		ref := confirmRef{id: s.ID, author: s.AuthorKey()}
		for _, b := range cp.Members {
			var id ID
			copy(id[:], b)
			if !slices.Contains(ms.confirms[id], ref) {
				ms.confirms[id] = append(ms.confirms[id], ref)
			}
		}
	case KindEpoch:
		p, err := s.DecodePayload()
		if err != nil {
			return err
		}
		ep, ok := p.(*EpochPayload)
		if !ok {
			return fieldErr("sealed", "epochs cannot be sealed")
		}
		e := Epoch{ID: s.ID, Number: ep.Number, By: s.AuthorKey(), Created: s.Created}
		copy(e.Commit[:], ep.Commit)
		ms.epochs[s.ID] = e
	}
	return nil
}

func containsAuthor(list []Author, a Author) bool {
	for _, x := range list {
		if x == a {
			return true
		}
	}
	return false
}

// TokenID names a token: the SHA-256 of its signed encoding.
func TokenID(t Token) ID {
	b, _ := encMode.Marshal(t)
	return sha256.Sum256(b)
}

// SignToken signs an enrollment token as its issuer.
func (s *Signer) SignToken(t Token) Token {
	t.Issuer = s.pub[:]
	t.Sig = nil
	body, _ := encMode.Marshal(t)
	t.Sig = ed25519.Sign(s.priv, append([]byte(tokenDomain), body...))
	return t
}

// verifyToken checks a token's signature by its issuer.
func verifyToken(t Token) bool {
	if len(t.Issuer) != ed25519.PublicKeySize || len(t.Sig) != ed25519.SignatureSize {
		return false
	}
	sig := t.Sig
	t.Sig = nil
	body, err := encMode.Marshal(t)
	if err != nil {
		return false
	}
	return ed25519.Verify(ed25519.PublicKey(t.Issuer), append([]byte(tokenDomain), body...), sig)
}

// Clone returns a copy that later Apply calls on either side do not
// affect, for readers on other goroutines.
func (ms *MissionState) Clone() *MissionState {
	c := *ms
	c.members = make(map[Author][]Member, len(ms.members))
	for k, v := range ms.members {
		c.members[k] = append([]Member(nil), v...)
	}
	c.tokens = make(map[ID][]Author, len(ms.tokens))
	for k, v := range ms.tokens {
		c.tokens[k] = append([]Author(nil), v...)
	}
	c.revoked = make(map[Author][]Revocation, len(ms.revoked))
	for k, v := range ms.revoked {
		c.revoked[k] = append([]Revocation(nil), v...)
	}
	c.configs = maps.Clone(ms.configs)
	c.confirms = make(map[ID][]confirmRef, len(ms.confirms))
	for k, v := range ms.confirms {
		c.confirms[k] = slices.Clone(v)
	}
	c.epochs = maps.Clone(ms.epochs)
	c.revokedTokens = make(map[ID][]Author, len(ms.revokedTokens))
	for k, v := range ms.revokedTokens {
		c.revokedTokens[k] = slices.Clone(v)
	}
	return &c
}

// DefaultAttachmentBudget is how many bytes of attachments a device fetches
// from peers when no config sets a budget.
const DefaultAttachmentBudget = 256 << 20

// AttachmentBudget is the mission's budget: the latest config that sets
// one, else DefaultAttachmentBudget.
func (ms *MissionState) AttachmentBudget() uint64 {
	if v, ok := ms.effective(SettingAttachmentBudget); ok {
		n, _ := strconv.ParseUint(v, 10, 64)
		return n
	}
	return DefaultAttachmentBudget
}

// Custody defaults and bounds (custody.go).
const (
	DefaultCustodyReceipts = 2
	MaxCustodyReceipts     = 16
	DefaultStorageBudget   = 128 << 20
	MinStorageBudget       = 16 << 20
)

// CustodyReceipts is how many distinct coordinators in good standing must
// have receipted a record before a phone carrying it for its author may
// drop it: the latest config that sets it, else DefaultCustodyReceipts.
func (ms *MissionState) CustodyReceipts() int {
	if v, ok := ms.effective(SettingCustodyReceipts); ok {
		if n, err := strconv.Atoi(v); err == nil && n >= 1 && n <= MaxCustodyReceipts {
			return n
		}
	}
	return DefaultCustodyReceipts
}

// StorageBudget is the bytes a bounded device (an observer's or carrier's
// phone) lets its store use: the latest config that sets it, else
// DefaultStorageBudget.
func (ms *MissionState) StorageBudget() uint64 {
	if v, ok := ms.effective(SettingStorageBudget); ok {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil && n >= MinStorageBudget {
			return n
		}
	}
	return DefaultStorageBudget
}

// SMSNumber is the number observers text records to ("" when the
// mission takes no SMS).
func (ms *MissionState) SMSNumber() string {
	v, _ := ms.effective(SettingSMSNumber)
	return v
}

// SMSInbox is the key records for SMS are sealed to (compact seals), when
// the mission has one.
func (ms *MissionState) SMSInbox() (*ecdh.PublicKey, bool) {
	v, ok := ms.effective(SettingSMSInbox)
	if !ok {
		return nil, false
	}
	k, err := ParseInbox(v)
	return k, err == nil
}

// Quota is how much one author may have stored in a mission: records and
// their encoded bytes (limits.go).
type Quota struct {
	Records uint64 `json:"records"`
	Bytes   uint64 `json:"bytes"`
}

// DefaultQuota is a role's quota when no config sets it (limits.go). An
// unknown role (a newer build's) gets the observer's.
func DefaultQuota(role string) Quota {
	switch role {
	case RoleCoordinator:
		return Quota{QuotaCoordinatorRecords, QuotaCoordinatorBytes}
	case RoleCarrier:
		return Quota{QuotaCarrierRecords, QuotaCarrierBytes}
	}
	return Quota{QuotaObserverRecords, QuotaObserverBytes}
}

// Quota is a role's quota in the mission: each half from the latest config
// that sets it, else the default.
func (ms *MissionState) Quota(role string) Quota {
	q := DefaultQuota(role)
	if v, ok := ms.effective(SettingQuota(role, "records")); ok {
		q.Records, _ = strconv.ParseUint(v, 10, 64)
	}
	if v, ok := ms.effective(SettingQuota(role, "bytes")); ok {
		q.Bytes, _ = strconv.ParseUint(v, 10, 64)
	}
	return q
}
