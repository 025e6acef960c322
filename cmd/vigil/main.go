// Command vigil is the Vigil observer mesh: the CLI, the headless node and
// (with no command) the app. See `vigil help` and the README's command
// line; these names are stable.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/vigil-mesh/vigil/incident/store"
	"github.com/vigil-mesh/vigil/sync/daemon"
)

// Exit codes: 0 success, 1 error with nothing changed, 3 partly
// done, 2 bad usage.
const (
	exitOK      = 0
	exitError   = 1
	exitUsage   = 2
	exitPartial = 3
)

// cli holds what every command needs. Tests build one directly.
type cli struct {
	home           string
	json           bool
	passphraseFile string
	// keepAll: `vigil node --keep-all`: the store drops nothing (custody).
	keepAll        bool
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	// terminal, when set, says whether stdin is a terminal (tests);
	// otherwise stdin is checked.
	terminal func() bool

	// Set when the command runs inside the process that holds the home
	// (vigil node, the app), through the control socket. dir is then the
	// caller's working folder: relative paths on its command line are
	// its, not the holder's (path).
	dir     string
	shared  *store.Store
	daemon  *daemon.Daemon
	control *controlServer
}

// usageError is a mistake in the command line: exit 2 with a hint.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// partialError: some of the work was done (exit 3).
type partialError struct{ msg string }

func (e *partialError) Error() string { return e.msg }

func main() {
	c := &cli{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, now: time.Now}
	os.Exit(c.run(os.Args[1:]))
}

// run executes one command line and returns the exit code.
func (c *cli) run(args []string) int {
	rest, err := c.globalFlags(args)
	if err != nil {
		return c.exitCode(err)
	}
	if c.shared == nil && len(rest) > 0 && forwardable[rest[0]] && !typed(rest) && !isHelp(rest) {
		fwd := rest
		if rest[0] == "wipe" && socketLive(c.home) {
			// Ask here, where the person is: the node has no terminal.
			if err := c.confirmWipe(rest[1:]); err != nil {
				return c.exitCode(err)
			}
			fwd = append(append([]string{}, rest...), "--yes")
		}
		code, err := c.forward(fwd)
		if err == nil {
			return code
		}
		if !errors.Is(err, errNoNode) {
			return c.exitCode(err)
		}
	}
	return c.runParsed(rest)
}

// forwardable commands run inside a node that holds the home, when one
// does.
var forwardable = map[string]bool{"passphrase": true, "mission": true, "report": true, "review": true,
	"checkin": true, "alert": true, "notice": true, "station": true, "status": true, "bundle": true, "export": true, "peers": true,
	"sync": true, "wipe": true, "forget": true, "checkpoint": true, "attachment": true, "assign": true, "coverage": true,
	"tally": true, "results": true, "checklist": true, "form": true, "map": true}

// typed reports whether args name a use case that reaches a running node
// as a typed request (withActions), its flags parsed and its files read
// here, rather than as a command line.
func typed(args []string) bool {
	switch args[0] {
	case "review", "checkin", "alert", "notice", "export", "attachment", "station", "form":
		return true
	case "bundle":
		return len(args) > 1 && (args[1] == "export" || args[1] == "import")
	case "report":
		return len(args) > 1 && (args[1] == "add" || args[1] == "amend" || args[1] == "retract")
	case "mission":
		return len(args) > 1 && slices.Contains([]string{"create", "join", "invite", "revoke", "confirm", "cancel"}, args[1]) ||
			len(args) > 2 && args[1] == "config" && args[2] == "set"
	}
	return false
}

func isHelp(args []string) bool {
	for _, a := range args {
		if a == "-h" || a == "--help" || a == "-help" {
			return true
		}
	}
	return false
}

// runParsed runs a command whose global flags are already applied.
func (c *cli) runParsed(args []string) int {
	return c.exitCode(c.dispatch(args))
}

func (c *cli) exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var help *helpRequest
	if errors.As(err, &help) {
		fmt.Fprint(c.stdout, help.text())
		return exitOK
	}
	msg := strings.ReplaceAll(strings.TrimSpace(words(err)), "\n", "; ")
	fmt.Fprintf(c.stderr, "vigil: %s\n", msg)
	var ue *usageError
	var pe *partialError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(c.stderr, "Run `vigil help` for the commands and their flags.")
		return exitUsage
	case errors.As(err, &pe):
		return exitPartial
	}
	return exitError
}

// globalFlags pulls --home, --json and --passphrase-file out of args,
// wherever they stand, and returns the rest.
func (c *cli) globalFlags(args []string) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || a == "-" || a == "--" {
			rest = append(rest, a)
			continue
		}
		switch name {
		case "json":
			if hasVal {
				c.json = val == "true" || val == "1"
			} else {
				c.json = true
			}
			continue
		case "home", "passphrase-file":
			if name == "passphrase-file" && len(rest) > 0 && rest[0] == "bundle" {
				// After `bundle`, --passphrase-file is the bundle's own
				// passphrase (`bundle export --passphrase-file F`);
				// the store's comes before the command or from the environment.
				rest = append(rest, a)
				continue
			}
			if !hasVal {
				if i+1 >= len(args) {
					return nil, usagef("--%s needs a value", name)
				}
				i++
				val = args[i]
			}
			if name == "home" {
				c.home = val
			} else {
				c.passphraseFile = val
			}
			continue
		}
		rest = append(rest, a)
	}
	if c.home == "" {
		c.home = c.getenv("VIGIL_HOME")
	}
	if c.home == "" {
		h, err := defaultHome()
		if err != nil {
			return nil, err
		}
		c.home = h
	}
	return rest, nil
}

type command struct {
	name    string
	summary string
	run     func(c *cli, args []string) error
}

func commands() []command {
	return []command{
		{"init", "create device keys and the store", (*cli).cmdInit},
		{"passphrase", "change the passphrase, or set a duress passphrase", (*cli).cmdPassphrase},
		{"mission", "create, invite, invites, join, members, revoke, confirm, cancel, config", (*cli).cmdMission},
		{"report", "add, list, show, amend, retract", (*cli).cmdReport},
		{"review", "a coordinator's verdict on a report", (*cli).cmdReview},
		{"checkin", "arrived, opened, all quiet, closed", (*cli).cmdCheckin},
		{"alert", "observer in danger; alert list: alerts and their answers", (*cli).cmdAlert},
		{"notice", "a coordinator's notice to the field, or the answer to an alert; notice list", (*cli).cmdNotice},
		{"station", "import the polling stations' registry from a CSV file; list it", (*cli).cmdStation},
		{"assign", "coordinators: post a member to a station; assign list", (*cli).cmdAssign},
		{"form", "import a checklist from an XLSForm workbook; list the forms, show one", (*cli).cmdForm},
		{"coverage", "stations expected versus heard from, by admin unit and phase", (*cli).cmdCoverage},
		{"map", "this device's basemap for the app's maps: load an MBTiles file, show it, remove it", (*cli).cmdMap},
		{"checklist", "answer a form at a station (checklist submit); checklist list: responses side by side", (*cli).cmdChecklist},
		{"tally", "copy a station's result sheet (tally submit)", (*cli).cmdTally},
		{"results", "coordinators: per-station tally status and the quick count", (*cli).cmdResults},
		{"bundle", "records on a file, for USB sticks and SD cards", (*cli).cmdBundle},
		{"sms", "a record as a text message: encode, import, key, senders, retry, gateway", (*cli).cmdSMS},
		{"export", "reports, tallies, checklists or stations as csv, jsonl, xlsx…, or an evidence package", (*cli).cmdExport},
		{"attachment", "save a report's files to a folder", (*cli).cmdAttachment},
		{"verify", "check a bundle, JSONL export, evidence package or QR code offline", (*cli).cmdVerify},
		{"checkpoint", "sign the set root; print a text to publish", (*cli).cmdCheckpoint},
		{"status", "this device, its mission and its store", (*cli).cmdStatus},
		{"wipe", "destroy the store's key: nothing in it can be read again", (*cli).cmdWipe},
		{"forget", "--held: delete this phone's records that coordinators hold (quick delete)", (*cli).cmdForget},
		{"backup", "this device's keys and store in one file, encrypted with a passphrase", (*cli).cmdBackup},
		{"restore", "a new home from a backup file (a new device that signs as the old one)", (*cli).cmdRestore},
		{"node", "run the mesh node on this home until interrupted", (*cli).cmdNode},
		{"sync", "reconcile once with one peer, then exit", (*cli).cmdSync},
		{"peers", "the peers a running node is connected to", (*cli).cmdPeers},
		{"demo", "a practice mission with realistic data", (*cli).cmdDemo},
		{"gui", "the app", (*cli).cmdGUI},
		{"help", "this text", (*cli).cmdHelp},
	}
}

// subcommands lists the commands that take a subcommand, for help.
var subcommands = map[string][]string{
	"passphrase": {"change"},
	"mission":    {"create", "invite", "invites", "invite cancel", "join", "members", "revoke", "confirm", "config"},
	"report":     {"add", "list", "show", "amend", "retract"},
	"bundle":     {"export", "import"},
	"sms":        {"encode", "import", "key", "senders", "retry", "gateway"},
	"attachment": {"save"},
	"station":    {"import", "list"},
	"form":       {"import", "list", "show"},
	"tally":      {"submit"},
	"checklist":  {"submit", "list"},
	"map":        {"load", "show", "remove"},
}

// commandPaths is every command line help knows: "init", "report add", ...
func commandPaths() [][]string {
	var out [][]string
	for _, cmd := range commands() {
		subs, ok := subcommands[cmd.name]
		if !ok {
			out = append(out, []string{cmd.name})
			continue
		}
		for _, sub := range subs {
			out = append(out, append([]string{cmd.name}, strings.Fields(sub)...))
		}
	}
	return out
}

// helpFor prints the help of the command line words (`vigil help report
// add`, `vigil report --help`): a command's flags from its own FlagSet,
// or for a command that takes a subcommand, each subcommand's.
func (c *cli) helpFor(words []string) error {
	var path []string
	for _, w := range words {
		if w != "help" && !isHelp([]string{w}) {
			path = append(path, w)
		}
	}
	if len(path) == 0 {
		return c.cmdHelp(nil)
	}
	known := false
	for _, cmd := range commands() {
		known = known || cmd.name == path[0]
	}
	if !known {
		return usagef("help: unknown command %q", path[0])
	}
	subs, grouped := subcommands[path[0]]
	if grouped && (len(path) == 1 || !slices.Contains(subs, path[1])) {
		for i, sub := range subs {
			if i > 0 {
				fmt.Fprintln(c.stdout)
			}
			if err := c.helpFor(append([]string{path[0]}, strings.Fields(sub)...)); err != nil {
				return err
			}
		}
		return nil
	}
	if len(path) > 2 && !(path[1] == "invite" && path[2] == "cancel") {
		path = path[:2]
	}
	err := c.dispatch(append(path, "--help"))
	var help *helpRequest
	if errors.As(err, &help) {
		fmt.Fprint(c.stdout, help.text())
		return nil
	}
	return err
}

func (c *cli) dispatch(args []string) error {
	if len(args) == 0 {
		return c.cmdGUI(nil)
	}
	if args[0] == "help" && len(args) > 1 {
		return c.helpFor(args[1:])
	}
	if subs, ok := subcommands[args[0]]; ok && isHelp(args) && (len(args) == 1 || !slices.Contains(subs, args[1])) {
		return c.helpFor(args)
	}
	for _, cmd := range commands() {
		if cmd.name == args[0] {
			return cmd.run(c, args[1:])
		}
	}
	if args[0] == "-h" || args[0] == "--help" {
		return c.cmdHelp(nil)
	}
	return usagef("unknown command %q", args[0])
}

const helpText = `Vigil: an offline-first observer mesh for elections under internet shutdowns.
Observers log signed incident reports; reports stay in an encrypted store on
the device and spread to other mission devices over any link.

Usage: vigil [--home DIR] [--json] [--passphrase-file FILE] COMMAND

  init [--name NAME]                      create device keys and the store
  passphrase change [--duress] [--new-passphrase-file F]
                                          re-wrap the store key, or set a duress passphrase
  mission create --name NAME [--no-seal | --seal-by-default] [--label TEXT] [--practice]
  mission invite --role observer|carrier [--label TEXT] [--expires DUR] [--qr FILE.png] [--bootstrap ADDR]...
  mission invite --role coordinator --for MEMBER|AUTHOR [--label TEXT]
  mission join CODE                       CODE, or - to read it from standard input
  mission invites                         the invites this device issued and who redeemed them
  mission invite cancel INVITE_ID [--reason TEXT]
                                          nobody can redeem it any more (alias: mission cancel)
  mission members                         every member with its flags and standing
  mission revoke MEMBER [--reason TEXT] [--accept-none]
                                          also voids their invite and starts a new secret epoch
  mission confirm MEMBER                  the one redemption of an invite used by two devices
  mission confirm --all                   close every invite redeemed by one device (older missions)
  mission config set KEY=VALUE...         coordinators: sign mission settings (listed below)
  mission config show                     every mission setting, who set it and when, conflicts
  report add --category CAT --severity 1-4 --title TEXT [--description TEXT]
             [--station CODE] [--area TEXT] [--lat F --lon F [--precision M]] [--occurred T]
             [--attach FILE]... [--sealed] [--channel C --harm H --reach N --source TEXT]
  report list [--category CAT|FAMILY] [--station CODE] [--since T] [--status S] [--author MEMBER] [--limit N]
  report show ID
  report amend ID [any report add flag]
  report retract ID --reason TEXT         a second retract says so and writes nothing
  review ID --status verified|corroborated|rejected|escalated [--note TEXT] [--publish]
                                          --publish approves the report's text as held now for public
                                          exports; an amendment, or a review without it, withdraws that
  checkin --status arrived|opened|all_quiet|closed [--station CODE]
  alert [--note TEXT] [--station CODE]    observer in danger
  alert list                              alerts with their state: sent, acknowledged or resolved, by whom
                                          (a coordinator sees every alert, an observer its own)
  notice --text TEXT [--severity 1-4] [--station CODE | --area TEXT] [--ack ALERT_ID [--resolve]] [--expires DUR]
                                          coordinators: tell the field, or acknowledge (resolve) an alert
  notice list [--expired] [--all]         notices in force, most severe and newest first; --all adds those
                                          whose sender is not a coordinator in good standing, marked
  station import FILE.csv                 coordinators: the polling stations as one signed registry snapshot; columns
                                          code,name,admin,registered,lat,lon,tags (admin Region/District/Ward, tags
                                          space-separated: pvt, stratum=NAME); any bad line: nothing imported
  station list [--area TEXT] [--tag T] [--search TEXT]
                                          the registry in force, by code
  assign MEMBER --station CODE [--note TEXT] | assign MEMBER --none
                                          coordinators: post a member (supersedes its earlier assignment);
                                          sealed to the coordinators and the member where the mission seals
  assign list                             the assignments in force (a coordinator: everyone's; others: their own)
  form import FILE.xlsx [--phase opening|voting|closing|counting] [--required]
                                          coordinators: an XLSForm checklist (survey, choices, settings sheets) as a
                                          new signed version of its form; anything unsupported is named by sheet,
                                          row and column, and nothing imported; the same workbook again writes nothing
  form list                               the form versions this device holds, older ones marked
  form show ID                            one form, question by question: code, type, required, choices, bounds,
                                          show-if and flags (ID: the form's name, its ID or a unique prefix)
  coverage [--level 0-3] [--phase P]      coordinators: stations expected vs heard from, per admin unit and phase,
                                          and the silent stations (phases: opening, voting, closing, counting);
                                          required checklists expected vs received, the missing ones by station
  map load FILE.mbtiles                   this device's basemap: an MBTiles file of raster tiles (PNG, JPEG, WebP), as
                                          QGIS exports; checked, kept encrypted in the home, drawn under the app's maps
  map show                                the basemap's name, bounds, zoom levels, tiles and attribution
  map remove                              the maps go back to dots on a grid
  checklist submit --form ID --station CODE (--answer QID=VALUE)... | --answers FILE.json
                                          answer a form at a station (ID: a form's name, record ID or prefix);
                                          an answer that does not fit the form is refused, naming the question;
                                          na is "not applicable", never 0
  checklist list [--form ID] [--station CODE]
                                          responses by station and form, each author's latest: co-observers'
                                          answers side by side, disagreements marked, never merged
  tally submit --station CODE --contest NAME --cast N (--votes NAME=N)... [--registered N] [--issued N]
               [--invalid N] [--blank N] [--photo FILE]...
                                          copy a result sheet; stored even when it does not add up, the failing
                                          checks printed (registered or issued 0: not given)
  results [--contest NAME] [--all]        coordinators: per station ok|flagged|missing|consolidated and its flags;
                                          with a pvt sample, each choice's share and 95 % margin (quick count)
  bundle export --out FILE [--since T] [--max-size SIZE] [--to RECIPIENT | --passphrase-file F | --plain]
                                          records and attachment files on a file for a USB stick, encrypted for
                                          the mission's members; or to --to (an age1… key from the recipient's
                                          "vigil status --json"), a passphrase file, or not at all (--plain)
  bundle import FILE [--passphrase-file F]
                                          store a bundle's valid records (exit 3 if some were rejected)
  sms encode ID                           a sealed report, check-in, alert, tally or checklist response as one
                                          text message to send by hand (the text on stdout; its segments and the
                                          mission's SMS number on stderr)
  sms import FILE                         coordinators: texts that reached a phone (- for standard input): one a line
                                          (FROM<TAB>TEXT or the text alone), an SMS Backup & Restore XML file or a CSV
                                          export; stored as if by the mesh; prints each text's outcome and the receipt
                                          to text back ("reply to …"); exit 3 if some were refused or wait
  sms key share|rotate                    coordinators: seal the SMS inbox keys held here to today's coordinators, or
                                          make a new key (after a coordinator left)
  sms senders                             the texts per sender number: stored, duplicate, waiting, refused
  sms retry                               decode again the texts kept until their author's member record arrives
  sms gateway --modem DEVICE [--retry DUR]
                                          coordinators: take the texts a GSM modem receives and text the receipts
                                          back, until interrupted (through the node when one holds the home)
  sms gateway --listen IP:PORT --secret-file F [--tls-cert F --tls-key F] [--allow-public] [--retry DUR]
              [--phone-url URL --phone-user U --phone-password-file F]
                                          coordinators: take the texts an SMS-gateway app on a phone posts (signed
                                          webhooks); receipts go back through the app's local server; kept texts
                                          are decoded again every --retry (1m)
  attachment save ID --out DIR [--public]
                                          a report's files, or a tally's photos, under their names (sealed ones opened, if this device may);
                                          --public: the copies to publish, JPEG and PNG stripped of EXIF, GPS, serials, XMP and ICC
  export --format csv|jsonl|geojson|xlsx|pdf|evidence --out FILE [--public [--include-unverified]] [--hxl] [report list filters]
  export --records tallies|checklists|stations --format csv|jsonl|xlsx --out FILE [--public] [--hxl]
         [--station CODE] [--author MEMBER] [--since T]
                                          an observation table (docs/exports.md); a reports workbook holds them
                                          as sheets, and an evidence package holds them all
  export --format evidence --out FILE --disclose-keys
                                          also carry the keys of the sealed records this device opens, and their
                                          opened files, so a third party checks their content: whoever holds the
                                          package can then read it all
  verify FILE [--mission ID]              check a bundle, JSONL export or evidence package offline
  verify --qr IMAGE [--mission ID] [--mission-file FILE | --bundle FILE]
                                          check a report's QR code (from a PDF export), with its membership chain
  node [--listen MULTIADDR]... [--peer MULTIADDR]... [--no-mdns] [--relay-service] [--keep-all] [--verbose]
       [--practice-if-no-mission]         with no mission in this home, run the practice one beside it (make run)
  sync --peer MULTIADDR [--timeout DUR]   reconcile once with one peer, then exit
  peers                                   the peers a running node is connected to
  checkpoint                              sign the set root; print a text to publish
  status                                  this device, its store and its node
  wipe [--yes]                            destroy the store's key (asks on a terminal; --yes otherwise)
  forget --held                           delete this phone's records that coordinators hold (quick delete)
  backup --out FILE [--backup-passphrase-file F]
                                          this device's keys and whole store in one file, encrypted with a
                                          backup passphrase ($VIGIL_BACKUP_PASSPHRASE, the file, else a prompt)
  restore FILE [--backup-passphrase-file F]
                                          make this (empty) home from a backup; the original must not be used again
  demo [--seed N] [--day YYYY-MM-DD] [--print-home]
                                          a practice mission in a home of its own (default: the home + "-practice")
  gui                                     the app (the default with no command)
  help [COMMAND [SUBCOMMAND]]             this text, or a command's flags (also: vigil COMMAND --help)

ID: a report's full ID or a unique prefix of at least 8 characters after bafkrei.
MEMBER: an author key, a member record ID or a unique label.
T is RFC 3339 or a duration back from now (2h). DUR is a Go duration (72h).
The home is --home, else $VIGIL_HOME, else the user data folder.
The passphrase comes from $VIGIL_PASSPHRASE or --passphrase-file, else a prompt.
Categories: vigil report add --help lists them.
`

func (c *cli) cmdHelp([]string) error {
	fmt.Fprint(c.stdout, helpText+"\n"+configKeysHelp())
	return nil
}
