#!/usr/bin/env bash
# scripts/run.sh: build Vigil and start it the way a new user meets it.
#
# Builds bin/vigil (the headless variant when the GUI libraries are missing)
# and uses vigil's own default home: no --home is passed, so VIGIL_HOME or
# the OS user data folder applies. With a display and a GUI in the build, it
# opens the app. Otherwise it stays in the terminal: it sets the home up on
# first use (vigil init asks for a passphrase unless VIGIL_PASSPHRASE is set),
# shows `vigil status`, and runs the headless node in the foreground.
#
# Commands that this build does not have yet are reported and skipped.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

case " ${GOFLAGS:-} " in *" -buildvcs="*) ;; *) export GOFLAGS="${GOFLAGS:+$GOFLAGS }-buildvcs=false" ;; esac
export LANG="${LANG:-en_US.UTF-8}"

vigil=bin/vigil
say() { printf '%s\n' "$*" >&2; }

# has CMD...: does this build know the command? Probed with --help, under a
# timeout, with no input, so a command that ignores --help cannot hang here.
has() { timeout 10 "$vigil" "$@" --help </dev/null >/dev/null 2>&1; }

# --- build ----------------------------------------------------------------
mkdir -p bin
if ! go build -o "$vigil" ./cmd/vigil; then
  say "run: the full build failed; trying the headless build (no GUI) instead."
  say "     (if the GUI libraries are missing, \`make deps\` installs them)"
  if ! CGO_ENABLED=0 go build -tags headless -o "$vigil" ./cmd/vigil; then
    say "run: could not build $vigil from ./cmd/vigil; the app is not built yet."
    exit 1
  fi
fi

# --- the app, when there is a screen to show it on -------------------------
if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  if has gui; then
    # First start (no store in the default home yet): offer the practice
    # mission, so a newcomer sees every screen populated before the real day.
    home="${VIGIL_HOME:-${XDG_DATA_HOME:-$HOME/.local/share}/vigil}"
    if [ "$(uname -s)" = Linux ] && [ ! -e "$home/key.json" ]; then
      say "run: first start. A practice mission (a fictional country, a polling day of reports) shows every screen populated."
      practice="${home}-practice"
      if [ -t 0 ]; then
        read -r -p "Open the practice mission first? It lives in $practice, apart from real data. [y/N] " answer
        case "$answer" in
          [yY]*)
            if [ ! -e "$practice/key.json" ]; then
              "$vigil" --home "$practice" demo >/dev/null || exit 1
            fi
            exec "$vigil" --home "$practice" gui
            ;;
        esac
      else
        say "run: \`$vigil demo\` creates it; then \`$vigil --home $practice gui\`."
      fi
    fi
    exec "$vigil" gui
  fi
  say "run: this build has no GUI yet ($vigil gui --help failed); staying in the terminal."
else
  say "run: no display (neither DISPLAY nor WAYLAND_DISPLAY is set); staying in the terminal."
fi

# --- first use: set the home up --------------------------------------------
errf=$(mktemp)
trap 'rm -f "$errf"' EXIT

# Run status with stderr shown and kept, to tell "not initialised" apart.
{ "$vigil" status 2>&1 1>&3 3>&- | tee "$errf" >&2 3>&-; } 3>&1
status_rc=${PIPESTATUS[0]}

if [ "$status_rc" -ne 0 ]; then
  if grep -qiE 'unknown (command|subcommand)|no such command|not implemented' "$errf"; then
    say "run: this build has no \`vigil status\` yet; skipping the first-use setup."
  elif grep -qiE 'not (yet )?initiali[sz]ed|vigil init|no such file|does not exist|not exist|no (keys|store|identity)' "$errf"; then
    say ""
    say "Vigil keeps election observers' incident reports signed and encrypted on this device,"
    say "and passes them peer to peer (LAN, hotspot, internet or USB stick) whenever any link exists."
    say ""
    if [ -z "${VIGIL_PASSPHRASE:-}" ]; then
      say "Setting up this device: vigil init will ask for a passphrase that protects the store."
    fi
    if "$vigil" init; then
      "$vigil" status || say "run: $vigil status failed after init (above)."
      say ""
      say "Next: \`$vigil demo\` for a practice mission, or \`$vigil mission create --name NAME\` to start a real one (\`$vigil mission join CODE\` to join one)."
    elif has init; then
      say "run: $vigil init failed (above); the home is not set up, so nothing more to start."
      exit 1
    else
      say "run: this build has no \`vigil init\` yet; skipping the first-use setup."
    fi
  else
    say "run: $vigil status failed (above) for a reason other than a new home; leaving the home as it is."
  fi
fi

# --- the headless node, in the foreground ------------------------------------
if has node; then
  say "run: starting the headless node on the same home (Ctrl-C stops it)."
  exec "$vigil" node
fi
say "run: this build has no \`vigil node\` yet; nothing more to start."
