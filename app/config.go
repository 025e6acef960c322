package app

import (
	"strconv"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
)

// The mission configuration in Settings: what `vigil mission config show`
// prints, for coordinators, read-only (coordinators set it with `vigil
// mission config set`).

// SettingName names a mission setting in words: the known ones in the
// user's language, a taxonomy addition by its family, and a setting of a
// newer Vigil by its key.
func SettingName(key string) string {
	if code, ok := strings.CutPrefix(key, incident.SettingCategoryPrefix); ok {
		return T("config.key.category", map[string]any{"Name": FamilyLabel(incident.FamilyOf(code))})
	}
	return TOr("config.key."+key, key)
}

// SettingValue is a setting's value for people: yes or no, field names,
// sizes, a category's label and code. A value this build cannot read,
// or of a setting it does not know, is shown as signed.
func SettingValue(s MissionSetting) string {
	if !s.Known || s.Problem != "" {
		return s.Value
	}
	switch {
	case s.Key == incident.SettingSealByDefault:
		if s.Value == "true" {
			return T("config.yes")
		}
		return T("config.no")
	case s.Key == incident.SettingPrivateFields:
		if s.Value == "" {
			return T("config.none")
		}
		var names []string
		for f := range strings.SplitSeq(s.Value, ",") {
			names = append(names, FieldLabel(f))
		}
		return strings.Join(names, ", ")
	case isSize(s.Key):
		n, err := strconv.ParseUint(s.Value, 10, 64)
		if err != nil {
			return s.Value
		}
		return incident.FormatSize(n)
	case strings.HasPrefix(s.Key, incident.SettingCategoryPrefix):
		return s.Value + " (" + strings.TrimPrefix(s.Key, incident.SettingCategoryPrefix) + ")"
	}
	return s.Value
}

// settingWho names who set a setting: their label, else their short key.
func (ui *UI) settingWho(s MissionSetting) string {
	switch {
	case s.By == ui.id.Author:
		return T("report.you")
	case s.ByLabel != "":
		return s.ByLabel
	}
	return s.By.Short()
}

// newConfigSection lists the mission's settings for coordinators; other
// roles see nothing of it. It re-reads the store on every refresh.
func newConfigSection(ui *UI) fyne.CanvasObject {
	box := container.NewVBox()
	box.Hide()
	refresh := func() {
		box.RemoveAll()
		if ui.id.Role != incident.RoleCoordinator {
			box.Hide()
			return
		}
		list, err := ui.be.MissionSettings()
		if err != nil {
			box.Hide()
			return
		}
		box.Add(widget.NewSeparator())
		box.Add(heading("⚙ " + T("config.title")))
		box.Add(note(T("config.note")))
		for _, s := range list {
			box.Add(ui.settingRow(s))
		}
		box.Show()
		box.Refresh()
	}
	ui.refresh = append(ui.refresh, refresh)
	return box
}

// settingRow is one setting: its name, value, who set it and when, and
// the values set concurrently under a conflict marker.
func (ui *UI) settingRow(s MissionSetting) fyne.CanvasObject {
	name := wrapLabel(SettingName(s.Key))
	name.TextStyle.Bold = true
	value := wrapLabel(SettingValue(s))
	info := container.NewVBox(name)
	var flags []fyne.CanvasObject
	if len(s.Conflicts) > 0 {
		flags = append(flags, badge("⚠ "+T("config.conflict"), colorAlert))
	}
	if !s.Known {
		flags = append(flags, badge(T("config.newer"), colorMuted))
	}
	if s.Problem != "" {
		flags = append(flags, badge("⚠ "+T("config.unreadable"), colorAlert))
	}
	if len(flags) > 0 {
		info.Add(container.NewHBox(flags...))
	}
	info.Add(value)
	if s.Problem != "" {
		info.Add(note(s.Problem))
	}
	info.Add(note(T("config.set_by", map[string]any{"Who": ui.settingWho(s), "Time": ui.timeText(s.At)})))
	for _, o := range s.Conflicts {
		info.Add(note("⚠ " + T("config.also_set", map[string]any{"Code": SettingValue(o), "Who": ui.settingWho(o), "Time": ui.timeText(o.At)})))
	}
	return card(info)
}

func isSize(key string) bool {
	k, ok := incident.LookupConfigKey(key)
	return ok && k.Size
}
