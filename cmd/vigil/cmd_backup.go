package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/vigil-mesh/vigil/incident"
	"github.com/vigil-mesh/vigil/incident/act"
	"github.com/vigil-mesh/vigil/incident/store"
)

// backupPassphrase is the passphrase of a backup file: $VIGIL_BACKUP_PASSPHRASE,
// then the file given with --backup-passphrase-file, else a prompt (twice
// when it is being chosen). It is the backup's own, not the store's: a
// backup kept on a USB stick in another place should not open with what
// the laptop's owner types every morning, though it may. A chosen one is
// held to the rule for new passphrases; unchanged says what a refusal
// left undone.
func (c *cli) backupPassphrase(file string, choose bool, unchanged string) ([]byte, error) {
	var p []byte
	var err error
	from := "the backup passphrase"
	switch {
	case c.getenv("VIGIL_BACKUP_PASSPHRASE") != "":
		from += " in $VIGIL_BACKUP_PASSPHRASE"
		p = []byte(c.getenv("VIGIL_BACKUP_PASSPHRASE"))
	case file != "":
		from += " in " + file
		p, err = readSecretFile(c.path(file))
	case !c.stdinTerminal():
		return nil, errors.New("no backup passphrase: set $VIGIL_BACKUP_PASSPHRASE or pass --backup-passphrase-file (standard input is not a terminal)")
	case choose:
		fmt.Fprintln(c.stderr, "Choose a passphrase for the backup file. Without it the backup cannot be restored; with it, whoever holds the file can act as this device.")
		p, err = c.prompt("Backup passphrase", true)
	default:
		p, err = c.prompt("Backup passphrase", false)
	}
	if err != nil {
		return nil, err
	}
	if choose {
		if err := checkNewPassphrase(from, p, unchanged); err != nil {
			return nil, err
		}
	}
	return p, nil
}

func (c *cli) cmdBackup(args []string) error {
	fs := newFlags("backup")
	out := fs.String("out", "", "the backup `FILE` to write (encrypted with the backup passphrase)")
	passFile := fs.String("backup-passphrase-file", "", "read the backup passphrase from `FILE` (else $VIGIL_BACKUP_PASSPHRASE, else a prompt)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("backup: unexpected %q (the file goes after --out)", pos[0])
	}
	if *out == "" {
		return usagef("backup: --out FILE is required")
	}
	if !store.Initialised(c.home) {
		return fmt.Errorf("%w (home %s)", store.ErrNotInitialised, c.home)
	}
	pass, err := c.backupPassphrase(*passFile, true, "no backup was written")
	if err != nil {
		return err
	}
	return c.withActions(func(a act.Actions) error {
		var res act.BackedUp
		if err := writeAtomic(c.path(*out), func(f *os.File) error {
			var err error
			res, err = a.Backup(act.BackupRequest{Passphrase: pass}, f)
			return err
		}); err != nil {
			return fmt.Errorf("%w; no backup was written", err)
		}
		if c.json {
			return c.printJSON(backupJSON(*out, c.home, res))
		}
		fmt.Fprintf(c.stderr, "Wrote a backup of this device (%s, %s, %s) to %s.\n",
			missionWords(res), incident.Plural(res.Records, "record"), incident.Plural(res.Files, "attached file"), *out)
		fmt.Fprintln(c.stderr, "Keep it apart from this device, and its passphrase apart from it: with both, anyone can read what this device reads and sign as it. `vigil restore FILE` on a new device brings it back.")
		return nil
	})
}

func (c *cli) cmdRestore(args []string) error {
	fs := newFlags("restore")
	passFile := fs.String("backup-passphrase-file", "", "read the backup passphrase from `FILE` (else $VIGIL_BACKUP_PASSPHRASE, else a prompt)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("restore: want one FILE")
	}
	// Refused before any passphrase is asked for or any file read.
	if store.Initialised(c.home) && !store.Wiped(c.home) {
		return fmt.Errorf("the home %s already holds a Vigil store; restore makes a new home and never replaces one: give an empty --home; nothing was changed", c.home)
	}
	f, err := os.Open(c.path(pos[0]))
	if err != nil {
		return fmt.Errorf("%w; nothing was restored", err)
	}
	defer f.Close()
	backupPass, err := c.backupPassphrase(*passFile, false, "")
	if err != nil {
		return fmt.Errorf("%w; nothing was restored", err)
	}
	homePass, err := c.newStorePassphrase("Choose a passphrase for this device's restored store (it may differ from the backed-up device's).",
		"nothing was restored")
	if err != nil {
		return err
	}
	st, res, err := act.Restore(act.RestoreRequest{Home: c.home, From: f, BackupPassphrase: backupPass, Passphrase: homePass, Store: c.storeOptions()})
	if err != nil {
		if act.CodeOf(err) == act.CannotOpen {
			return fmt.Errorf("%w (check $VIGIL_BACKUP_PASSPHRASE or --backup-passphrase-file); nothing was restored", err)
		}
		return fmt.Errorf("%w; nothing was restored", err)
	}
	defer st.Close()
	if c.json {
		if err := c.printJSON(backupJSON(pos[0], c.home, res)); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(c.stdout, res.Author)
		fmt.Fprintf(c.stderr, "Restored into %s: %s, %s, %s, backed up %s.\n", c.home,
			missionWords(res), incident.Plural(res.Records, "record"), incident.Plural(res.Files, "attached file"), res.Created.Local().Format("2006-01-02 15:04"))
	}
	fmt.Fprintln(c.stderr, restoreCaution)
	return nil
}

// restoreCaution is said after every restore (and in docs/security.md,
// "Backups").
const restoreCaution = "Caution: this device now signs as the one that was backed up, with the same keys. " +
	"Do not use the original again (wipe it if you still have it): the mission cannot tell two devices with one key apart. " +
	"If the original was lost or seized with its passphrase, tell a coordinator."

func missionWords(res act.BackedUp) string {
	if res.Mission == nil {
		return "no mission"
	}
	return "mission " + res.Mission.String()
}

func backupJSON(file, home string, res act.BackedUp) map[string]any {
	var mission any
	if res.Mission != nil {
		mission = res.Mission.String()
	}
	return map[string]any{"file": file, "home": home, "author": res.Author.String(), "mission": mission,
		"records": res.Records, "files": res.Files, "entries": res.Entries, "created": res.Created.UTC().Format("2006-01-02T15:04:05Z")}
}
