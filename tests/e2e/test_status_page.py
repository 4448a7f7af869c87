#!/usr/bin/env python3
"""End-to-end test of the duty-room status page (issue 5 item 5 and "What it must show"):
the real daemon, a real redis-server and SIPp peers on loopback, the page rendered by
headless Chromium (Debian's `chromium`), its content checked against /api/v1/trunks and
/api/v1/status, and a screenshot saved as <build-dir>/artifacts/status-page.png.

Before the page is loaded the trunks are put in states that differ, so that a page showing
the wrong state fails the check:
  js-suzhou        up, capacity 5, two answered calls (15-minute figures)
  js-province      up, drained through POST /api/v1/trunks/js-province/drain (bearer token)
  zj-province      up, no capacity limit
  zj-hangzhou      up, closed today by its opening hours
  mohrss-national  up, capacity 1, one call ringing on it: full
  zj-ningbo        nothing answers its probes (down) and disabled through the API
  bj-province, ha-province   nothing answers their probes: down
Then the page is rendered once more from a stand-in server whose API never answers: the
error banner must show.

Run:  python3 tests/e2e/test_status_page.py --build-dir build [-v] [--keep]
Prints "N passed, N failed" last and exits non-zero when anything failed.
"""

import contextlib
import datetime
import html.parser
import http.client
import http.server
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import threading
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness as h  # noqa: E402

BUILD_DIR = os.path.join(h.REPO, "build")
PROVINCES_TSV = os.path.join(h.REPO, "routing-tables", "reference", "provinces.tsv")
TOKEN = "status-page-e2e-token-7f3a9c1d"  # the daemon reads SWITCHBOARD_ADMIN_TOKEN
ORIGIN = "ha-province"  # the SIPp caller's trunk (tests/fixtures/e2e/tables)
CALLER = "13800138000"  # a mobile number with no home region: the default route
HOLD_MS = 20000  # how long the call on mohrss-national rings before the caller cancels
WINDOW = (1400, 1000)


def daemon_binary():
    return os.environ.get("SWITCHBOARD_BIN") or os.path.join(BUILD_DIR, "gateway", "app", "switchboard")


def ctl_binary():
    return os.environ.get("SWITCHBOARDCTL_BIN") or os.path.join(BUILD_DIR, "gateway", "ctl", "switchboardctl")


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return "/usr/bin/chromium"


def artifacts_dir():
    path = os.path.join(BUILD_DIR, "artifacts")
    os.makedirs(path, exist_ok=True)
    return path


# ---------------------------------------------------------------------------------------
# Headless Chromium

def chromium(workdir, url, *args, timeout=90.0):
    """One headless Chromium run; returns its stdout (the DOM with --dump-dom)."""
    argv = [chromium_binary(), "--headless=new", "--no-sandbox", "--disable-gpu",
            "--disable-dev-shm-usage", "--no-first-run", "--no-default-browser-check",
            "--user-data-dir=" + os.path.join(workdir, "chromium-profile"),
            "--virtual-time-budget=5000"] + list(args) + [url]
    proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    if proc.returncode != 0:
        raise h.HarnessError("chromium exited %d:\n%s" % (proc.returncode,
                                                          proc.stderr.decode("utf-8", "replace")[-3000:]))
    return proc.stdout.decode("utf-8", "replace")


def dump_dom(workdir, url):
    return chromium(workdir, url, "--dump-dom")


def screenshot(workdir, url, path):
    chromium(workdir, url, "--screenshot=" + path, "--window-size=%d,%d" % WINDOW, "--hide-scrollbars")
    if not os.path.exists(path):
        raise h.HarnessError("chromium wrote no screenshot at %s" % path)


# ---------------------------------------------------------------------------------------
# A small DOM from Chromium's serialisation (html.parser, standard library)

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent=None):
        self.tag = tag
        self.attrs = dict(attrs)
        self.parent = parent
        self.children = []  # Node or str

    def classes(self):
        return (self.attrs.get("class") or "").split()

    def text(self):
        parts = []
        for c in self.children:
            # An element boundary counts as a space: the page separates its parts by
            # layout (blocks, badges), not by characters.
            parts.append(c if isinstance(c, str) else " %s " % c.text())
        return "".join(parts)

    def clean_text(self):
        return " ".join(self.text().split())

    def walk(self):
        for c in self.children:
            if isinstance(c, Node):
                yield c
                yield from c.walk()

    def find_all(self, pred):
        return [n for n in self.walk() if pred(n)]

    def find(self, pred):
        for n in self.walk():
            if pred(n):
                return n
        return None

    def by_id(self, ident):
        return self.find(lambda n: n.attrs.get("id") == ident)

    def by_class(self, cls):
        return self.find(lambda n: cls in n.classes())


class _Builder(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, attrs, self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, attrs, self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not self.root and n.tag != tag:
            n = n.parent
        if n is not self.root:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse_dom(text):
    b = _Builder()
    b.feed(text)
    b.close()
    return b.root


# ---------------------------------------------------------------------------------------
# What the page must say about a trunk (its legend: health, admin state, opening hours)

def expected_verdict(t):
    if t["admin"] == "disabled":
        return "DISABLED"
    if t["admin"] == "draining":
        return "DRAINING"
    if t["health"] == "down":
        return "DOWN"
    if not t["open_now"]:
        return "CLOSED"
    if t["capacity"] and t["active_calls"] + t["calls_elsewhere"] >= t["capacity"]:
        return "FULL"
    return "IN SERVICE"


def provinces_reference():
    """provinces.tsv -> {code: (name_zh, name_en)}."""
    out = {}
    with open(PROVINCES_TSV, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            cols = line.rstrip("\n").split("\t")
            out[cols[0]] = (cols[1], cols[2])
    return out


def comparable(trunks, status):
    """What the page shows of the API's answers, without the figures that move on their own
    (probe RTT values), to tell whether the API changed while Chromium rendered."""
    rows = tuple((t["name"], t["health"], t["admin"], t["open_now"], t["active_calls"],
                  t["calls_elsewhere"], t["capacity"], json.dumps(t["last_15m"], sort_keys=True),
                  t.get("probe_rtt_ms") is None) for t in trunks["trunks"])
    head = (status.get("ready"), status.get("draining"), status.get("redis_up"),
            status.get("routing_table_version"), status.get("calls_in_progress"))
    return trunks["table_version"], rows, head


def china_dates(days):
    """ISO dates in China Standard Time (UTC+8), `days` offsets from today."""
    today = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=8)).date()
    return ['"%s"' % (today + datetime.timedelta(days=d)).isoformat() for d in days]


def add_trunk_fields(table_dir, fields):
    """Adds YAML lines to trunks of the copied fixture's trunks.yaml: {trunk: [line, ...]}."""
    path = os.path.join(table_dir, "trunks.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for trunk, lines in fields.items():
        anchor = "  - name: %s\n" % trunk
        if text.count(anchor) != 1:
            raise h.HarnessError("trunk %s not found once in %s" % (trunk, path))
        text = text.replace(anchor, anchor + "".join("    %s\n" % line for line in lines))
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        return None
    return struct.unpack(">II", head[16:24])


class _PageOnly(http.server.BaseHTTPRequestHandler):
    """Serves the page at / and drops every other request without an answer: an API that
    cannot be reached."""
    page = b""

    def do_GET(self):  # noqa: N802 - http.server's naming
        if self.path in ("/", "/index.html"):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(self.page)))
            self.end_headers()
            self.wfile.write(self.page)
        else:
            self.close_connection = True  # no status line: fetch() fails as unreachable

    def log_message(self, *args):
        pass


# ---------------------------------------------------------------------------------------

class StatusPageTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.stack = contextlib.ExitStack()
        try:
            cls._set_up()
        except BaseException:
            cls.stack.close()
            raise

    @classmethod
    def _set_up(cls):
        cls.workdir = h.make_workdir("sb-e2e-status-")
        cls.redis = h.RedisServer(cls.workdir).start()
        cls.stack.callback(cls.redis.stop)
        cls.ports = {t: h.free_port() for t in h.TRUNKS}
        cls.table_dir = os.path.join(cls.workdir, "tables")
        h.make_table_dir(cls.table_dir, cls.ports)
        add_trunk_fields(cls.table_dir, {
            "js-suzhou": ["capacity: 5", "cps: 10"],
            "js-province": ["capacity: 30", "cps: 20"],
            "zj-hangzhou": ["capacity: 10", "cps: 5", "hours:",
                            "  closed: [%s]" % ", ".join(china_dates((-1, 0, 1)))],
            "zj-ningbo": ["capacity: 10"],
            "mohrss-national": ["capacity: 1"],
        })
        h.publish_tables(ctl_binary(), cls.table_dir, cls.redis.address)

        # The daemon takes the admin token from the environment it inherits.
        os.environ["SWITCHBOARD_ADMIN_TOKEN"] = TOKEN
        probe = "{interval_ms: 400, timeout_ms: 300, down_after: 2, up_after: 1}"
        cls.gw = h.Gateway(daemon_binary(), cls.workdir, cls.redis.address,
                           extra_sip={"probe": probe})
        cls.stack.callback(cls._stop_gateway)
        cls.gw.start()
        gw_re = h.re_escape(cls.gw.sip_address)

        # SIPp peers answer the probes (-aa); bj-province, ha-province and zj-ningbo have none.
        def peer(trunk, scenario, calls=None, **params):
            uas = h.Uas(scenario, cls.ports[trunk], cls.workdir, params=params, calls=calls,
                        timeout_s=240)
            uas.start()
            cls.stack.callback(uas.stop)
            return uas
        answer = dict(ORIGIN=h.re_escape(ORIGIN), GW_RE=gw_re)
        # No call limit (-m): SIPp counts each auto-answered OPTIONS as a call and stops
        # answering probes once the limit is reached.
        peer("js-suzhou", "uas-answer.xml", REGION="320500", LEVEL="city", **answer)
        for trunk in ("js-province", "zj-province", "zj-hangzhou"):
            peer(trunk, "uas-answer.xml", REGION="[0-9]*", LEVEL="[a-z]*", **answer)
        # uas-ring.xml waits 10 s for the CANCEL; this copy waits long enough for the hold.
        with open(os.path.join(h.SCENARIOS, "uas-ring.xml"), encoding="utf-8") as f:
            ring = f.read()
        wait = '<recv request="CANCEL" timeout="10000"/>'
        if ring.count(wait) != 1:
            raise h.HarnessError("uas-ring.xml changed: no single %s" % wait)
        ring_path = os.path.join(cls.workdir, "uas-ring-long.xml")
        with open(ring_path, "w", encoding="utf-8") as f:
            f.write(ring.replace(wait, '<recv request="CANCEL" timeout="%d"/>' % (HOLD_MS + 30000)))
        peer("mohrss-national", ring_path)

        # Operators' changes through the admin API, with the bearer token.
        for trunk, action in (("js-province", "drain"), ("zj-ningbo", "disable")):
            status, body = cls.post("/api/v1/trunks/%s/%s" % (trunk, action))
            if status != 200:
                raise h.HarnessError("POST %s %s answered %d: %s" % (trunk, action, status, body))

        cls.wait_for({"js-suzhou": ("up", "enabled"), "js-province": ("up", "draining"),
                      "zj-province": ("up", "enabled"), "zj-hangzhou": ("up", "enabled"),
                      "mohrss-national": ("up", "enabled"), "zj-ningbo": (None, "disabled"),
                      "bj-province": ("down", "enabled"), "ha-province": ("down", "enabled")})

        # Two answered calls on js-suzhou: its 15-minute figures.
        for _ in range(2):
            r = h.run_uac("uac-call.xml", cls.gw.sip_address, "12333320500", cls.workdir,
                          params={"CALLER": CALLER, "RR_RE": "sip:%s;lr" % gw_re})
            if r.rc != 0 or r.successful != 1:
                raise h.HarnessError("call to js-suzhou failed: %s" % r.describe())

        # One call ringing on mohrss-national (capacity 1) while the page is rendered.
        cls.held = {}

        def hold():
            cls.held["result"] = h.run_uac("uac-cancel.xml", cls.gw.sip_address, "12333",
                                           cls.workdir, timeout_s=HOLD_MS // 1000 + 30,
                                           params={"CALLER": CALLER, "CANCEL_AFTER_MS": HOLD_MS})
        cls.hold_thread = threading.Thread(target=hold, daemon=True)
        cls.hold_thread.start()
        cls.stack.callback(cls.hold_thread.join, HOLD_MS / 1000 + 45)
        h.wait_until(lambda: cls.trunk("mohrss-national")["active_calls"] == 1, 10,
                     what="the ringing call on mohrss-national")

        # The page as served, then as rendered, with the API read before and after: when
        # something moved while Chromium ran, render again.
        cls.page_status, cls.page_type, cls.page_source = cls.get_page("/")
        cls.url = "http://127.0.0.1:%d/" % cls.gw.admin_port
        for _ in range(3):
            before = cls.api()
            cls.dom_text = dump_dom(cls.workdir, cls.url)
            after = cls.api()
            if comparable(*before) == comparable(*after):
                break
        cls.trunks, cls.status = after
        with open(os.path.join(artifacts_dir(), "status-page.dom.html"), "w", encoding="utf-8") as f:
            f.write(cls.dom_text)
        cls.dom = parse_dom(cls.dom_text)

        cls.shot = os.path.join(artifacts_dir(), "status-page.png")
        if os.path.exists(cls.shot):
            os.remove(cls.shot)
        screenshot(cls.workdir, cls.url, cls.shot)

        # The same page with an API that never answers.
        _PageOnly.page = cls.page_source.encode("utf-8")
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _PageOnly)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        cls.stack.callback(server.server_close)
        cls.stack.callback(server.shutdown)
        cls.down_dom = parse_dom(dump_dom(cls.workdir, "http://127.0.0.1:%d/" % server.server_port))

    @classmethod
    def _stop_gateway(cls):
        cls.gw_exit = cls.gw.stop()

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()
        result = cls.held.get("result")
        if result is None or result.rc != 0:
            raise AssertionError("the held call did not end cleanly: %s"
                                 % (result.describe() if result else "no result"))
        if cls.gw_exit != 0:
            raise AssertionError("switchboard exited %s on SIGTERM\n--- log ---\n%s"
                                 % (cls.gw_exit, cls.gw.log_tail()))

    # --- helpers ----------------------------------------------------------------------

    @classmethod
    def post(cls, path, token=TOKEN):
        conn = http.client.HTTPConnection("127.0.0.1", cls.gw.admin_port, timeout=5)
        try:
            conn.request("POST", path, headers={"Authorization": "Bearer " + token})
            resp = conn.getresponse()
            return resp.status, resp.read().decode("utf-8", "replace")
        finally:
            conn.close()

    @classmethod
    def get_page(cls, path):
        conn = http.client.HTTPConnection("127.0.0.1", cls.gw.admin_port, timeout=5)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.getheader("Content-Type"), resp.read().decode("utf-8")
        finally:
            conn.close()

    @classmethod
    def api(cls):
        status, body = cls.gw.get("/api/v1/trunks")
        if status != 200:
            raise h.HarnessError("/api/v1/trunks answered %d: %s" % (status, body))
        return json.loads(body), cls.gw.status()

    @classmethod
    def trunk(cls, name):
        for t in cls.api()[0]["trunks"]:
            if t["name"] == name:
                return t
        raise h.HarnessError("no trunk %s in /api/v1/trunks" % name)

    @classmethod
    def wait_for(cls, states, timeout=20.0):
        last = {}

        def reached():
            last.clear()
            last.update({t["name"]: (t["health"], t["admin"]) for t in cls.api()[0]["trunks"]})
            return all(k in last and (v[0] is None or last[k][0] == v[0]) and last[k][1] == v[1]
                       for k, v in states.items())
        try:
            h.wait_until(reached, timeout, interval=0.2, what="trunk states %s" % states)
        except h.HarnessError as e:
            raise h.HarnessError("%s; last seen %s\n--- switchboard log ---\n%s"
                                 % (e, last, cls.gw.log_tail())) from None

    def row(self, name):
        row = self.dom.find(lambda n: n.tag == "tr" and n.attrs.get("data-trunk") == name)
        self.assertIsNotNone(row, "no row for trunk %s in the rendered page" % name)
        return row

    def cell(self, name, cls):
        td = self.row(name).find(lambda n: n.tag == "td" and cls in n.classes())
        self.assertIsNotNone(td, "trunk %s: no %s cell" % (name, cls))
        return td.clean_text()

    # --- the page as served -------------------------------------------------------------

    def test_page_is_served_as_utf8_html(self):
        self.assertEqual(self.page_status, 200)
        self.assertRegex(self.page_type or "", r"^text/html;\s*charset=utf-8$")
        self.assertRegex(self.page_source, r'<meta charset="utf-8">')

    def test_page_needs_no_external_asset(self):
        src = self.page_source
        self.assertNotRegex(src, r"(?i)<link\b", "a <link> (stylesheet, icon, font) is external")
        self.assertNotRegex(src, r"(?i)<script[^>]*\bsrc=", "a script loaded from elsewhere")
        self.assertNotRegex(src, r"(?i)<img\b|@import|url\(", "an image, import or url() in CSS")
        self.assertNotRegex(src, r"(?i)(src|href)=\"(https?:)?//", "an absolute URL")
        self.assertNotRegex(src, r"(?i)fetch\(\s*['\"](https?:)?//", "fetch() to another host")

    def test_page_carries_every_province_of_the_reference(self):
        # The page's code -> name map is a copy of provinces.tsv: no row may be missing.
        for code, (zh, en) in provinces_reference().items():
            with self.subTest(province=code):
                self.assertRegex(self.page_source, r'"%s":\["%s","%s"\]'
                                 % (re.escape(code), re.escape(zh), re.escape(en)))

    # --- the page as rendered, against the API ------------------------------------------

    def test_setup_made_trunk_states_differ(self):
        verdicts = {expected_verdict(t) for t in self.trunks["trunks"]}
        self.assertTrue({"IN SERVICE", "DRAINING", "DISABLED", "DOWN", "CLOSED", "FULL"} <= verdicts,
                        "the API shows only %s" % sorted(verdicts))

    def test_every_trunk_has_a_row_with_its_names(self):
        rows = {n.attrs.get("data-trunk") for n in self.dom.find_all(lambda n: n.tag == "tr")}
        for t in self.trunks["trunks"]:
            with self.subTest(trunk=t["name"]):
                self.assertIn(t["name"], rows)
                text = self.cell(t["name"], "c-trunk")
                self.assertIn(t["name"], text)
                self.assertIn(t["display_name"], text)
        self.assertEqual({r for r in rows if r}, {t["name"] for t in self.trunks["trunks"]},
                         "rows for trunks the API does not list")

    def test_state_text_matches_health_admin_and_hours(self):
        for t in self.trunks["trunks"]:
            with self.subTest(trunk=t["name"]):
                text = self.cell(t["name"], "c-state")
                self.assertTrue(text.startswith(expected_verdict(t)),
                                "%r should start with %s" % (text, expected_verdict(t)))
                self.assertRegex(text, r"health\W*%s\b" % t["health"].upper())
                self.assertRegex(text, r"admin %s\b" % t["admin"].upper())
                self.assertRegex(text, r"hours %s\b" % ("OPEN" if t["open_now"] else "CLOSED"))

    def test_drained_disabled_closed_full_and_down_trunks_say_so(self):
        # The word and the row's colour class (the coloured stripe) for each state the
        # set-up produced.
        for name, word, colour in (("js-province", "DRAINING", "s-drain"),
                                   ("zj-ningbo", "DISABLED", "s-off"),
                                   ("zj-hangzhou", "CLOSED", "s-closed"),
                                   ("mohrss-national", "FULL", "s-full"),
                                   ("bj-province", "DOWN", "s-down"),
                                   ("js-suzhou", "IN SERVICE", "s-ok")):
            with self.subTest(trunk=name):
                self.assertTrue(self.cell(name, "c-state").startswith(word), self.cell(name, "c-state"))
                self.assertIn(colour, self.row(name).classes())

    def test_calls_against_capacity(self):
        for t in self.trunks["trunks"]:
            with self.subTest(trunk=t["name"]):
                in_use = t["active_calls"] + t["calls_elsewhere"]
                cap = str(t["capacity"]) if t["capacity"] else "∞"
                self.assertRegex(self.cell(t["name"], "c-calls"), r"^%d / %s(\s|$)" % (in_use, cap))
                bar = self.row(t["name"]).by_class("bar")
                self.assertIsNotNone(bar, "no capacity bar")
        self.assertRegex(self.cell("mohrss-national", "c-calls"), r"^1 / 1\s")

    def test_answer_ratios_over_15_minutes(self):
        for t in self.trunks["trunks"]:
            with self.subTest(trunk=t["name"]):
                w = t["last_15m"]
                offered = self.cell(t["name"], "c-offered")
                self.assertEqual(offered, str(w["offered"]))
                for cls, n in (("c-answer", w["answered"]), ("c-sl20", w["answered_20s"])):
                    text = self.cell(t["name"], cls)
                    if w["offered"] == 0:
                        self.assertEqual(text, "—")
                    else:
                        self.assertEqual(text, "%d %% %d of %d" % (round(100.0 * n / w["offered"]), n,
                                                                   w["offered"]))
        suzhou = self.cell("js-suzhou", "c-answer")
        self.assertEqual(suzhou, "100 % 2 of 2", "js-suzhou answered both calls")

    def test_probe_rtt(self):
        # probe_rtt_ms: a number, null (no answer yet) or absent (an older daemon): "—".
        for t in self.trunks["trunks"]:
            with self.subTest(trunk=t["name"]):
                text = self.cell(t["name"], "c-rtt")
                if isinstance(t.get("probe_rtt_ms"), (int, float)):
                    self.assertRegex(text, r"^\d+(\.\d)? ms$")
                else:
                    self.assertEqual(text, "—")

    def test_trunks_grouped_under_province_headings(self):
        ref = provinces_reference()
        groups = self.dom.find_all(lambda n: n.tag == "tbody" and "province" in n.classes())
        self.assertTrue(groups, "no province groups")
        seen = {}
        for g in groups:
            code = g.attrs.get("data-province")
            head = g.find(lambda n: n.tag == "tr" and "prov-head" in n.classes())
            self.assertIsNotNone(head, "province %s has no heading" % code)
            zh, en = ref[code]
            self.assertIn(zh, head.clean_text())
            self.assertIn(en, head.clean_text())
            seen[code] = {r.attrs["data-trunk"] for r in g.find_all(lambda n: "data-trunk" in n.attrs)}
        expected = {}
        for t in self.trunks["trunks"]:
            expected.setdefault(t["province"][:2], set()).add(t["name"])
        self.assertEqual(seen, expected)
        self.assertEqual(list(seen), sorted(seen), "provinces in code order")

    def test_header_shows_gateway_state_version_and_update_time(self):
        self.assertEqual(self.dom.by_id("gw-state").clean_text(), "READY")
        self.assertEqual(self.dom.by_id("redis-state").clean_text(), "UP")
        self.assertEqual(self.dom.by_id("table-version").clean_text(),
                         "v%d" % self.trunks["table_version"])
        self.assertEqual(self.dom.by_id("calls-in-progress").clean_text(),
                         str(self.status["calls_in_progress"]))
        self.assertEqual(self.dom.by_id("trunk-count").clean_text(), str(len(self.trunks["trunks"])))
        self.assertRegex(self.dom.by_id("last-updated").clean_text(), r"^\d\d:\d\d:\d\d$")
        self.assertIn("hidden", self.dom.by_id("error-banner").attrs, "error banner shown")

    # --- failure display and the artifact -----------------------------------------------

    def test_error_banner_when_api_unreachable(self):
        banner = self.down_dom.by_id("error-banner")
        self.assertIsNotNone(banner)
        self.assertNotIn("hidden", banner.attrs, "the banner stays hidden")
        self.assertRegex(banner.clean_text(), r"/api/v1/(status|trunks) unreachable")
        self.assertEqual(self.down_dom.by_id("last-updated").clean_text(), "never")
        self.assertFalse(self.down_dom.find_all(lambda n: "data-trunk" in n.attrs))

    def test_screenshot_saved_as_artifact(self):
        self.assertEqual(png_size(self.shot), WINDOW, "not a %dx%d PNG: %s" % (WINDOW + (self.shot,)))
        self.assertGreater(os.path.getsize(self.shot), 20000, "an empty-looking screenshot")


def _set_build_dir(path):
    global BUILD_DIR
    BUILD_DIR = path


def main(argv=None):
    return h.run_suite(sys.modules[__name__], _set_build_dir, BUILD_DIR, argv, label="e2e status page",
                       extra=lambda: "screenshot: %s" % os.path.join(BUILD_DIR, "artifacts", "status-page.png"))

if __name__ == "__main__":
    sys.exit(main())
