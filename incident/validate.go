package incident

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"
)

// RecordSource finds records a record depends on (an amended report, a
// reviewed report). It returns nil, nil when the record is not held.
type RecordSource interface {
	Get(id ID) (*Signed, error)
}

// Validate decides whether a decoded record is valid in mission ms. It is a
// pure function of the record, the mission records in ms and the records
// src returns: never of the local clock. It returns nil (valid), an error
// for which IsRejected holds (invalid for good: the error names the field
// and the limit), or a *MissingError (judge again when the dependency
// arrives).
func Validate(s *Signed, ms *MissionState, src RecordSource) error {
	if s.Kind == KindMission {
		if s.ID != ms.ID {
			return fieldErr("mission", "genesis %s is another mission than %s", s.ID, ms.ID)
		}
		return nil
	}
	if !bytes.Equal(s.Mission, ms.ID[:]) {
		var other ID
		copy(other[:], s.Mission)
		return fieldErr("mission", "record belongs to mission %s, not %s", other, ms.ID)
	}
	author := s.AuthorKey()
	if !s.Kind.Known() {
		return validateNewerKind(s, ms)
	}
	p, err := s.DecodePayload()
	if err != nil {
		return err
	}
	if s.Kind == KindMember {
		if len(s.Sealed) > 0 {
			return fieldErr("sealed", "member records cannot be sealed")
		}
		return validateMember(author, p.(*MemberPayload), ms)
	}
	role, ok := ms.Role(author)
	if !ok {
		return &MissingError{Author: author}
	}
	if !allowed(role, s.Kind) {
		// Not rejected: a later enrollment may give the author a stronger
		// role, and the verdict must not depend on which arrives first.
		return &MissingError{Author: author, Problem: fmt.Sprintf("%s may not sign %s records", Article(role), s.Kind)}
	}
	if env, ok := p.(*SealedEnvelope); ok {
		if err := checkSealShape(s, env); err != nil {
			return err
		}
		if needsTarget(s.Kind) {
			return checkTarget(s, env.Target, src)
		}
		if s.Kind == KindCapture {
			return checkCaptureTarget(s, env.Target, src)
		}
		if s.Kind == KindNotice && len(env.Target) != 0 {
			// A sealed answer names its alert in the clear, so that the
			// alert's state folds where the answer can be read.
			return checkAck(env.Target, src)
		}
		if len(env.Target) != 0 {
			return fieldErr("payload.target", "a sealed %s has no target", s.Kind)
		}
		return nil
	}
	if _, ok := p.(*InboxPayload); ok {
		return fieldErr("sealed", "an inbox record carries a private key and is always sealed")
	}
	if err := validatePayload(p); err != nil {
		return err
	}
	if r := reportOf(p); r != nil && len(r.Files) > 0 {
		return fieldErr("files", "file keys travel only inside a sealed record")
	}
	switch v := p.(type) {
	case *EpochPayload:
		return checkCauses(v.Cause, src)
	case *AmendPayload:
		return checkTarget(s, v.Target, src)
	case *RetractPayload:
		return checkTarget(s, v.Target, src)
	case *ReviewPayload:
		return checkTarget(s, v.Target, src)
	case *CapturePayload:
		return checkCaptureTarget(s, v.Target, src)
	case *AssignmentPayload:
		// The member posted must be one (its enrollment may arrive later).
		var member Author
		copy(member[:], v.Member)
		if _, ok := ms.Role(member); !ok {
			return &MissingError{Author: member}
		}
	case *NoticePayload:
		if err := ValidateNotice(v, s.Created); err != nil {
			return err
		}
		if v.Ack != nil {
			return checkAck(v.Ack, src)
		}
	}
	return nil
}

// validateNewerKind judges a record of a kind this build does not know by
// what every record obeys: a canonical payload, and an author who is a
// member (any role: the newer build that wrote it knows which roles may).
// Its own rules (fields, targets, permissions) are the newer build's to
// check. Size limits, signature and quotas apply as to any record.
func validateNewerKind(s *Signed, ms *MissionState) error {
	if err := canonicalAny(s.Payload); err != nil {
		return &FieldError{Field: "payload", Problem: err.Error()}
	}
	if _, ok := ms.Role(s.AuthorKey()); !ok {
		return &MissingError{Author: s.AuthorKey()}
	}
	return nil
}

// permissions says which roles may author which kinds (member records are
// authored by the joining device and authorised by their token).
var permissions = map[Kind][]string{
	KindConfig:     {RoleCoordinator},
	KindRevoke:     {RoleCoordinator},
	KindStation:    {RoleCoordinator},
	KindRegistry:   {RoleCoordinator},
	KindAssignment: {RoleCoordinator},
	KindForm:       {RoleCoordinator},
	KindReview:     {RoleCoordinator},
	KindReceipt:    {RoleCoordinator},
	KindCheckpoint: {RoleCoordinator},
	KindConfirm:    {RoleCoordinator},
	KindEpoch:      {RoleCoordinator},
	KindNotice:     {RoleCoordinator},
	KindReport:     {RoleCoordinator, RoleObserver},
	KindAmend:      {RoleCoordinator, RoleObserver},
	KindRetract:    {RoleCoordinator, RoleObserver},
	KindCheckin:    {RoleCoordinator, RoleObserver},
	KindAlert:      {RoleCoordinator, RoleObserver},
	KindTally:      {RoleCoordinator, RoleObserver},
	KindResponse:   {RoleCoordinator, RoleObserver},
	KindAttachment: {RoleCoordinator, RoleObserver},
	KindInbox:      {RoleCoordinator},
	KindCapture:    {RoleCoordinator, RoleObserver},
}

func allowed(role string, k Kind) bool { return slices.Contains(permissions[k], role) }

// Allowed reports whether role may author records of kind k.
func Allowed(role string, k Kind) bool { return k == KindMember || allowed(role, k) }

func sealable(k Kind) bool {
	return k == KindReport || k == KindAmend || k == KindReview || k == KindRetract || k == KindAttachment ||
		k == KindNotice || k == KindAssignment || k == KindTally || k == KindResponse || k == KindInbox ||
		k == KindCapture
}

// checkSealShape checks which seal a sealed record of kind k may carry:
// a compact seal only on CompactKinds, with no target and a bucketed
// length; check-ins and alerts are sealed only compactly (for SMS); an
// inbox record only with age.
func checkSealShape(s *Signed, env *SealedEnvelope) error {
	if !IsCompactSeal(s.Sealed) {
		if !sealable(s.Kind) {
			return fieldErr("sealed", "%s records cannot be sealed", s.Kind)
		}
		return nil
	}
	if !slices.Contains(CompactKinds, s.Kind) {
		return fieldErr("sealed", "%s records cannot carry a compact seal", s.Kind)
	}
	if len(env.Target) != 0 {
		return fieldErr("payload.target", "a compactly sealed %s has no target", s.Kind)
	}
	return checkCompactShape(s.Sealed)
}

func needsTarget(k Kind) bool { return k == KindAmend || k == KindRetract || k == KindReview }

func checkTarget(s *Signed, target []byte, src RecordSource) error {
	id, err := idFromBytes("payload.target", target)
	if err != nil {
		return err
	}
	t, err := src.Get(id)
	if err != nil {
		return fmt.Errorf("look up target %s: %w", id, err)
	}
	if t == nil {
		return &MissingError{Record: id}
	}
	if t.Kind != KindReport {
		return fieldErr("payload.target", "%s is %s record, not a report", id, Article(string(t.Kind)))
	}
	if (s.Kind == KindAmend || s.Kind == KindRetract) && t.AuthorKey() != s.AuthorKey() {
		return fieldErr("author", "only the report's author may %s it", s.Kind)
	}
	return nil
}

// checkCauses checks that an epoch's causes are held revocations or
// confirms.
func checkCauses(causes [][]byte, src RecordSource) error {
	for i, b := range causes {
		var id ID
		copy(id[:], b)
		r, err := src.Get(id)
		if err != nil {
			return fmt.Errorf("look up cause %s: %w", id, err)
		}
		if r == nil {
			return &MissingError{Record: id}
		}
		if r.Kind != KindRevoke && r.Kind != KindConfirm {
			return fieldErr(fmt.Sprintf("payload.cause[%d]", i), "%s is %s record, not a revocation or a confirm", id, Article(string(r.Kind)))
		}
	}
	return nil
}

func validateMember(author Author, p *MemberPayload, ms *MissionState) error {
	t := p.Token
	if !bytes.Equal(t.Mission, ms.ID[:]) {
		return fieldErr("token.mission", "token is for another mission")
	}
	if !slices.Contains(Roles, t.Role) {
		return fieldErr("token.role", "%q is not a role (want coordinator, observer or carrier)", t.Role)
	}
	if len(t.Nonce) != 16 {
		return fieldErr("token.nonce", "must be 16 bytes, got %d", len(t.Nonce))
	}
	if err := checkText("token.label", t.Label, MaxLabelLen, false); err != nil {
		return err
	}
	if len(t.For) != 0 {
		if !bytes.Equal(t.For, author[:]) {
			return fieldErr("token.for", "token is bound to another device key")
		}
	} else if t.Role == RoleCoordinator {
		return fieldErr("token.for", "a coordinator token must be bound to one device key")
	}
	issuer, err := authorFromBytes("token.issuer", t.Issuer)
	if err != nil {
		return err
	}
	if err := checkRedeem(author, p, ms.ID); err != nil {
		return err
	}
	if !verifyToken(t) {
		return fieldErr("token.signature", "does not verify for issuer %s", issuer)
	}
	role, ok := ms.Role(issuer)
	if !ok {
		return &MissingError{Author: issuer}
	}
	if role != RoleCoordinator {
		// As above: the issuer may be made a coordinator by a record not
		// held yet.
		return &MissingError{Author: issuer, Problem: fmt.Sprintf("issuer %s is %s, not a coordinator", issuer, Article(role))}
	}
	return checkText("payload.recipient", p.Recipient, MaxRecipientLen, false)
}

// validatePayload checks one payload on its own: field limits and closed
// vocabularies.
func validatePayload(p any) error {
	switch v := p.(type) {
	case *MissionPayload:
		return validateMission(v)
	case *ConfigPayload:
		if len(v.Categories) > MaxCategories {
			return fieldErr("payload.categories", "%d categories, limit %d", len(v.Categories), MaxCategories)
		}
		for i, c := range v.Categories {
			if !wellFormedCategory(c.Code) {
				return fieldErr(fmt.Sprintf("payload.categories[%d].code", i), "%q is not family.name with a known family", c.Code)
			}
			if FamilyOf(c.Code) != c.Family {
				return fieldErr(fmt.Sprintf("payload.categories[%d].family", i), "%q does not match code %q", c.Family, c.Code)
			}
			if err := checkText(fmt.Sprintf("payload.categories[%d].label", i), c.Label, MaxNameLen, false); err != nil {
				return err
			}
		}
		for i, f := range v.PrivateFields {
			if !slices.Contains(ReportFields, f) {
				return fieldErr(fmt.Sprintf("payload.private_fields[%d]", i), "%q is not a report field", f)
			}
		}
		return validateSettings(v)
	case *RevokePayload:
		if _, err := authorFromBytes("payload.member", v.Member); err != nil {
			return err
		}
		for i, b := range v.Accepted {
			if _, err := idFromBytes(fmt.Sprintf("payload.accepted[%d]", i), b); err != nil {
				return err
			}
		}
		if len(v.Tokens) > MaxEpochCauses {
			return fieldErr("payload.tokens", "%d tokens, limit %d", len(v.Tokens), MaxEpochCauses)
		}
		for i, b := range v.Tokens {
			if _, err := idFromBytes(fmt.Sprintf("payload.tokens[%d]", i), b); err != nil {
				return err
			}
		}
		return checkText("payload.reason", v.Reason, MaxNoteLen, false)
	case *StationPayload:
		if err := checkCode("payload.code", v.Code, true); err != nil {
			return err
		}
		if err := checkText("payload.name", v.Name, MaxNameLen, false); err != nil {
			return err
		}
		if err := checkText("payload.area", v.Area, MaxAreaLen, false); err != nil {
			return err
		}
		if err := checkLatLon(v.Lat, v.Lon); err != nil {
			return err
		}
		return validateStationMore(v)
	case *RegistryPayload:
		return validateRegistry(v)
	case *AssignmentPayload:
		return validateAssignment(v)
	case *TallyPayload:
		return validateTally(v)
	case *FormPayload:
		return validateForm(v)
	case *ResponsePayload:
		return validateResponse(v)
	case *CapturePayload:
		return ValidateCapture(v)
	case *InboxPayload:
		if _, err := InboxKeyFromBytes(v.Key); err != nil {
			return fieldErr("payload.key", "%v", err)
		}
		return nil
	case *ReportPayload:
		return validateReport(v)
	case *AmendPayload:
		return validateReport(&v.Report)
	case *RetractPayload:
		return checkText("payload.reason", v.Reason, MaxNoteLen, true)
	case *ReviewPayload:
		if !slices.Contains(ReviewStatuses, v.Status) {
			return fieldErr("payload.status", "%q is not a review status (want verified, corroborated, rejected or escalated)", v.Status)
		}
		for i, b := range v.Prev {
			if _, err := idFromBytes(fmt.Sprintf("payload.prev[%d]", i), b); err != nil {
				return err
			}
		}
		if v.Publish != nil {
			if _, err := idFromBytes("payload.publish", v.Publish); err != nil {
				return err
			}
		}
		return checkText("payload.note", v.Note, MaxNoteLen, false)
	case *CheckinPayload:
		if !slices.Contains(CheckinStatuses, v.Status) {
			return fieldErr("payload.status", "%q is not a check-in status (want arrived, opened, all_quiet or closed)", v.Status)
		}
		return checkCode("payload.station", v.Station, false)
	case *AlertPayload:
		if err := checkText("payload.note", v.Note, MaxNoteLen, false); err != nil {
			return err
		}
		if err := checkCode("payload.station", v.Station, false); err != nil {
			return err
		}
		return checkLatLon(v.Lat, v.Lon)
	case *ReceiptPayload:
		if len(v.IDs) == 0 {
			return fieldErr("payload.ids", "a receipt lists at least one record")
		}
		for i, b := range v.IDs {
			if _, err := idFromBytes(fmt.Sprintf("payload.ids[%d]", i), b); err != nil {
				return err
			}
		}
		return nil
	case *ConfirmPayload:
		if len(v.Members) == 0 || len(v.Members) > MaxListLen {
			return fieldErr("payload.members", "lists %d member records, want 1 to %d", len(v.Members), MaxListLen)
		}
		for i, b := range v.Members {
			if _, err := idFromBytes(fmt.Sprintf("payload.members[%d]", i), b); err != nil {
				return err
			}
		}
		return nil
	case *EpochPayload:
		if v.Number == 0 {
			return fieldErr("payload.number", "epochs are numbered from 1")
		}
		if len(v.Commit) != 32 {
			return fieldErr("payload.commit", "must be 32 bytes, got %d", len(v.Commit))
		}
		if len(v.Cause) > MaxEpochCauses {
			return fieldErr("payload.cause", "%d records, limit %d", len(v.Cause), MaxEpochCauses)
		}
		for i, b := range v.Cause {
			if _, err := idFromBytes(fmt.Sprintf("payload.cause[%d]", i), b); err != nil {
				return err
			}
		}
		return nil
	case *NoticePayload:
		return nil // needs the record's time: Validate calls ValidateNotice
	case *CheckpointPayload:
		if len(v.Root) != 32 {
			return fieldErr("payload.root", "must be 32 bytes, got %d", len(v.Root))
		}
		return nil
	case *AttachmentPayload:
		if len(v.Hash) != 32 {
			return fieldErr("payload.hash", "must be a 32-byte SHA-256, got %d bytes", len(v.Hash))
		}
		if v.Size > MaxAttachmentSize {
			return fieldErr("payload.size", "%d bytes, limit %d", v.Size, MaxAttachmentSize)
		}
		if err := checkText("payload.mime", v.Mime, MaxCodeLen*4, true); err != nil {
			return err
		}
		if n := (v.Size + AttachmentChunk - 1) / AttachmentChunk; len(v.Chunks) != 0 && uint64(len(v.Chunks)) != n {
			return fieldErr("payload.chunks", "%d chunk hashes for %d chunks", len(v.Chunks), n)
		}
		for _, c := range v.Chunks {
			if len(c) != 32 {
				return fieldErr("payload.chunks", "must be 32-byte SHA-256")
			}
		}
		return checkText("payload.name", v.Name, MaxNameLen, false)
	}
	return fmt.Errorf("no validation for %T", p)
}

// ReportFields are the field names of a report, as exports and the
// mission's private-field policy name them.
var ReportFields = []string{"category", "severity", "occurred", "station", "area", "lat", "lon",
	"precision", "title", "description", "attachments", "channel", "harm", "reach", "source"}

func validateMission(v *MissionPayload) error {
	if err := checkText("payload.name", v.Name, MaxNameLen, true); err != nil {
		return err
	}
	if len(v.Nonce) != 16 {
		return fieldErr("payload.nonce", "must be 16 bytes, got %d", len(v.Nonce))
	}
	if v.Taxonomy == 0 || v.Taxonomy > TaxonomyVersion {
		return fieldErr("payload.taxonomy", "version %d is not known (this build knows 1 to %d)", v.Taxonomy, TaxonomyVersion)
	}
	if err := checkText("payload.label", v.Label, MaxLabelLen, false); err != nil {
		return err
	}
	return checkText("payload.recipient", v.Recipient, MaxRecipientLen, false)
}

// ValidateReport checks a report's fields on their own (the CLI and the app
// call it before signing, so the user sees the same message the network
// would give).
func ValidateReport(r *ReportPayload) error { return validateReport(r) }

func validateReport(r *ReportPayload) error {
	if !wellFormedCategory(r.Category) {
		return fieldErr("category", "%q is not a category code (for example polling.late_opening)", r.Category)
	}
	if r.Severity < 1 || r.Severity > 4 {
		return fieldErr("severity", "is %d, must be 1 to 4", r.Severity)
	}
	if err := checkText("title", r.Title, MaxTitleLen, true); err != nil {
		return err
	}
	if err := checkText("description", r.Description, MaxDescriptionLen, false); err != nil {
		return err
	}
	if err := checkCode("station", r.Station, false); err != nil {
		return err
	}
	if err := checkText("area", r.Area, MaxAreaLen, false); err != nil {
		return err
	}
	if err := checkLatLon(r.Lat, r.Lon); err != nil {
		return err
	}
	if r.Precision > MaxPrecisionM {
		return fieldErr("precision", "is %d m, limit %d m", r.Precision, MaxPrecisionM)
	}
	if r.Precision != 0 && r.Lat == nil {
		return fieldErr("precision", "is set without a location")
	}
	if len(r.Attachments) > MaxAttachments {
		return fieldErr("attachments", "%d attachments, limit %d", len(r.Attachments), MaxAttachments)
	}
	for i, h := range r.Attachments {
		if len(h) != 32 {
			return fieldErr(fmt.Sprintf("attachments[%d]", i), "must be a 32-byte SHA-256, got %d bytes", len(h))
		}
	}
	if err := validateFileKeys(r); err != nil {
		return err
	}
	disinfo := FamilyOf(r.Category) == "disinformation"
	if !disinfo && (r.Channel != "" || r.Harm != "" || r.Reach != 0 || r.Source != "") {
		return fieldErr("channel", "channel, harm, reach and source are for disinformation reports only")
	}
	if r.Channel != "" && !slices.Contains(Channels, r.Channel) {
		return fieldErr("channel", "%q is not a channel (want one of %v)", r.Channel, Channels)
	}
	if r.Harm != "" && !slices.Contains(HarmLevels, r.Harm) {
		return fieldErr("harm", "%q is not a harm level (want low, medium, high or critical)", r.Harm)
	}
	if r.Reach > MaxReach {
		return fieldErr("reach", "is %d, limit %d", r.Reach, uint64(MaxReach))
	}
	return checkText("source", r.Source, MaxSourceLen, false)
}

func checkText(field, s string, limit int, required bool) error {
	if required && s == "" {
		return fieldErr(field, "is required")
	}
	if !utf8.ValidString(s) {
		return fieldErr(field, "is not valid UTF-8")
	}
	if len(s) > limit {
		return fieldErr(field, "is %d bytes, limit %d", len(s), limit)
	}
	for _, r := range s {
		if r == 0 {
			return fieldErr(field, "contains a NUL character")
		}
	}
	return nil
}

func checkCode(field, s string, required bool) error {
	if err := checkText(field, s, MaxCodeLen, required); err != nil {
		return err
	}
	for _, r := range s {
		if r <= ' ' || r == 0x7f {
			return fieldErr(field, "%q contains spaces or control characters", s)
		}
	}
	return nil
}

func checkLatLon(lat, lon *int64) error {
	if (lat == nil) != (lon == nil) {
		return fieldErr("lat", "latitude and longitude go together")
	}
	if lat == nil {
		return nil
	}
	if *lat < -90e6 || *lat > 90e6 {
		return fieldErr("lat", "is %s, must be -90 to 90", FormatMicro(*lat))
	}
	if *lon < -180e6 || *lon > 180e6 {
		return fieldErr("lon", "is %s, must be -180 to 180", FormatMicro(*lon))
	}
	return nil
}

// Article puts "a" or "an" before a role name, for messages.
func Article(word string) string {
	if word != "" && strings.ContainsRune("aeiou", rune(word[0])) {
		return "an " + word
	}
	return "a " + word
}

// Plural is n and a noun, singular for 1: Plural(1, "record") is
// "1 record", Plural(3, "record") "3 records", and a plural that is not
// noun+"s" comes third: Plural(2, "entry", "entries") is "2 entries".
func Plural(n int, noun string, plural ...string) string {
	if n == 1 {
		return "1 " + noun
	}
	if len(plural) > 0 {
		return fmt.Sprintf("%d %s", n, plural[0])
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// Verb is the present-tense verb for a count: Verb(1, "is", "are") is
// "is", Verb(2, "is", "are") "are".
func Verb(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
