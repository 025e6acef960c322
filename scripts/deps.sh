#!/usr/bin/env bash
# scripts/deps.sh [core|gui|netns|all]...
#
# Installs what Vigil's build and tests need on a Debian 12 machine, and only
# what is missing: it checks first (dpkg, then the command or pkg-config
# module a package provides) and runs apt-get only when something is absent,
# so running it again is cheap and changes nothing.
#
#   core   gcc (cgo, -race), pkg-config, strace (fsync checks), git
#   gui    Fyne's cgo build (OpenGL and X11 headers), real-window tools
#          (Xvfb, xwd, ImageMagick's import, xauth, xdotool), and fonts the
#          app finds for Amharic (Noto) and Chinese (Droid Sans Fallback)
#   netns  network-namespace tests: ip, ping, nft, tcpdump
#   all    all of the above (the default)
#
# Exit status: 0 when everything asked for is present or was installed, and
# also when only optional groups (gui, netns) are missing and cannot be
# installed here (not root, no apt-get, no network): then it prints
# "missing: PKG..." on stderr and the tests that need them skip with a reason.
# 1 when Go is missing or older than 1.26, or a core package is missing.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

GO_MIN_MAJOR=1
GO_MIN_MINOR=26

core_pkgs=(gcc pkg-config strace git)
gui_pkgs=(gcc pkg-config libgl1-mesa-dev libx11-dev libxcursor-dev libxrandr-dev
  libxinerama-dev libxi-dev libxxf86vm-dev xvfb x11-apps imagemagick xauth xdotool
  fonts-noto-core fonts-droid-fallback)
netns_pkgs=(iproute2 iputils-ping nftables tcpdump)
# The tools analysts open exports with, for the tests that read our files
# back with them: GDAL (GIS), Gnumeric's ssconvert (spreadsheet), poppler
# (PDF rendering); and zip and Python, with which the tests re-zip an
# evidence package as a person unpacking and packing it again would. The
# PDF log embeds a CJK font it finds on the machine (it bundles the others):
# Droid Sans Fallback has TrueType outlines, which it can subset.
tools_pkgs=(gdal-bin gnumeric poppler-utils zip python3 fonts-droid-fallback)

say() { printf 'deps: %s\n' "$*" >&2; }

usage() {
  sed -n '2,/^set -euo/{/^#/s/^# \{0,1\}//p}' "$0" >&2
  exit "${1:-2}"
}

# What a package provides that can be probed without dpkg: a command, or a
# pkg-config module for the -dev libraries. Used when dpkg does not know the
# package (a non-Debian machine, or a tool installed by hand).
probe_of() {
  case "$1" in
    gcc | pkg-config | strace | git | xauth | xdotool | tcpdump | zip | python3) echo "cmd:$1" ;;
    xvfb) echo "cmd:Xvfb" ;;
    x11-apps) echo "cmd:xwd" ;;
    imagemagick) echo "cmd:import" ;;
    iproute2) echo "cmd:ip" ;;
    iputils-ping) echo "cmd:ping" ;;
    nftables) echo "cmd:nft" ;;
    libgl1-mesa-dev) echo "pc:gl" ;;
    libx11-dev) echo "pc:x11" ;;
    libxcursor-dev) echo "pc:xcursor" ;;
    libxrandr-dev) echo "pc:xrandr" ;;
    libxinerama-dev) echo "pc:xinerama" ;;
    libxi-dev) echo "pc:xi" ;;
    libxxf86vm-dev) echo "pc:xxf86vm" ;;
    fonts-noto-core) echo "file:/usr/share/fonts/truetype/noto/NotoSansEthiopic-Regular.ttf" ;;
    fonts-droid-fallback) echo "file:/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf" ;;
    *) echo none ;;
  esac
}

present() {
  local pkg=$1 probe
  if command -v dpkg-query >/dev/null 2>&1 &&
    dpkg-query -W -f='${db:Status-Abbrev}' "$pkg" 2>/dev/null | grep -q '^ii'; then
    return 0
  fi
  probe=$(probe_of "$pkg")
  case "$probe" in
    cmd:*) command -v "${probe#cmd:}" >/dev/null 2>&1 ;;
    pc:*) command -v pkg-config >/dev/null 2>&1 && pkg-config --exists "${probe#pc:}" ;;
    file:*) [ -e "${probe#file:}" ] ;;
    *) return 1 ;;
  esac
}

check_go() {
  if ! command -v go >/dev/null 2>&1; then
    say "go is not on PATH. Vigil needs Go >= ${GO_MIN_MAJOR}.${GO_MIN_MINOR} (Debian 12's golang package is too old):"
    say "  install it from https://go.dev/dl/ and put its bin directory on PATH."
    return 1
  fi
  local v major rest minor
  v=$(go env GOVERSION 2>/dev/null || true)
  case "$v" in
    go[0-9]*) ;;
    *)
      say "note: cannot tell Go's version from '${v:-nothing}' (a development build?); assuming it is new enough."
      return 0
      ;;
  esac
  v=${v#go}
  major=${v%%.*}
  rest=${v#*.}
  minor=${rest%%[!0-9]*}
  if [ -z "$minor" ] || [ "$major" -lt "$GO_MIN_MAJOR" ] ||
    { [ "$major" -eq "$GO_MIN_MAJOR" ] && [ "$minor" -lt "$GO_MIN_MINOR" ]; }; then
    say "$(command -v go) is go$v; Vigil needs Go >= ${GO_MIN_MAJOR}.${GO_MIN_MINOR}."
    say "  install a newer Go from https://go.dev/dl/ and put it first on PATH."
    return 1
  fi
}

# --- which groups ---------------------------------------------------------
[ $# -gt 0 ] || set -- all
want_core=0 want_gui=0 want_netns=0 want_tools=0 installed=0
for g in "$@"; do
  case "$g" in
    core) want_core=1 ;;
    gui) want_gui=1 ;;
    netns) want_netns=1 ;;
    tools) want_tools=1 ;;
    all) want_core=1 want_gui=1 want_netns=1 want_tools=1 ;;
    -h | --help) usage 0 ;;
    *) say "unknown group '$g'"; usage 2 ;;
  esac
done

go_ok=1
check_go || go_ok=0

# Required packages (core) and optional ones (gui, netns), without repeats.
required=() optional=()
[ "$want_core" = 1 ] && required+=("${core_pkgs[@]}")
[ "$want_gui" = 1 ] && optional+=("${gui_pkgs[@]}")
[ "$want_netns" = 1 ] && optional+=("${netns_pkgs[@]}")
[ "$want_tools" = 1 ] && optional+=("${tools_pkgs[@]}")

missing_of() { # prints the packages among "$@" that are absent, once each
  local p seen=" "
  for p in "$@"; do
    case "$seen" in *" $p "*) continue ;; esac
    seen+="$p "
    present "$p" || printf '%s\n' "$p"
  done
}

mapfile -t missing < <(missing_of "${required[@]}" "${optional[@]}")

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing: ${missing[*]}"
    installed=1
    apt_opts=(-q -o DPkg::Lock::Timeout=300)
    apt-get "${apt_opts[@]}" update || say "apt-get update failed; trying the install with the package lists already here"
    apt-get "${apt_opts[@]}" install -y --no-install-recommends "${missing[@]}" ||
      say "apt-get install failed"
    mapfile -t missing < <(missing_of "${required[@]}" "${optional[@]}")
  else
    if [ "$(id -u)" -ne 0 ]; then
      say "some packages are missing and this is not root, so nothing was installed."
    else
      say "some packages are missing and there is no apt-get here (not Debian?): install their equivalents."
    fi
    say "to install them, run:"
    say "  sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
    say "or: sudo $0 $*"
  fi
fi

missing_required=()
if [ ${#missing[@]} -gt 0 ]; then
  printf 'missing: %s\n' "${missing[*]}" >&2
  for p in "${missing[@]}"; do
    case " ${required[*]} " in *" $p "*) missing_required+=("$p") ;; esac
  done
  if [ ${#missing_required[@]} -eq 0 ]; then
    say "only optional packages are missing; the tests that need them will skip and say why."
  fi
elif [ "$installed" = 1 ]; then
  say "installed what was missing; all present ($*)"
else
  say "all present ($*)"
fi

if [ "$go_ok" = 0 ] || [ ${#missing_required[@]} -gt 0 ]; then
  [ ${#missing_required[@]} -eq 0 ] || say "required (core) packages are missing: ${missing_required[*]}"
  exit 1
fi
exit 0
