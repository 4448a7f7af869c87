#!/usr/bin/env bash
# A demo with national traffic: builds Switchboard, starts a private Redis and the gateway
# with the national routing tables (routing-tables/national), plays the network's 116 trunks
# (tests/e2e/sip_peer.py, one process) and sends SIPp calls weighted by each province's 2014
# call volume, with its answered / abandoned / failed mix (tests/load/national_profile.py).
# It prints the status page and metrics addresses first; after the calls everything keeps
# running so you can look around; Ctrl-C stops it all. Loopback only.
# Usage: deploy/demo.sh [--rate CALLS_PER_S] [--duration S] [--no-deps] [more national_profile.py options]
set -euo pipefail
cd "$(dirname "$0")/.."
deps=1
args=()
rate=10
duration=300
while [ $# -gt 0 ]; do
  case "$1" in
    --no-deps) deps=0 ;;
    --rate) rate="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) args+=("$1") ;;
  esac
  shift
done

[ "$deps" -eq 0 ] || bash deploy/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target switchboard switchboardctl
exec python3 tests/load/national_profile.py --build-dir build --demo \
  --rate "$rate" --duration "$duration" "${args[@]}"
