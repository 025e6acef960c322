package app

import (
	"errors"
	"io"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
)

// Backups and restores are incident/act's (Desk.Backup, act.Restore),
// which `vigil backup` and `vigil restore` use too.

// BackupExtension is the name ending the app suggests for backups.
const BackupExtension = ".vbk"

// Backupper writes a backup of this device.
type Backupper interface {
	// Backup writes this device's keys and whole store to w, encrypted
	// with passphrase (held to the rule for new passphrases). w is not
	// closed.
	Backup(passphrase []byte, w io.Writer) (act.BackedUp, error)
}

// Restorer makes a fresh home from a backup.
type Restorer interface {
	// Restore makes the home from the backup read from r (opened with
	// backupPassphrase), under a new store passphrase, and opens it. A
	// home that holds a store is refused, and a failed restore leaves
	// nothing behind.
	Restore(r io.Reader, backupPassphrase, passphrase []byte) (Backend, error)
}

var (
	_ Backupper = (*StoreBackend)(nil)
	_ Restorer  = (*Home)(nil)
)

// backupWorkFactor is the scrypt work factor of the app's backups; tests
// lower it.
var backupWorkFactor = 0

// Backup is act.Desk.Backup.
func (b *StoreBackend) Backup(passphrase []byte, w io.Writer) (act.BackedUp, error) {
	return b.desk.Backup(act.BackupRequest{Passphrase: passphrase, WorkFactor: backupWorkFactor}, w)
}

// Restore makes the home from a backup (act.Restore), then opens it as
// Unlock does, so the composition root owns the store as after Create.
func (h *Home) Restore(r io.Reader, backupPassphrase, passphrase []byte) (Backend, error) {
	st, _, err := act.Restore(act.RestoreRequest{Home: h.Dir, From: r, BackupPassphrase: backupPassphrase, Passphrase: passphrase, Store: h.Store})
	if err != nil {
		return nil, err
	}
	if err := st.Close(); err != nil {
		return nil, err
	}
	return h.Unlock(passphrase)
}

// backupErrorText words a backup's or a restore's refusal ("" for other
// errors).
func backupErrorText(err error) string {
	switch {
	case errors.Is(err, store.ErrBackupPassphrase):
		return T("restore.wrong_passphrase")
	case errors.Is(err, store.ErrBackupCorrupt):
		return T("restore.bad_file") + "\n\n" + err.Error()
	case errors.Is(err, act.HasHome):
		return T("restore.has_home")
	}
	return ""
}

// backupBox is the settings screen's section for backing up this device.
func (ui *UI) backupBox() fyne.CanvasObject {
	btn := widget.NewButtonWithIcon(T("backup.button"), theme.DocumentSaveIcon(), ui.showBackup)
	return container.NewVBox(heading(T("backup.title")), note(T("backup.note")), btn)
}

// showBackup asks for the backup passphrase, then a file, and writes the
// backup straight into it.
func (ui *UI) showBackup() {
	be, ok := ui.be.(Backupper)
	if !ok {
		return
	}
	pass := widget.NewPasswordEntry()
	pass.SetPlaceHolder(T("backup.passphrase"))
	again := widget.NewPasswordEntry()
	again.SetPlaceHolder(T("backup.passphrase_again"))
	progress := widget.NewProgressBarInfinite()
	progress.Hide()
	status := note("")
	var start *widget.Button
	start = widget.NewButtonWithIcon(T("export.choose_file"), theme.DocumentSaveIcon(), func() {
		if err := checkNewPassphrase(pass.Text, again.Text); err != nil {
			ui.showError(err)
			return
		}
		p := []byte(pass.Text)
		name := "vigil-backup-" + ui.now().Format("2006-01-02-1504") + BackupExtension
		ui.saveTo(name, []string{BackupExtension}, func(wc fyne.URIWriteCloser) {
			start.Disable()
			progress.Show()
			status.SetText("")
			ui.background(func() error {
				_, err := be.Backup(p, wc)
				if cerr := wc.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					// What was written is ciphertext, but a short file
					// would only be refused at restore: remove it.
					_ = storage.Delete(wc.URI())
				}
				return err
			}, func(err error) {
				start.Enable()
				progress.Hide()
				if err != nil {
					ui.showError(err)
					return
				}
				pass.SetText("")
				again.SetText("")
				status.SetText("✅ " + T("backup.done", map[string]any{"File": wc.URI().Name()}))
			})
		})
	})
	start.Importance = widget.HighImportance
	body := container.NewVBox(note(T("backup.note")), note("⚠ "+T("backup.warning")), pass, again, start, progress, status)
	d := dialog.NewCustom(T("backup.title"), T("action.close"), body, ui.win)
	fitDialog(d, 480)
	d.Show()
}

// showRestore, for a fresh device, asks for a backup file, its
// passphrase and a new passphrase for this device, and restores it.
func (ui *UI) showRestore() {
	home, ok := ui.home.(Restorer)
	if !ok {
		return
	}
	ui.chooseOpen([]string{BackupExtension}, func(rc fyne.URIReadCloser, err error) {
		if err != nil {
			ui.showError(err)
			return
		}
		if rc == nil {
			return
		}
		backupPass := widget.NewPasswordEntry()
		backupPass.SetPlaceHolder(T("restore.backup_passphrase"))
		pass := widget.NewPasswordEntry()
		pass.SetPlaceHolder(T("welcome.passphrase"))
		again := widget.NewPasswordEntry()
		again.SetPlaceHolder(T("welcome.again"))
		body := container.NewVBox(
			wrapLabel(rc.URI().Name()),
			note(T("restore.note")),
			backupPass,
			boldLabel(T("welcome.choose")),
			pass, again)
		d := dialog.NewCustomConfirm(T("restore.title"), T("restore.restore"), T("action.cancel"), body, func(yes bool) {
			if !yes {
				rc.Close()
				return
			}
			if err := checkNewPassphrase(pass.Text, again.Text); err != nil {
				rc.Close()
				ui.showError(err)
				return
			}
			bp, p := []byte(backupPass.Text), []byte(pass.Text)
			wait := dialog.NewCustomWithoutButtons(T("restore.restoring"), widget.NewProgressBarInfinite(), ui.win)
			wait.Show()
			var b Backend
			ui.background(func() (err error) {
				defer rc.Close()
				b, err = home.Restore(rc, bp, p)
				return err
			}, func(err error) {
				wait.Hide()
				if err != nil {
					ui.showError(err)
					return
				}
				ui.be = b
				ui.signedIn()
				caution := dialog.NewInformation(T("restore.done_title"), T("restore.caution"), ui.win)
				caution.SetDismissText(T("action.ok"))
				caution.Show()
			})
		}, ui.win)
		fitDialog(d, 480)
		d.Show()
	})
}
