#!/usr/bin/env bash
# Runs Vigil's network end-to-end tests (internal/e2e): nodes in network
# namespaces on veth links that are cut, shaped to 32 kbit/s (tc tbf) and
# made lossy (nftables), plus a packet capture of what an outsider sees.
# The slow shaped-link test runs too (VIGIL_E2E_SLOW=1).
#
# Needs root and ip, tc, nft and tcpdump (Debian: iproute2 nftables
# tcpdump). Without root it prints why and exits 0 ("skipped"), so it can
# sit in any CI job. Extra arguments go to `go test` (e.g. -run Outsider).
# VIGIL_E2E_VERBOSE=1 gives the nodes --verbose (their logs are printed
# when a test fails).
set -euo pipefail

cd "$(dirname "$0")/.."

if [[ $(id -u) -ne 0 ]]; then
	echo "netns-e2e: skipped: needs root (network namespaces, veth, tc, nftables, tcpdump)"
	exit 0
fi
missing=()
for t in ip tc nft tcpdump; do
	if ! command -v "$t" >/dev/null 2>&1 && [[ ! -x /usr/sbin/$t && ! -x /sbin/$t ]]; then
		missing+=("$t")
	fi
done
if ((${#missing[@]})); then
	# The tests that need them skip and say so; the others still run.
	echo "netns-e2e: note: ${missing[*]} not found (apt-get install iproute2 nftables tcpdump)" >&2
fi
if ! command -v go >/dev/null 2>&1; then
	echo "netns-e2e: go not found" >&2
	exit 1
fi

export PATH="$PATH:/usr/sbin:/sbin"
export GOFLAGS="${GOFLAGS:+$GOFLAGS }-buildvcs=false"
export VIGIL_E2E_SLOW=1
exec go test -count=1 -v -timeout "${E2E_TIMEOUT:-40m}" "$@" ./internal/e2e
