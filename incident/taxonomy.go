package incident

import (
	"regexp"
	"slices"
	"strings"
)

// TaxonomyVersion is the version of the built-in taxonomy below. A mission
// records it in its genesis; config records may add categories.
const TaxonomyVersion = 1

// Category is one incident category. Codes are stable identifiers used by
// the CLI, exports and other tools.
type Category struct {
	Code   string `cbor:"1,keyasint" json:"code"`
	Family string `cbor:"2,keyasint" json:"family"`
	Label  string `cbor:"3,keyasint,omitempty" json:"label"`
}

// Families in display order.
var Families = []string{"polling", "registration", "infrastructure", "disinformation", "other"}

// BaseTaxonomy is taxonomy v1.
var BaseTaxonomy = []Category{
	{"polling.late_opening", "polling", "Polling station opened late"},
	{"polling.closure", "polling", "Polling station closed early or shut"},
	{"polling.materials_missing", "polling", "Ballots, ink, register or seals missing"},
	{"polling.intimidation", "polling", "Intimidation of voters or staff"},
	{"polling.violence", "polling", "Violence at or near the station"},
	{"polling.vote_buying", "polling", "Vote buying"},
	{"polling.observer_denied", "polling", "Observers or party agents denied access"},
	{"polling.secrecy_breach", "polling", "Breach of ballot secrecy"},
	{"polling.tally_discrepancy", "polling", "Count or tally sheet discrepancy"},
	{"registration.voter_deleted", "registration", "Registered voter deleted from the register"},
	{"registration.name_missing", "registration", "Voter's name missing from the list"},
	{"registration.wrong_station", "registration", "Voter assigned to the wrong station"},
	{"registration.duplicate_entries", "registration", "Duplicate entries in the register"},
	{"infrastructure.internet_shutdown", "infrastructure", "Mobile data or internet cut"},
	{"infrastructure.sms_blocked", "infrastructure", "SMS blocked"},
	{"infrastructure.power_outage", "infrastructure", "Power outage"},
	{"infrastructure.voting_machine_failure", "infrastructure", "Voting machine or kit failure"},
	{"infrastructure.cyber_attack", "infrastructure", "Cyber attack on election systems"},
	{"disinformation.fabricated_content", "disinformation", "Fabricated content"},
	{"disinformation.manipulated_media", "disinformation", "Manipulated media or deep fake"},
	{"disinformation.impersonation", "disinformation", "Impersonation of the election body or a candidate"},
	{"disinformation.false_voting_info", "disinformation", "False information on when or where to vote"},
	{"disinformation.voter_suppression", "disinformation", "Messages telling voters to stay away"},
	{"disinformation.hate_speech", "disinformation", "Hate speech"},
	{"disinformation.rigging_allegation", "disinformation", "Premature or false claim of rigging"},
	{"disinformation.coordinated_inauthentic", "disinformation", "Bots, fake accounts, troll farms"},
	{"other", "other", "Other"},
}

// Channels, harm levels, review and check-in statuses: closed vocabularies.
var (
	Channels        = []string{"whatsapp", "facebook", "x", "tiktok", "telegram", "sms", "radio", "tv", "print", "word_of_mouth", "other"}
	HarmLevels      = []string{"low", "medium", "high", "critical"}
	ReviewStatuses  = []string{"verified", "corroborated", "rejected", "escalated"}
	CheckinStatuses = []string{"arrived", "opened", "all_quiet", "closed"}
)

// Status of a report: the head of its review chain.
const StatusUnreviewed = "unreviewed"

var categoryCode = regexp.MustCompile(`^[a-z]+(\.[a-z0-9_]+)?$`)

// BaseCategory reports whether code is in the built-in taxonomy.
func BaseCategory(code string) (Category, bool) {
	for _, c := range BaseTaxonomy {
		if c.Code == code {
			return c, true
		}
	}
	return Category{}, false
}

// FamilyOf returns the family part of a category code.
func FamilyOf(code string) string {
	f, _, _ := strings.Cut(code, ".")
	return f
}

// wellFormedCategory reports whether code could name a category: a known
// family, optionally followed by a dot and a lower-case name. Whether a
// mission defines it is a fold-time question (flag unknown_category), so
// validity does not depend on a config record having arrived.
func wellFormedCategory(code string) bool {
	return len(code) <= MaxCategoryLen && categoryCode.MatchString(code) && slices.Contains(Families, FamilyOf(code))
}
