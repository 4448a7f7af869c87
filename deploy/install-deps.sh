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
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The packaged redis-server service is not used: tests and the local stack start their own.
systemctl disable --now redis-server >/dev/null 2>&1 || true
