package incident

import "time"

// Limits are part of the record format: every node applies the same numbers,
// so they live here and nowhere else. Changing one is a format change.
const (
	// SchemaVersion is the record schema this code writes and accepts.
	SchemaVersion = 1

	// MaxRecordBytes bounds one signed record's encoding (attachments travel
	// separately, by content hash).
	MaxRecordBytes = 64 << 10
	// MaxSealedBytes bounds the age ciphertext of a sealed payload.
	MaxSealedBytes = 48 << 10

	MaxNameLen        = 200   // mission name, station name
	MaxLabelLen       = 100   // member and invite labels
	MaxTitleLen       = 200   // report title
	MaxDescriptionLen = 10000 // report description
	MaxNoteLen        = 2000  // review, alert and retraction notes
	MaxCodeLen        = 32    // station codes
	MaxCategoryLen    = 64    // category codes (infrastructure.voting_machine_failure is 37)
	MaxAreaLen        = 200   // admin area
	MaxSourceLen      = 500   // disinformation source
	MaxRecipientLen   = 200   // age recipient string
	MaxAttachments    = 8     // attachments per report
	MaxAttachmentSize = 8 << 20
	MaxListLen        = 4096 // IDs in a receipt or a revocation's accepted list
	MaxEpochCauses    = 16   // revocations and confirms an epoch names
	MaxCategories     = 256  // categories one config may add
	MaxReach          = 10_000_000_000
	MaxPrecisionM     = 1_000_000

	// Default per-author quotas, by role, for the whole mission: how many
	// records of one author (and how many bytes of their encodings) a
	// store admits, whatever times they claim. They are a flood guard
	// applied when a store admits a record; the mission's own trust
	// records (MissionKinds) never count. Mission config overrides them
	// (quota.ROLE.records, quota.ROLE.bytes: config.go).
	//
	// An observer files a few hundred records on polling day: 5,000 and
	// 32 MiB leave ten times that. A coordinator writes a review and a
	// receipt for everyone's reports: at a national mission's million
	// records that is about two million records of 0.2 to 1.5 KB, so
	// 3,000,000 and 4 GiB. Receipts are counted rather than exempt, so a
	// seized coordinator's laptop cannot flood with them either. Carriers
	// author nothing but their member record today (a newer build may
	// let them): a small budget.
	QuotaObserverRecords    = 5_000
	QuotaObserverBytes      = 32 << 20
	QuotaCoordinatorRecords = 3_000_000
	QuotaCoordinatorBytes   = 4 << 30
	QuotaCarrierRecords     = 1_000
	QuotaCarrierBytes       = 8 << 20

	// ClockSkewFlag is how far a claimed time may lie ahead of the local
	// clock before the record is flagged future_time. Flags never change
	// validity.
	ClockSkewFlag = 10 * time.Minute
)
