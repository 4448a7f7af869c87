#!/usr/bin/env bash
# Installs every build, run and test dependency of Switchboard from Debian's packages.
# Used by the README's two commands and by .ci/run; idempotent and quiet when done already.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config clang-format
  libsofia-sip-ua-dev libsofia-sip-ua-glib-dev
  libevent-dev libhiredis-dev libyaml-cpp-dev prometheus-cpp-dev catch2
  redis-server redis-tools sip-tester curl python3 procps
  chromium fonts-noto-cjk
  prometheus python3-yaml
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# The packaged services are not used: tests and the local stack start their own
# redis-server, and of Debian's prometheus only promtool is needed (monitoring/ tests).
# Keep apt from starting them (policy-rc.d, honoured by invoke-rc.d and deb-systemd-invoke,
# also in containers without systemd), unless the machine already has a policy of its own.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\n# written by switchboard deploy/install-deps.sh while installing\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  trap 'rm -f "$policy"' EXIT
fi
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# ...and not at the next boot either.
systemctl disable --now redis-server >/dev/null 2>&1 || true
if printf '%s\n' "${missing[@]}" | grep -qx prometheus; then
  systemctl disable --now prometheus >/dev/null 2>&1 || true
fi
