#!/usr/bin/env bash
# Builds the Debian package from a configured build tree and checks what it installs.
# Usage: deploy/check-package.sh [BUILD_DIR]
set -euo pipefail
build=${1:-build}
rm -f "$build"/switchboard_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/switchboard_*.deb)
contents=$(dpkg-deb --contents "$deb")
missing=0
for path in ./usr/bin/switchboard ./usr/bin/switchboardctl ./usr/lib/systemd/system/switchboard.service \
            ./etc/switchboard/gateway.yaml ./usr/share/switchboard/routing-tables/national/routes.yaml \
            ./usr/share/switchboard/routing-tables/example/trunks.yaml; do
  if ! grep -q " $path\$" <<<"$contents"; then
    echo "package: missing $path" >&2
    missing=1
  fi
done
info=$(dpkg-deb --info "$deb")
grep -E "Package|Version|Depends" <<<"$info"
for script in postinst prerm conffiles; do
  grep -q " $script" <<<"$info" || { echo "package: no $script" >&2; missing=1; }
done
[ "$missing" -eq 0 ] && echo "package ok: $deb"
exit "$missing"
