package app

import (
	"errors"
	"net/url"
	"strings"
	"sync"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/incident/vault"
)

// Options configure the app. The zero value is a desktop app on the
// system clock.
type Options struct {
	// Now is the clock (tests pass a fixed one). Default time.Now.
	Now func() time.Time
	// Phone lays the app out for a phone: tabs at the bottom, larger text.
	// Default: fyne.CurrentDevice().IsMobile().
	Phone bool
	// Lifecycle, when set, hears the app go to the background and back.
	Lifecycle Lifecycle
	// Passphrase, when set, is tried once at start (VIGIL_PASSPHRASE or
	// --passphrase-file); a wrong one leaves the unlock screen showing the
	// error.
	Passphrase []byte
	// RefreshEvery is how often visible screens re-read the store (records
	// arrive from the mesh at any time). Default 10 s; negative: never.
	RefreshEvery time.Duration
	// OnWiped is called after a panic wipe, before the app shows its first
	// screen again (cmd/vigil quits there).
	OnWiped func()

	// inline runs background work on the calling goroutine (tests: Fyne's
	// test driver has no UI thread to serialise fyne.Do calls on).
	inline bool
}

// UI is the running app: one window whose content is the current screen.
// Its methods run on the Fyne goroutine, except where noted.
type UI struct {
	app  fyne.App
	win  fyne.Window
	home Unlocker
	be   Backend
	opts Options
	id   Identity

	// main holds the tabs of the signed-in screens; stack the screens
	// pushed over them (the report form, a report's detail).
	main     *nav
	stack    []fyne.CanvasObject
	refresh  []func()
	form     *reportForm
	tally    *tallyForm // the tally form last opened (tests reach its fields)
	toastBar *toastBar  // the confirmation over every screen
	observer *observerHome
	dash     *dashboard
	table    *reportTable

	// checklist is the checklist being answered (nil: none), whose draft
	// is saved when the app closes or goes to the background.
	checklist *checklistForm

	// chooseSave and chooseOpen show the file dialogs (tests replace them
	// with files in a temporary folder). got receives nil when the user
	// cancels.
	chooseSave func(name string, exts []string, got func(fyne.URIWriteCloser, error))
	chooseOpen func(exts []string, got func(fyne.URIReadCloser, error))
	// basemap is the device's basemap as the maps draw it (mapui.go).
	basemap basemapState
	// openURL hands the system a URL to open (the messaging app's sms:
	// URI); tests capture it. Default: fyne.App.OpenURL.
	openURL func(*url.URL) error

	// device holds the settings read before unlock (device.go); locked
	// is set while auto-lock hides the screens of an open store; cover
	// is the calculator while it shows.
	device     deviceSettings
	locked     bool
	cover      *coverScreen
	lastActive time.Time
	lastSig    uint64

	work   sync.WaitGroup // background work, so tests can wait for it
	ticker *time.Ticker
	stop   chan struct{}
}

// New builds the app's window on a, starting at the unlock or welcome
// screen. Call Window().ShowAndRun(), then Close.
func New(a fyne.App, home Unlocker, o Options) *UI {
	if o.Now == nil {
		o.Now = time.Now
	}
	if !o.Phone && fyne.CurrentDevice().IsMobile() {
		o.Phone = true
	}
	if o.RefreshEvery == 0 {
		o.RefreshEvery = 10 * time.Second
	}
	loadTranslations()
	if code := a.Preferences().String("language"); code != "" {
		SetLanguage(code)
	}
	a.Settings().SetTheme(&vigilTheme{phone: o.Phone})
	ui := &UI{app: a, home: home, opts: o, stop: make(chan struct{})}
	ui.win = a.NewWindow("Vigil")
	ui.chooseSave = ui.fileSaveDialog
	ui.chooseOpen = ui.fileOpenDialog
	ui.openURL = a.OpenURL
	if o.Phone {
		ui.win.Resize(fyne.NewSize(400, 800))
	} else {
		ui.win.Resize(fyne.NewSize(1180, 760))
	}
	ui.win.SetMaster()
	ui.device = ui.loadDevice()
	ui.watchKeys()
	// Back from the background after the auto-lock delay: lock at once
	// (a phone suspends the idle check with the app).
	a.Lifecycle().SetOnEnteredForeground(func() {
		ui.checkIdle()
		if o.Lifecycle != nil {
			o.Lifecycle.Foreground()
		}
	})
	// Save the draft when the app goes to the background: a phone may
	// kill it there without warning.
	a.Lifecycle().SetOnExitedForeground(func() {
		ui.flushDraft()
		if o.Lifecycle != nil {
			o.Lifecycle.Background()
		}
	})
	ui.showStart()
	if len(o.Passphrase) > 0 && home.Initialised() {
		ui.unlock(o.Passphrase)
	}
	if o.RefreshEvery > 0 {
		ui.ticker = time.NewTicker(o.RefreshEvery)
		go ui.tick()
	}
	if !o.inline {
		go ui.idleLoop()
	}
	return ui
}

// Window returns the app's window.
func (ui *UI) Window() fyne.Window { return ui.win }

// Backend returns the unlocked backend, or nil.
func (ui *UI) Backend() Backend { return ui.be }

// Close saves the draft, stops background work and closes the backend.
// Call it after the window's event loop ends.
func (ui *UI) Close() {
	ui.flushDraft()
	select {
	case <-ui.stop:
	default:
		close(ui.stop)
	}
	if ui.ticker != nil {
		ui.ticker.Stop()
	}
	ui.work.Wait()
	if ui.be != nil {
		_ = ui.be.Close()
		ui.be = nil
	}
}

func (ui *UI) tick() {
	for {
		select {
		case <-ui.stop:
			return
		case <-ui.ticker.C:
			fyne.Do(ui.refreshVisible)
		}
	}
}

// background runs work off the Fyne goroutine and then done on it.
func (ui *UI) background(work func() error, done func(error)) {
	if ui.opts.inline {
		ui.touch()
		done(work())
		return
	}
	ui.touch()
	ui.work.Add(1)
	go func() {
		defer ui.work.Done()
		err := work()
		fyne.Do(func() { done(err) })
	}()
}

// wait blocks until background work has finished (tests).
func (ui *UI) wait() { ui.work.Wait() }

// now is the app's clock.
func (ui *UI) now() time.Time { return ui.opts.Now() }

// setContent shows a screen, under the practice banner when the mission
// is a practice one.
func (ui *UI) setContent(c fyne.CanvasObject) {
	ui.touch()
	ui.cover = nil
	title := "Vigil"
	if ui.id.HasMission {
		title = "Vigil · " + ui.id.MissionName
	}
	if ui.id.Practice {
		title += " · " + T("practice.title")
		c = container.NewBorder(practiceBanner(), nil, nil, nil, c)
	}
	ui.win.SetTitle(title)
	ui.win.SetContent(container.NewStack(c, ui.toastLayer()))
}

// practiceBanner marks a practice mission on every screen.
func practiceBanner() fyne.CanvasObject {
	bg := canvas.NewRectangle(colorPractice)
	t := canvas.NewText("🎓  "+T("practice.banner"), theme.Color(theme.ColorNameForegroundOnWarning))
	t.TextStyle.Bold = true
	t.Alignment = fyne.TextAlignCenter
	return container.NewStack(bg, container.NewPadded(t))
}

// push shows a screen over the current one with a back button.
func (ui *UI) push(title string, content fyne.CanvasObject, onBack func()) {
	back := widget.NewButtonWithIcon(T("nav.back"), theme.NavigateBackIcon(), func() {
		if onBack != nil {
			onBack()
		}
		ui.pop()
	})
	back.Importance = widget.LowImportance
	top := container.NewBorder(nil, widget.NewSeparator(), back, nil, heading(title))
	screen := container.NewBorder(top, nil, nil, nil, content)
	ui.stack = append(ui.stack, screen)
	ui.setContent(screen)
}

// pop goes back one screen.
func (ui *UI) pop() {
	if len(ui.stack) > 0 {
		ui.stack = ui.stack[:len(ui.stack)-1]
	}
	if len(ui.stack) > 0 {
		ui.setContent(ui.stack[len(ui.stack)-1])
		return
	}
	ui.refreshAll()
	ui.setContent(ui.main.root)
}

// popAll returns to the main tabs.
func (ui *UI) popAll() {
	ui.stack = nil
	ui.refreshAll()
	if ui.main != nil {
		ui.setContent(ui.main.root)
	}
}

// refreshAll re-reads the store for every main screen.
func (ui *UI) refreshAll() {
	if ui.be == nil {
		return
	}
	if id, err := ui.be.Identity(); err == nil {
		ui.id = id
	}
	for _, f := range ui.refresh {
		f()
	}
}

// refreshVisible re-reads the store for the main screen on show only, and
// not at all while a pushed screen (the form, a detail) is open: a
// refresh must never disturb what the user is doing.
func (ui *UI) refreshVisible() {
	if ui.be == nil || ui.main == nil || len(ui.stack) > 0 {
		return
	}
	if id, err := ui.be.Identity(); err == nil {
		ui.id = id
	}
	for _, f := range ui.main.items[ui.main.current].refresh {
		f()
	}
}

// showError explains err in a dialog, in the user's language where the
// error is one the app knows.
// saveTo shows the save dialog and hands got the file chosen; a cancelled
// dialog does nothing, a failed one is shown.
func (ui *UI) saveTo(name string, exts []string, got func(fyne.URIWriteCloser)) {
	ui.chooseSave(name, exts, func(wc fyne.URIWriteCloser, err error) {
		if err != nil {
			ui.showError(err)
			return
		}
		if wc != nil {
			got(wc)
		}
	})
}

func (ui *UI) showError(err error) {
	msg := wrapLabel(errorText(err))
	icon := canvas.NewText("⚠️", theme.Color(theme.ColorNameError))
	icon.TextSize = 32
	icon.Alignment = fyne.TextAlignCenter
	d := dialog.NewCustom(T("err.title"), T("action.ok"), container.NewVBox(icon, msg), ui.win)
	d.Resize(fyne.NewSize(360, 0).Max(d.MinSize()))
	d.Show()
}

// errorText is the message the user reads for err.
func errorText(err error) string {
	if s := bundleErrorText(err); s != "" {
		return s
	}
	if s := backupErrorText(err); s != "" {
		return s
	}
	var fp *FieldProblem
	var fe *incident.FieldError
	var ae *act.Error
	var pe *vault.PassphraseError
	switch {
	case errors.Is(err, vault.ErrWrongPassphrase):
		return T("err.wrong_passphrase")
	case errors.As(err, &pe):
		return passphraseText(pe)
	case errors.Is(err, vault.ErrDuressIsReal):
		return T("duress.same")
	case errors.Is(err, vault.ErrWiped):
		return T("err.wiped")
	case errors.Is(err, incident.ErrInvite):
		return T("err.bad_invite") + "\n\n" + err.Error()
	case errors.Is(err, act.NoMission):
		return T("err.no_mission")
	case errors.Is(err, ErrNotMine):
		return T("err.not_mine")
	case errors.Is(err, ErrRetracted):
		return T("err.retracted")
	case errors.Is(err, store.ErrRevoked):
		return T("err.revoked")
	case errors.Is(err, ErrSealedGone):
		return T("err.sealed_gone")
	case errors.Is(err, act.ErrAmendedSince):
		return T("err.amended_since")
	case errors.As(err, &fp):
		return T("err.field", map[string]any{"Field": FieldLabel(fp.Field)}) + "\n" + fieldProblemText(fp.Err)
	case errors.As(err, &fe):
		return T("err.field", map[string]any{"Field": FieldLabel(fe.Field)}) + "\n" + problemText(fe.Problem)
	case errors.As(err, &ae) && ae.Code == act.Invalid && ae.Field != "":
		return T("err.field", map[string]any{"Field": FieldLabel(ae.Field)}) + "\n" + problemText(strings.TrimPrefix(ae.Msg, ae.Field+": "))
	}
	var le *vault.LockedError
	if errors.As(err, &le) {
		return T("err.locked")
	}
	return err.Error()
}

// FieldLabel names a form field.
func FieldLabel(f string) string { return TOr("field."+f, f) }

// confirm asks before doing something that cannot be undone.
func (ui *UI) confirm(title, message, ok string, do func()) {
	d := dialog.NewConfirm(title, message, func(yes bool) {
		if yes {
			do()
		}
	}, ui.win)
	d.SetConfirmText(ok)
	d.SetDismissText(T("action.cancel"))
	d.Show()
}

// signedIn builds the main screens for the device's role.
func (ui *UI) signedIn() {
	id, err := ui.be.Identity()
	if err != nil {
		ui.showError(err)
		return
	}
	ui.id = id
	if !id.HasMission {
		ui.showJoin()
		return
	}
	if id.Role == incident.RoleObserver {
		// An observer the coordinators posted has its station: the home
		// opens on it, rather than a picker asking again (and answered
		// wrong now and then).
		ui.adoptAssignment()
		if st, _ := ui.be.Setting("station"); st == nil {
			if done, _ := ui.be.Setting("station_chosen"); done == nil {
				ui.showStationPicker(true)
				return
			}
		}
	}
	ui.refresh = nil
	var items []navItem
	// screen builds one main screen and notes the refreshers it
	// registered, so the clock refreshes only the screen on show.
	screen := func(title string, icon fyne.Resource, build func() fyne.CanvasObject) {
		before := len(ui.refresh)
		content := build()
		items = append(items, navItem{title: title, icon: icon, content: content,
			refresh: append([]func(){}, ui.refresh[before:]...)})
	}
	switch id.Role {
	case incident.RoleCoordinator:
		screen(T("tab.dashboard"), theme.HomeIcon(), func() fyne.CanvasObject { ui.dash = newDashboard(ui); return ui.dash.content })
		screen(T("tab.reports"), theme.ListIcon(), func() fyne.CanvasObject { ui.table = newReportTable(ui); return ui.table.content })
		screen(T("tab.members"), theme.AccountIcon(), func() fyne.CanvasObject { return newMembersScreen(ui) })
	case incident.RoleObserver:
		screen(T("tab.home"), theme.HomeIcon(), func() fyne.CanvasObject { ui.observer = newObserverHome(ui); return ui.observer.content })
	}
	screen(T("tab.sync"), theme.ViewRefreshIcon(), func() fyne.CanvasObject { return newPeersScreen(ui) })
	screen(T("tab.settings"), theme.SettingsIcon(), func() fyne.CanvasObject { return newSettingsScreen(ui) })
	ui.main = newNav(items, ui.opts.Phone, func() { ui.touch(); ui.refreshVisible() })
	ui.stack = nil
	ui.refreshAll()
	ui.setContent(ui.main.root)
}

// selectTab shows the main screen with the given title.
func (ui *UI) selectTab(title string) {
	if ui.main != nil {
		ui.main.selectTitle(title)
	}
}

// timeText prints a Unix ms time in the device's zone: the time alone for
// today, else the date too.
func (ui *UI) timeText(ms int64) string {
	t := time.UnixMilli(ms).In(time.Local)
	now := ui.now().In(time.Local)
	if t.Year() == now.Year() && t.YearDay() == now.YearDay() {
		return t.Format("15:04")
	}
	return t.Format("2006-01-02 15:04")
}
