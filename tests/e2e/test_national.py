#!/usr/bin/env python3
"""End-to-end tests of national routing (issue 4, "What it must show"): SIPp peers on
loopback against the real switchboard daemon and a real redis-server.

  - a bare 12333 from a Henan mobile number lands on Henan's trunk (caller home region);
  - a call to Hangzhou (per-city Zhejiang) lands on Hangzhou, and on the Zhejiang province
    center when Hangzhou is closed (opening hours, re-published tables);
  - a call to any Jiangsu city lands on the Jiangsu platform (centralised province), with
    the city still carried in X-12333-Region;
  - Xiamen lands on Xiamen's own center inside centralised Fujian;
  - a 0202 (labour inspection) complaint lands on the inspection trunk, the topic passed on;
    an invalid topic is ignored and counted, never fails the call.

The fixture tables (tests/fixtures/e2e/tables) are extended here with Fujian, Xiamen, an
inspection trunk, a 0202 route and the topic table.

Run:  python3 tests/e2e/test_national.py --build-dir build [-v]
Prints "N passed, N failed" last and exits non-zero when anything failed.
"""

import datetime
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import harness as h  # noqa: E402
import test_calls as tc  # noqa: E402

EXTRA_TRUNKS = {
    # name: (region, display name, source address)
    "fj-province": ("350000", "福建省12333", "127.0.0.30"),
    "fj-xiamen": ("350200", "厦门市12333", "127.0.0.31"),
    "js-inspection": ("320000", "江苏省劳动保障监察投诉", "127.0.0.32"),
}
EXTRA_ROUTES = {
    "350000": ["fj-province"],
    "350200": ["fj-xiamen", "fj-province"],
    # context.md: Jiangsu's complaint calls are answered by provincial complaint seats.
    "320000/0202": ["js-inspection", "js-province"],
}
HENAN_MOBILE = "13703710000"  # prefix 1370371 -> 410100 Zhengzhou in the fixture


def cst_dates(days=2):
    """Today and the next days in China Standard Time, for a 'closed' list."""
    now = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=8)))
    return [(now + datetime.timedelta(days=d)).strftime("%Y-%m-%d") for d in range(days)]


def write_tables(dest, ports, hangzhou_closed=False):
    routes = h.fixture_routes()
    routes.update(EXTRA_ROUTES)
    h.make_table_dir(dest, ports, routes=routes)
    trunks_path = os.path.join(dest, "trunks.yaml")
    with open(trunks_path, encoding="utf-8") as f:
        text = f.read()
    if hangzhou_closed:
        marker = "  - name: zj-hangzhou\n"
        hours = "    hours:\n      closed: [%s]\n" % ", ".join('"%s"' % d for d in cst_dates())
        assert marker in text
        text = text.replace(marker, marker + hours)
    for name, (region, display, source) in EXTRA_TRUNKS.items():
        text += ('  - name: %s\n    region: "%s"\n    display_name: %s\n'
                 '    targets: ["sip:127.0.0.1:%d;transport=udp"]\n    sources: ["%s"]\n'
                 % (name, region, display, ports[name], source))
    with open(trunks_path, "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(dest, "regions.yaml"), "a", encoding="utf-8") as f:
        # The fixture lists every province and the Jiangsu and Zhejiang cities. A province
        # with one listed city knows only its listed cities, so Fuzhou is listed with Xiamen.
        f.write('  "350100": {name_zh: 福州市, name_en: "Fuzhou"}\n'
                '  "350200": {name_zh: 厦门市, name_en: "Xiamen"}\n')
    with open(os.path.join(dest, "topics.yaml"), "w", encoding="utf-8") as f:
        f.write("# e2e: two codes of routing-tables/reference/topic-codes.tsv\ntopics:\n"
                '  "02": {name_zh: 人力资源社会保障法制工作, name_en: "HRSS legal affairs"}\n'
                '  "0202": {name_zh: 劳动保障监察, name_en: "Labour and social-security inspection"}\n')


class NationalRoutingTests(tc.GatewayTestCase):
    """One redis-server and one gateway; the extended fixture tables published."""

    @classmethod
    def setUpClass(cls):
        cls.stack = tc.contextlib.ExitStack()
        try:
            cls.workdir = h.make_workdir("sb-e2e-%s-" % cls.__name__)
            cls.redis = h.RedisServer(cls.workdir).start()
            cls.stack.callback(lambda: cls.redis.stop())
            cls.ports = {t: h.free_port() for t in list(h.TRUNKS) + list(EXTRA_TRUNKS)}
            cls.table_dir = os.path.join(cls.workdir, "tables")
            write_tables(cls.table_dir, cls.ports)
            cls.version = h.publish_tables(tc.ctl_binary(), cls.table_dir, cls.redis.address)
            cls.gw = h.Gateway(tc.daemon_binary(), cls.workdir, cls.redis.address,
                               failover_timeout_ms=tc.FAILOVER_MS)
            cls.stack.callback(cls._stop_gateway)
            cls.gw.start()
            cls.gw_re = h.re_escape(cls.gw.sip_address)
        except BaseException:
            cls.stack.close()
            raise

    def topic_call(self, number, topic):
        rr = r"sip:%s;lr" % self.gw_re
        return h.run_uac("uac-call-topic.xml", self.gw.sip_address, number, self.workdir,
                         params={"CALLER": tc.CALLER, "RR_RE": rr, "TOPIC": topic})

    def test_bare_12333_from_a_henan_mobile_lands_on_henan(self):
        before = self.gw.metrics()
        peer = self.answering_peer("ha-province", "410100", "province")
        self.assertSippOk(self.call("12333", caller=HENAN_MOBILE))
        self.assertPeerOk(peer)
        self.assertCounted(before, calls={("ha-province", "answered"): 1},
                           lookups={"province": 1}, requests=tc.FULL_CALL)
        self.assertIdle()

    def test_any_jiangsu_city_lands_on_the_jiangsu_platform(self):
        # Centralised Jiangsu: Nanjing, Lianyungang and Suqian have no center of their own.
        for city in ("320100", "320700", "321300"):
            with self.subTest(city=city):
                peer = self.answering_peer("js-province", city, "province")
                self.assertSippOk(self.call("12333" + city))
                self.assertPeerOk(peer)

    def test_xiamen_lands_on_xiamen_inside_centralised_fujian(self):
        before = self.gw.metrics()
        peer = self.answering_peer("fj-xiamen", "350200", "city")
        self.assertSippOk(self.call("12333350200"))
        self.assertPeerOk(peer)
        # Fuzhou (no city route) lands on the Fujian platform.
        fuzhou = self.answering_peer("fj-province", "350100", "province")
        self.assertSippOk(self.call("12333350100"))
        self.assertPeerOk(fuzhou)
        self.assertCounted(before, calls={("fj-xiamen", "answered"): 1, ("fj-province", "answered"): 1},
                           lookups={"city": 1, "province": 1},
                           requests={m: 2 * n for m, n in tc.FULL_CALL.items()})

    def test_labour_inspection_complaint_lands_on_the_inspection_trunk(self):
        before = self.gw.metrics()
        invalid_before = self.gw.metric("switchboard_invalid_topics_total") or 0.0
        peer = self.peer("js-inspection", "uas-answer-topic.xml", ORIGIN=h.re_escape(tc.ORIGIN),
                         REGION="320100", LEVEL="province", TOPIC="0202", GW_RE=self.gw_re)
        self.assertSippOk(self.topic_call("12333320100", "0202"))
        self.assertPeerOk(peer)
        self.assertCounted(before, calls={("js-inspection", "answered"): 1},
                           lookups={"province": 1}, requests=tc.FULL_CALL)
        self.assertEqual(self.gw.metric("switchboard_invalid_topics_total") or 0.0, invalid_before)

    def test_invalid_topic_is_ignored_and_counted(self):
        invalid_before = self.gw.metric("switchboard_invalid_topics_total") or 0.0
        peer = self.answering_peer("js-province", "320100", "province")
        self.assertSippOk(self.topic_call("12333320100", "9999"))
        self.assertPeerOk(peer)
        self.assertEqual(self.gw.metric("switchboard_invalid_topics_total"), invalid_before + 1)

    def test_hangzhou_open_then_closed_goes_to_the_zhejiang_center(self):
        peer = self.answering_peer("zj-hangzhou", "330100", "city")
        self.assertSippOk(self.call("12333330100"))
        self.assertPeerOk(peer)
        # Hangzhou closed today and tomorrow (China Standard Time): re-published tables.
        closed_dir = os.path.join(self.workdir, "tables-hangzhou-closed")
        write_tables(closed_dir, self.ports, hangzhou_closed=True)
        version = h.publish_tables(tc.ctl_binary(), closed_dir, self.redis.address)
        self.gw.wait_table_version(version)
        try:
            before = self.gw.metrics()
            province = self.answering_peer("zj-province", "330100", "city")
            self.assertSippOk(self.call("12333330100"))
            self.assertPeerOk(province)
            # The closed trunk is skipped, not tried: only the province center counts a call.
            self.assertCounted(before, calls={("zj-province", "answered"): 1},
                               lookups={"city": 1}, requests=tc.FULL_CALL)
        finally:
            version = h.publish_tables(tc.ctl_binary(), self.table_dir, self.redis.address)
            self.gw.wait_table_version(version)


if __name__ == "__main__":
    sys.exit(tc.main(module=sys.modules[__name__]))
