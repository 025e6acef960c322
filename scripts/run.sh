#!/usr/bin/env bash
# scripts/run.sh: build Vigil and start it the way a new user meets it.
#
# Builds bin/vigil (the headless variant when the GUI libraries are missing)
# and uses vigil's own default home: no --home is passed, so VIGIL_HOME or
# the OS user data folder applies. With a display and a GUI in the build, it
# opens the app. Otherwise it stays in the terminal and runs the headless node
# in the foreground (`vigil node --practice-if-no-mission`): on the default
# home when it holds a mission, else on the practice mission beside it. The
# passphrase comes from VIGIL_PASSPHRASE, else a prompt on the terminal.
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
      practice=$("$vigil" demo --print-home) || exit 1
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

# --- no display: the headless node, in the foreground ----------------------
# vigil picks the home: the default one when it holds a mission; otherwise
# the practice home beside it (made on first use), saying so and how to
# create or join a real mission in the default home. Ctrl-C (SIGINT to the
# process group) stops the node cleanly: exec leaves no shell in between.
if [ -z "${VIGIL_PASSPHRASE:-}" ] && [ ! -t 0 ]; then
  say "run: no passphrase to unlock a store with: set VIGIL_PASSPHRASE, or run \`make run\` on a terminal to be asked for one."
  exit 1
fi
say "run: starting the headless node (Ctrl-C stops it). The \`vigil\` named below is $PWD/$vigil."
exec "$vigil" node --practice-if-no-mission
