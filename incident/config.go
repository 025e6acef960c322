package incident

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Mission configuration. A config record assigns values to named settings;
// for each setting the latest assignment by (claimed time, ID) wins, among
// the configs of coordinators whose records are confirmed (a revoked
// coordinator's unaccepted config changes nothing). The genesis gives the
// first value of seal_by_default. Values travel as text in
// ConfigPayload.Settings, so a setting this build does not know, written
// by a newer one, is kept, shown and forwarded, never dropped; a known
// setting whose value this build cannot read is shown with the problem and
// has no effect. Only `mission config set` checks values strictly, before
// it signs.

// Limits on settings (part of the record format, like limits.go).
const (
	MaxSettings      = 64   // settings one config record assigns
	MaxSettingKeyLen = 96   // "category." and a category code
	MaxSettingLen    = 1000 // one value, in bytes
)

// Setting names this build knows.
const (
	SettingSealByDefault    = "seal_by_default"
	SettingPrivateFields    = "private_fields"
	SettingAttachmentBudget = "attachment_budget"
	SettingSMSNumber        = "sms_number" // the number observers text records to
	SettingSMSInbox         = "sms_inbox"  // the public key compact seals are sealed to (smsseal.go)
	SettingCustodyReceipts  = "custody_receipts"
	SettingStorageBudget    = "storage_budget"
	// SettingCategoryPrefix names a taxonomy addition: category.CODE=LABEL.
	SettingCategoryPrefix = "category."
)

// SettingQuota names a role's quota setting: quota.ROLE.records (records
// one author of the role may have stored in the mission) or
// quota.ROLE.bytes (their encoded bytes). See limits.go for the defaults.
func SettingQuota(role, what string) string { return "quota." + role + "." + what }

// ConfigKey describes a setting this build knows, for help and checks.
type ConfigKey struct {
	Name  string // or a prefix ending in "."
	Value string // the value's form, for help
	Help  string
	Size  bool // the value is a byte count (FormatSize prints it)
	// parse checks a value as typed by a coordinator and returns the
	// text to sign (canonical: "1048576", not "1MiB").
	parse func(name, value string) (string, error)
	// read, when set, reads a signed value more leniently than parse
	// (see readSetting).
	read func(value string) (string, error)
}

// ConfigKeys lists the settings this build knows.
var ConfigKeys = append(append([]ConfigKey{
	{Name: SettingSealByDefault, Value: "true|false",
		Help:  "seal new reports to the coordinators unless the observer chooses otherwise",
		parse: parseBool},
	{Name: SettingPrivateFields, Value: "FIELD,...",
		Help:  "report fields left out of public exports (" + strings.Join(ReportFields, ", ") + "); empty: none",
		parse: parsePrivateFields, read: readPrivateFields},
	{Name: SettingAttachmentBudget, Value: "SIZE", Size: true,
		Help:  "bytes of other members' attachments a device fetches (for example 256MiB; default " + strconv.Itoa(DefaultAttachmentBudget>>20) + "MiB)",
		parse: parseSize},
	{Name: SettingSMSNumber, Value: "NUMBER",
		Help:  "the number observers send records to by SMS, in international form (+254712345678) or a short code; setting it also makes the SMS inbox key",
		parse: parseSMSNumber},
	{Name: SettingSMSInbox, Value: "KEY",
		Help:  "the SMS inbox key records for SMS are sealed to (made and set with sms_number; give a new one only with `vigil sms key rotate`)",
		parse: parseSMSInbox},
	{Name: SettingCustodyReceipts, Value: "COUNT",
		Help: "distinct coordinators whose receipts must list a record before phones that carry it for others may drop it (1-" +
			strconv.Itoa(MaxCustodyReceipts) + "; default " + strconv.Itoa(DefaultCustodyReceipts) + ", so one seized laptop loses nothing)",
		parse: parseCustodyReceipts},
	{Name: SettingStorageBudget, Value: "SIZE", Size: true,
		Help: "bytes an observer's or carrier's phone lets Vigil use; past it, the phone carries no more records for others " +
			"until coordinators hold what it carries (default " + strconv.Itoa(DefaultStorageBudget>>20) + "MiB)",
		parse: parseStorageBudget},
}, quotaKeys()...), ConfigKey{Name: SettingCategoryPrefix, Value: "LABEL",
	Help:  "add a category to the taxonomy: category.FAMILY.NAME=\"Label\" (families: " + strings.Join(Families, ", ") + ")",
	parse: parseCategory})

// quotaKeys are the quota settings, two per role.
func quotaKeys() []ConfigKey {
	var out []ConfigKey
	for _, role := range Roles {
		q := DefaultQuota(role)
		out = append(out,
			ConfigKey{Name: SettingQuota(role, "records"), Value: "COUNT",
				Help: fmt.Sprintf("records one %s may author in the whole mission, whatever days they claim "+
					"(trust records aside); devices refuse the rest and stop asking peers for them (default %d)", role, q.Records),
				parse: parseCount},
			ConfigKey{Name: SettingQuota(role, "bytes"), Value: "SIZE", Size: true,
				Help:  fmt.Sprintf("bytes of records one %s may author in the mission (default %s)", role, strings.ReplaceAll(FormatSize(q.Bytes), " ", "")),
				parse: parsePositiveSize})
	}
	return out
}

// LookupConfigKey finds the registry entry for a setting name: an exact
// name, or a prefix ending in ".".
func LookupConfigKey(name string) (ConfigKey, bool) {
	for _, k := range ConfigKeys {
		if k.Name == name || (strings.HasSuffix(k.Name, ".") && strings.HasPrefix(name, k.Name)) {
			return k, true
		}
	}
	return ConfigKey{}, false
}

// ConfigError says which setting of a `config set` is wrong and why.
type ConfigError struct {
	Key     string
	Problem string
}

func (e *ConfigError) Error() string { return e.Key + ": " + e.Problem }

// ParseSettings reads KEY=VALUE arguments as a coordinator types them and
// returns the settings to sign, each value in its canonical form. The
// first bad argument gives a *ConfigError naming its key.
func ParseSettings(args []string) (map[string]string, error) {
	if len(args) == 0 {
		return nil, &ConfigError{Key: "settings", Problem: "give at least one KEY=VALUE"}
	}
	if len(args) > MaxSettings {
		return nil, &ConfigError{Key: "settings", Problem: fmt.Sprintf("%d settings in one record, limit %d", len(args), MaxSettings)}
	}
	out := map[string]string{}
	for _, a := range args {
		name, value, ok := strings.Cut(a, "=")
		name = strings.TrimSpace(name)
		if !ok {
			return nil, &ConfigError{Key: name, Problem: "want KEY=VALUE"}
		}
		if _, dup := out[name]; dup {
			return nil, &ConfigError{Key: name, Problem: "given twice"}
		}
		k, known := LookupConfigKey(name)
		if !known {
			return nil, &ConfigError{Key: name, Problem: "not a setting this build knows (" + knownNames() + ")"}
		}
		v, err := k.parse(name, strings.TrimSpace(value))
		if err != nil {
			return nil, &ConfigError{Key: name, Problem: err.Error()}
		}
		if err := checkText(name, v, MaxSettingLen, false); err != nil {
			return nil, &ConfigError{Key: name, Problem: err.(*FieldError).Problem}
		}
		out[name] = v
	}
	return out, nil
}

func knownNames() string {
	names := make([]string, len(ConfigKeys))
	for i, k := range ConfigKeys {
		names[i] = k.Name
		if k.Name == SettingCategoryPrefix {
			names[i] += "FAMILY.NAME"
		}
	}
	return strings.Join(names, ", ")
}

func parseBool(_, v string) (string, error) {
	switch strings.ToLower(v) {
	case "true", "yes", "on", "1":
		return "true", nil
	case "false", "no", "off", "0":
		return "false", nil
	}
	return "", fmt.Errorf("%q is not true or false", v)
}

func parsePrivateFields(_, v string) (string, error) {
	var out []string
	for f := range strings.SplitSeq(v, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !slices.Contains(ReportFields, f) {
			return "", fmt.Errorf("%q is not a report field (want some of %s)", f, strings.Join(ReportFields, ", "))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return strings.Join(out, ","), nil
}

// readPrivateFields reads a signed private_fields value: the report
// fields this build knows stay private, and names it does not know (fields
// a newer build added, which its reports cannot hold) are passed over.
// Failing the whole value instead would make an older value apply, and a
// newer coordinator's "lat,lon,newfield" would publish lat and lon here.
func readPrivateFields(v string) (string, error) {
	var out []string
	for f := range strings.SplitSeq(v, ",") {
		if f == "" || !wellFormedSettingName(f) {
			return "", fmt.Errorf("%q is not a list of field names", v)
		}
		if slices.Contains(ReportFields, f) && !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return strings.Join(out, ","), nil
}

// MaxAttachmentBudget bounds the attachment_budget setting (1 TiB).
const MaxAttachmentBudget = 1 << 40

// ParseSize reads a byte count as people write it: a number, optionally
// followed by B, KB, KiB, MB, MiB, GB or GiB (at most 1 TiB).
func ParseSize(v string) (uint64, error) {
	n, err := parseSize("", v)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(n, 10, 64)
}

// parseSize reads a byte count: a number, optionally followed by B, KB,
// KiB, MB, MiB, GB or GiB.
func parseSize(_, v string) (string, error) {
	s := strings.TrimSpace(v)
	num := strings.TrimRightFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	unit := strings.ToLower(strings.TrimSpace(s[len(num):]))
	mult := map[string]uint64{"": 1, "b": 1, "kb": 1e3, "kib": 1 << 10, "mb": 1e6, "mib": 1 << 20, "gb": 1e9, "gib": 1 << 30}[unit]
	n, err := strconv.ParseUint(num, 10, 64)
	if err != nil || mult == 0 {
		return "", fmt.Errorf("%q is not a size (for example 256MiB)", v)
	}
	if n > MaxAttachmentBudget/mult {
		return "", fmt.Errorf("%s is more than the limit of 1 TiB", v)
	}
	return strconv.FormatUint(n*mult, 10), nil
}

// MaxQuotaRecords bounds the quota.ROLE.records settings.
const MaxQuotaRecords = 1 << 40

// parseSMSNumber reads a phone number as people write it (+254 712 345
// 678, +254-712-345678) into its international form, or a short code of
// 3 to 8 digits.
func parseSMSNumber(_, v string) (string, error) {
	if v == "" {
		return "", nil // clears it: no SMS
	}
	digits := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '(' || r == ')' || r == '.' {
			return -1
		}
		return r
	}, v)
	plus := strings.HasPrefix(digits, "+")
	digits = strings.TrimPrefix(digits, "+")
	for _, r := range digits {
		if r < '0' || r > '9' {
			return "", fmt.Errorf("%q is not a phone number: want +COUNTRY NUMBER (+254712345678) or a short code", v)
		}
	}
	switch {
	case plus && len(digits) >= 7 && len(digits) <= 15:
		return "+" + digits, nil
	case !plus && len(digits) >= 3 && len(digits) <= 8:
		return digits, nil
	}
	return "", fmt.Errorf("%q is not a phone number: want + and 7 to 15 digits (+254712345678), or a short code of 3 to 8 digits", v)
}

func parseSMSInbox(_, v string) (string, error) {
	if _, err := ParseInbox(v); err != nil {
		return "", err
	}
	return v, nil
}

// parseCount reads a positive count of records.
func parseCount(_, v string) (string, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	switch {
	case err != nil:
		return "", fmt.Errorf("%q is not a count (for example 5000)", v)
	case n == 0:
		return "", fmt.Errorf("a quota of 0 would refuse every record; give at least 1")
	case n > MaxQuotaRecords:
		return "", fmt.Errorf("%d is more than the limit of %d", n, uint64(MaxQuotaRecords))
	}
	return strconv.FormatUint(n, 10), nil
}

// parseCustodyReceipts reads custody_receipts: 1 to MaxCustodyReceipts.
func parseCustodyReceipts(_, v string) (string, error) {
	n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
	if err != nil || n < 1 || n > MaxCustodyReceipts {
		return "", fmt.Errorf("%q is not a count of coordinators from 1 to %d", v, MaxCustodyReceipts)
	}
	return strconv.FormatUint(n, 10), nil
}

// parseStorageBudget reads storage_budget: at least MinStorageBudget, so a
// typing slip cannot make every phone refuse the mission's own records'
// neighbours.
func parseStorageBudget(name, v string) (string, error) {
	n, err := parseSize(name, v)
	if err != nil {
		return "", err
	}
	if b, _ := strconv.ParseUint(n, 10, 64); b < MinStorageBudget {
		return "", fmt.Errorf("%s is less than the least budget of %s", v, FormatSize(MinStorageBudget))
	}
	return n, nil
}

// parsePositiveSize is parseSize for quotas: 0 is refused.
func parsePositiveSize(name, v string) (string, error) {
	n, err := parseSize(name, v)
	if err == nil && n == "0" {
		return "", fmt.Errorf("a quota of 0 bytes would refuse every record; give at least 1")
	}
	return n, err
}

func parseCategory(name, v string) (string, error) {
	code := strings.TrimPrefix(name, SettingCategoryPrefix)
	if !wellFormedCategory(code) {
		return "", fmt.Errorf("%q is not FAMILY.NAME with a family of %s", code, strings.Join(Families, ", "))
	}
	if _, ok := BaseCategory(code); ok {
		return "", fmt.Errorf("%s is part of the base taxonomy already", code)
	}
	if v == "" {
		return "", fmt.Errorf("give the category a label")
	}
	for _, r := range v {
		if r < ' ' || r == 0x7f {
			return "", fmt.Errorf("the label contains a line break or control character")
		}
	}
	if len(v) > MaxNameLen {
		return "", fmt.Errorf("label is %d bytes, limit %d", len(v), MaxNameLen)
	}
	return v, nil
}

// validateSettings checks the shape of a config's settings and prev list:
// the rules every build applies, whatever settings it knows. Values of
// known settings are not judged here (see readSetting): a newer build may
// write a value this one cannot read, and that must not make the record
// invalid.
func validateSettings(v *ConfigPayload) error {
	if len(v.Settings) > MaxSettings {
		return fieldErr("payload.settings", "%d settings, limit %d", len(v.Settings), MaxSettings)
	}
	for k, val := range v.Settings {
		if !wellFormedSettingName(k) {
			return fieldErr("payload.settings", "%q is not a setting name (1 to %d lowercase letters, digits, _ or .)", k, MaxSettingKeyLen)
		}
		if err := checkText("payload.settings."+k, val, MaxSettingLen, false); err != nil {
			return err
		}
	}
	if len(v.Prev) > MaxListLen {
		return fieldErr("payload.prev", "%d entries, limit %d", len(v.Prev), MaxListLen)
	}
	for i, b := range v.Prev {
		if _, err := idFromBytes(fmt.Sprintf("payload.prev[%d]", i), b); err != nil {
			return err
		}
	}
	return nil
}

func wellFormedSettingName(k string) bool {
	if len(k) == 0 || len(k) > MaxSettingKeyLen || k[0] < 'a' || k[0] > 'z' {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' && c != '.' {
			return false
		}
	}
	return true
}

// Setting is one setting's current value in a mission.
type Setting struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	// Known: this build knows the setting. An unknown one was written by
	// a newer build; it is shown and kept, and has no effect here.
	Known bool `json:"known"`
	// Problem: a known setting whose value this build cannot read (it has
	// no effect; a newer build may read it).
	Problem string `json:"problem,omitempty"`
	By      Author `json:"by"`
	At      int64  `json:"-"`
	Record  ID     `json:"record"` // the config (or genesis) that set it
	// Conflicts are other values of the setting written by configs the
	// winning one did not see (coordinators who set it concurrently).
	Conflicts []Setting `json:"conflicts,omitempty"`
}

// assignment is one config's value for one setting.
type assignment struct {
	entry *configEntry
	value string
}

// assignments returns what one config record sets: its Settings, and the
// first format's typed fields under their setting names.
func (e *configEntry) assignments() map[string]string {
	out := map[string]string{}
	p := &e.p
	for _, c := range p.Categories {
		out[SettingCategoryPrefix+c.Code] = c.Label
	}
	if len(p.PrivateFields) > 0 {
		out[SettingPrivateFields] = strings.Join(p.PrivateFields, ",")
	}
	if p.SealByDefault != nil {
		out[SettingSealByDefault] = strconv.FormatBool(*p.SealByDefault)
	}
	if p.AttachmentBudget != 0 {
		out[SettingAttachmentBudget] = strconv.FormatUint(p.AttachmentBudget, 10)
	}
	for k, v := range p.Settings {
		out[k] = v
	}
	return out
}

// Settings returns every setting assigned in the mission, by name: the
// winning value, who set it and when, and conflicting values.
func (ms *MissionState) Settings() []Setting {
	configs := ms.sortedConfigs() // oldest first
	byKey := map[string][]assignment{}
	for i := range configs {
		for k, v := range configs[i].assignments() {
			byKey[k] = append(byKey[k], assignment{&configs[i], v})
		}
	}
	var out []Setting
	if _, ok := byKey[SettingSealByDefault]; !ok {
		out = append(out, Setting{Key: SettingSealByDefault, Value: strconv.FormatBool(ms.Mission.SealByDefault),
			Known: true, By: ms.Founder, At: ms.Genesis.Created, Record: ms.ID})
	}
	for k, list := range byKey {
		win := list[len(list)-1]
		s := ms.setting(k, win)
		seen := ms.ancestors(win.entry)
		for _, a := range list[:len(list)-1] {
			if a.value == win.value || seen[a.entry.id] {
				continue
			}
			// A config without Prev (the first format) says nothing of
			// what its writer saw: only another coordinator's differing
			// value counts as a conflict against it.
			if len(win.entry.p.Prev) == 0 && a.entry.author == win.entry.author {
				continue
			}
			s.Conflicts = append(s.Conflicts, ms.setting(k, a))
		}
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

func (ms *MissionState) setting(key string, a assignment) Setting {
	_, known := LookupConfigKey(key)
	s := Setting{Key: key, Value: a.value, Known: known, By: a.entry.author, At: a.entry.created, Record: a.entry.id}
	if known {
		if _, err := readSetting(key, a.value); err != nil {
			s.Problem = err.Error()
		}
	}
	return s
}

// readSetting reads a known setting's value as signed; an error means this
// build cannot read it (the setting then has no effect).
func readSetting(key, value string) (string, error) {
	k, ok := LookupConfigKey(key)
	if !ok {
		return "", fmt.Errorf("unknown setting")
	}
	if k.read != nil {
		if value == "" {
			return "", nil
		}
		return k.read(value)
	}
	v, err := k.parse(key, value)
	if err != nil {
		return "", err
	}
	if v != value {
		return "", fmt.Errorf("%q is not in its canonical form %q", value, v)
	}
	return v, nil
}

// ancestors returns the configs e saw: its Prev list, and theirs.
func (ms *MissionState) ancestors(e *configEntry) map[ID]bool {
	seen := map[ID]bool{}
	stack := [][]byte{}
	stack = append(stack, e.p.Prev...)
	for len(stack) > 0 {
		b := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		var id ID
		copy(id[:], b)
		if seen[id] {
			continue
		}
		seen[id] = true
		if c, ok := ms.configs[id]; ok {
			stack = append(stack, c.p.Prev...)
		}
	}
	return seen
}

// effective returns the value in force of a known setting.
func (ms *MissionState) effective(key string) (string, bool) {
	v, ok := ms.policy.effective[key]
	return v, ok
}

// deriveEffective finds the value in force of a known setting: the latest
// assignment this build can read (one it cannot read has no effect).
func (ms *MissionState) deriveEffective(key string) (string, bool) {
	configs := ms.sortedConfigs()
	for i := len(configs) - 1; i >= 0; i-- {
		if v, ok := configs[i].assignments()[key]; ok {
			if v, err := readSetting(key, v); err == nil {
				return v, true
			}
		}
	}
	return "", false
}

// ConfigHeads returns the config records no other config lists in Prev:
// what a new config must name as seen.
func (ms *MissionState) ConfigHeads() []ID {
	superseded := map[ID]bool{}
	for _, e := range ms.configs {
		for _, b := range e.p.Prev {
			var id ID
			copy(id[:], b)
			superseded[id] = true
		}
	}
	var out []ID
	for id := range ms.configs {
		if !superseded[id] {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(i, j int) bool { return string(out[i][:]) < string(out[j][:]) })
	return out
}

// NewConfig returns the payload of a config that assigns settings (from
// ParseSettings), naming the current heads as seen.
func (ms *MissionState) NewConfig(settings map[string]string) ConfigPayload {
	p := ConfigPayload{Settings: settings}
	for _, id := range ms.ConfigHeads() {
		p.Prev = append(p.Prev, id.Bytes())
	}
	return p
}

// FormatSize prints a byte count in the largest binary unit it fills, as
// the size settings are typed: "64 MiB", "1.5 GiB".
func FormatSize(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB"}
	f, i := float64(n), 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return strings.TrimSuffix(strconv.FormatFloat(f, 'f', 1, 64), ".0") + " " + units[i]
}
