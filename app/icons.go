package app

import "github.com/vigil-mesh/vigil/incident"

// Pictograms for people who read little: every family, category,
// check-in and channel has one, drawn in colour by the emoji font Fyne
// bundles, so nothing depends on the device's fonts.

var familyIcons = map[string]string{
	"polling":        "🗳️",
	"registration":   "📋",
	"infrastructure": "📵",
	"disinformation": "📢",
	"other":          "📌",
	"sealed":         "🔒",
}

var categoryIcons = map[string]string{
	"polling.late_opening":                   "⏰",
	"polling.closure":                        "🚪",
	"polling.materials_missing":              "📦",
	"polling.intimidation":                   "😠",
	"polling.violence":                       "👊",
	"polling.vote_buying":                    "💵",
	"polling.observer_denied":                "🚫",
	"polling.secrecy_breach":                 "👀",
	"polling.tally_discrepancy":              "📊",
	"registration.voter_deleted":             "❌",
	"registration.name_missing":              "🔍",
	"registration.wrong_station":             "🔀",
	"registration.duplicate_entries":         "👥",
	"infrastructure.internet_shutdown":       "📵",
	"infrastructure.sms_blocked":             "💬",
	"infrastructure.power_outage":            "🔌",
	"infrastructure.voting_machine_failure":  "🖥️",
	"infrastructure.cyber_attack":            "👾",
	"disinformation.fabricated_content":      "📰",
	"disinformation.manipulated_media":       "🎭",
	"disinformation.impersonation":           "🎩",
	"disinformation.false_voting_info":       "📅",
	"disinformation.voter_suppression":       "🙅",
	"disinformation.hate_speech":             "👿",
	"disinformation.rigging_allegation":      "⚖️",
	"disinformation.coordinated_inauthentic": "🤖",
	"other":                                  "📌",
}

var checkinIcons = map[string]string{
	"arrived":   "👋",
	"opened":    "🔓",
	"all_quiet": "👍",
	"closed":    "🔒",
}

var channelIcons = map[string]string{
	"whatsapp":      "💬",
	"facebook":      "👍",
	"x":             "🐦",
	"tiktok":        "🎬",
	"telegram":      "✈️",
	"sms":           "✉️",
	"radio":         "📻",
	"tv":            "📺",
	"print":         "📰",
	"word_of_mouth": "🗣️",
	"other":         "📌",
}

var deliveryIcons = map[string]string{
	"local":       "⏳",
	"sent":        "📤",
	"sms":         "✉️",
	"coordinator": "✅",
}

// CategoryIcon is the pictogram of a category code (its family's for
// categories a mission added).
func CategoryIcon(code string) string {
	if s, ok := categoryIcons[code]; ok {
		return s
	}
	return FamilyIcon(incident.FamilyOf(code))
}

// FamilyIcon is the pictogram of a family.
func FamilyIcon(f string) string {
	if s, ok := familyIcons[f]; ok {
		return s
	}
	return "📌"
}
