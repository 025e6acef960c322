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

	// Per-author quotas per UTC day of claimed creation time. They are a
	// flood guard applied when a store admits a record; honest observers
	// stay far below them.
	QuotaRecordsPerDay = 2000
	QuotaBytesPerDay   = 8 << 20

	// ClockSkewFlag is how far a claimed time may lie ahead of the local
	// clock before the record is flagged future_time. Flags never change
	// validity.
	ClockSkewFlag = 10 * time.Minute
)
