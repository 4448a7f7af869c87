#!/usr/bin/env python3
"""The national traffic profile: SIPp calls across the whole 12333 network, weighted by each
province's 2014 call volume, with each province's answered / abandoned / failed mix, through
the gateway running the national routing tables (issue 6 item 5). Loopback only.

Where the numbers come from: routing-tables/reference/provinces.tsv (copied, with its source
noted, from the project's shared reference notes: the ministry's 2014 national survey):
  calls_2014_10k        -> the province's share of the destinations dialled
  agent_answered_2014   -> answered by an agent: the trunk rings AGENT_MS, then answers
  ivr_2014              -> answered by the voice menu: rings IVR_MS, then answers
  abandoned_2014        -> the caller hangs up before answer: the trunk rings on, the
                           caller cancels after PATIENCE_MS
  the remainder         -> failed: the trunk answers 486 Busy Here
(Tibet publishes no 2014 figures: no calls are dialled there; its trunks use the national mix.)

Who plays what:
  - the caller: one SIPp UAC (tests/load/uac-national.xml) sending from the ministry
    platform's source address (mohrss-national in routing-tables/national/trunks.yaml, so
    the gateway's ACL knows it), with an injection CSV of dialled numbers: 12333 + an area
    code of the province (routing-tables/national/area-codes.yaml; a province without one is
    dialled 12333 + its division code), weighted by province, uniformly among its codes;
  - the 116 trunks of the national tables: one tests/e2e/sip_peer.py process with an
    endpoint on each trunk's target (127.0.<province>.<n>:5060), each answering OPTIONS 200
    and INVITEs with its province's mix (the ministry's trunk: the national mix);
  - the gateway: a private redis-server and switchboard with the national tables published
    (or, with --gateway, one already running whose Redis holds them; see deploy/demo.sh).

Bounded: --rate calls/s for --duration s (SIPp -m rate*duration, -timeout), ringing and
holding bounded by the options below; everything started is stopped at the end or on Ctrl-C.
Afterwards it prints, per province, what was dialled and how the trunks dealt with it, next to
the 2014 shares, and the gateway's switchboard_trunk_calls_total by result.

  tests/load/national_profile.py                          # 10 calls/s for 60 s
  tests/load/national_profile.py --rate 50 --duration 120 --keep
  tests/load/national_profile.py --demo                   # keep running for the status page
  tests/load/national_profile.py --gateway 127.0.0.1:5060 --caller-ip 127.1.100.1
"""

import argparse
import collections
import csv
import json
import os
import random
import re
import shutil
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "e2e"))

import harness as h  # noqa: E402
import sip_peer  # noqa: E402

REFERENCE = os.path.join(h.REPO, "routing-tables", "reference", "provinces.tsv")
NATIONAL = os.path.join(h.REPO, "routing-tables", "national")
SCENARIO = os.path.join(HERE, "uac-national.xml")
CALLER_TRUNK = "mohrss-national"


# ---------------------------------------------------------------------------------------
# The data

def number(text):
    text = text.strip()
    return None if text in ("", "—", "-") else float(text)


def load_provinces(path=REFERENCE):
    """provinces.tsv -> {code: {"name_en", "name_zh", "calls", "agent", "ivr", "abandoned",
    "failed"}}: volumes in 10,000 calls (None where the survey has none)."""
    out = {}
    with open(path, encoding="utf-8") as f:
        rows = [l.rstrip("\n").split("\t") for l in f if l.strip() and not l.startswith("#")]
    for code, name_zh, name_en, _regions, _system, calls, agent, ivr, abandoned, _seats in rows:
        p = {"name_zh": name_zh, "name_en": name_en, "calls": number(calls),
             "agent": number(agent), "ivr": number(ivr), "abandoned": number(abandoned)}
        if p["calls"]:
            # The survey's three outcomes do not always add up to the calls (rounding, or
            # calls lost otherwise): what is left over is counted as failed.
            p["failed"] = max(0.0, p["calls"] - p["agent"] - p["ivr"] - p["abandoned"])
        out[code] = p
    return out


def mix_of(p):
    """{behaviour: share} of a province row (agent -> answer, ivr, abandoned -> noanswer,
    failed -> busy); None when the row has no figures."""
    if not p or not p.get("calls"):
        return None
    total = p["agent"] + p["ivr"] + p["abandoned"] + p["failed"]
    return {"answer": p["agent"] / total, "ivr": p["ivr"] / total,
            "noanswer": p["abandoned"] / total, "busy": p["failed"] / total}


def national_mix(provinces):
    sums = collections.Counter()
    for p in provinces.values():
        if p.get("calls"):
            for k in ("agent", "ivr", "abandoned", "failed"):
                sums[k] += p[k]
    return mix_of({"calls": 1, **sums})


def load_area_codes(path=os.path.join(NATIONAL, "area-codes.yaml")):
    """area code -> division code, from the generated national table."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r'\s+"(0\d+)":\s*"(\d{6})"', line)
            if m:
                out[m.group(1)] = m.group(2)
    return out


def load_trunks(path=os.path.join(NATIONAL, "trunks.yaml")):
    """[{name, region, target_ip, target_port, sources}] from the generated national table."""
    trunks, current = [], None
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\s+- name: (\S+)", line)
            if m:
                current = {"name": m.group(1), "sources": []}
                trunks.append(current)
                continue
            if current is None:
                continue
            m = re.match(r'\s+region: "(\d{6})"', line)
            if m:
                current["region"] = m.group(1)
            m = re.match(r'\s+targets: \["sip:([0-9.]+):(\d+)', line)
            if m:
                current["target_ip"], current["target_port"] = m.group(1), int(m.group(2))
            m = re.match(r"\s+sources: \[(.*)\]", line)
            if m:
                current["sources"] = re.findall(r'"([^"]+)"', m.group(1))
    for t in trunks:
        if "target_ip" not in t or "region" not in t:
            raise h.HarnessError("trunk %s: no loopback target or region in %s" % (t["name"], path))
    return trunks


def dial_plan(provinces, area_codes):
    """[(province code, weight, [dialled numbers])]: every province with 2014 calls."""
    by_province = collections.defaultdict(list)
    for area, division in sorted(area_codes.items()):
        by_province[division[:2]].append("12333" + area)
    plan = []
    for code, p in sorted(provinces.items()):
        if not p.get("calls"):
            continue
        numbers = by_province.get(code) or ["12333%s0000" % code]  # XPCC: no area code
        plan.append((code, p["calls"], numbers))
    return plan


def write_injection(path, plan, calls, rng):
    """SIPp -inf CSV: SEQUENTIAL, one line per call (dialled;caller). Returns the count of
    calls per province in the order SIPp will place them."""
    codes = [c for c, _, _ in plan]
    weights = [w for _, w, _ in plan]
    numbers = {c: n for c, _, n in plan}
    dialled = collections.Counter()
    with open(path, "w", encoding="utf-8") as f:
        f.write("SEQUENTIAL\n")
        for _ in range(calls):
            code = rng.choices(codes, weights)[0]
            dialled[code] += 1
            # A mobile caller with no home region in play (the dialled code decides).
            f.write("%s;138%08d\n" % (rng.choice(numbers[code]), rng.randrange(10 ** 8)))
    return dialled


def endpoints(trunks, provinces, args):
    nat = national_mix(provinces)
    out = []
    for t in trunks:
        mix = mix_of(provinces.get(t["region"][:2])) or nat
        if t["name"] == CALLER_TRUNK:
            mix = nat
        out.append({"ip": t["target_ip"], "port": t["target_port"], "name": t["name"],
                    "mix": ",".join("%s=%.6f" % kv for kv in mix.items()),
                    "answer_ms": args.agent_ms, "ivr_ms": args.ivr_ms,
                    # Rings on past the caller's patience: the caller is the one who hangs up.
                    "noanswer_ms": str(args.patience_ms * 3)})
    return out


# ---------------------------------------------------------------------------------------
# The run

def check_loopback_targets(trunks):
    for t in trunks:
        if not t["target_ip"].startswith("127."):
            raise h.HarnessError("trunk %s targets %s: this profile runs on loopback only"
                                 % (t["name"], t["target_ip"]))
        for s in t["sources"]:
            if not s.startswith("127."):
                raise h.HarnessError("trunk %s has source %s: loopback only" % (t["name"], s))


def summarize(provinces, dialled, peer, gw_metrics_before, gw_metrics_after, sipp_result):
    by_trunk_province = collections.defaultdict(collections.Counter)
    invites = 0
    for e in peer.events():
        if e.get("event") == "invite":
            invites += 1
            by_trunk_province[e.get("headers", {}).get("x-12333-region", "??????")[:2]][e.get("behaviour")] += 1
    total = sum(dialled.values()) or 1
    total_2014 = sum(p["calls"] for p in provinces.values() if p.get("calls"))
    print()
    print("%-4s %-16s %8s %8s %7s | %7s %6s %6s %6s %6s | 2014: %5s %5s %5s"
          % ("code", "province", "dialled", "share", "2014", "trunk", "agent", "ivr",
             "abandon", "busy", "ans", "aband", "fail"))
    for code in sorted(set(dialled) | set(by_trunk_province)):
        p = provinces.get(code, {"name_en": "?"})
        got = by_trunk_province.get(code, collections.Counter())
        n = sum(got.values()) or 1
        mix = mix_of(p) or {}
        print("%-4s %-16s %8d %7.1f%% %6.1f%% | %7d %5.0f%% %5.0f%% %5.0f%% %5.0f%% | %5.0f%% %5.0f%% %5.0f%%"
              % (code, p["name_en"][:16], dialled.get(code, 0), 100.0 * dialled.get(code, 0) / total,
                 100.0 * (p.get("calls") or 0) / total_2014, sum(got.values()),
                 100.0 * got["answer"] / n, 100.0 * got["ivr"] / n, 100.0 * got["noanswer"] / n,
                 100.0 * got["busy"] / n,
                 100.0 * (mix.get("answer", 0) + mix.get("ivr", 0)), 100.0 * mix.get("noanswer", 0),
                 100.0 * mix.get("busy", 0)))
    print("\ncalls dialled %d; INVITEs reaching trunks %d; SIPp: exit %s, completed %s, failed %s"
          % (sum(dialled.values()), invites, sipp_result.rc, sipp_result.successful, sipp_result.failed))
    results = collections.Counter()
    for (name, labels), value in gw_metrics_after.items():
        if name == "switchboard_trunk_calls_total":
            d = dict(labels)
            if d.get("direction", "out") == "out":
                results[d.get("result")] += value - gw_metrics_before.get((name, labels), 0.0)
    if results:
        print("gateway switchboard_trunk_calls_total (out) by result: %s"
              % ", ".join("%s %d" % kv for kv in sorted(results.items()) if kv[1]))
    rejected = {dict(l).get("reason"): v - gw_metrics_before.get((n, l), 0.0)
                for (n, l), v in gw_metrics_after.items() if n == "switchboard_rejections_total"}
    rejected = {k: v for k, v in rejected.items() if v}
    if rejected:
        print("gateway rejections: %s" % ", ".join("%s %d" % kv for kv in sorted(rejected.items())))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build-dir", default=os.path.join(h.REPO, "build"))
    ap.add_argument("--rate", type=float, default=10.0, help="new calls per second (default 10)")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds of new calls (default 60)")
    ap.add_argument("--max-calls", type=int, default=100000, help="upper bound on rate*duration")
    ap.add_argument("--agent-ms", default="1000-8000", help="ringing before an agent answers")
    ap.add_argument("--ivr-ms", default="100-600", help="ringing before the voice menu answers")
    ap.add_argument("--patience-ms", type=int, default=12000,
                    help="the caller hangs up after this long without an answer")
    ap.add_argument("--hold-ms", default="2000-20000", help="talk time of an answered call")
    ap.add_argument("--seed", type=int, default=12333)
    ap.add_argument("--gateway", help="HOST:PORT of a running gateway (its Redis must hold the "
                    "national tables); default: start redis-server and switchboard here")
    ap.add_argument("--caller-ip", help="source address of the SIPp caller (default: the "
                    "ministry trunk's source in the national tables)")
    ap.add_argument("--demo", action="store_true",
                    help="print the status page and metrics addresses first, and keep the "
                    "gateway and trunks running after the calls until Ctrl-C")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args(argv)

    hold = sip_peer.parse_delay(args.hold_ms)
    sip_peer.parse_delay(args.agent_ms), sip_peer.parse_delay(args.ivr_ms)  # validate early
    if sip_peer.parse_delay(args.agent_ms)[1] * 1000 >= args.patience_ms:
        ap.error("--agent-ms must end before --patience-ms (an agent answers before the caller gives up)")
    calls = int(round(args.rate * args.duration))
    if calls < 1 or calls > args.max_calls or args.rate <= 0:
        ap.error("rate*duration must be between 1 and --max-calls (%d)" % args.max_calls)

    provinces = load_provinces()
    area_codes = load_area_codes()
    trunks = load_trunks()
    check_loopback_targets(trunks)
    by_name = {t["name"]: t for t in trunks}
    caller_ip = args.caller_ip or by_name[CALLER_TRUNK]["sources"][0]
    rng = random.Random(args.seed)

    workdir = h.make_workdir("sb-national-")
    stopping = []
    started = []

    def stop_all():
        for fn in reversed(started):
            try:
                fn()
            except Exception as e:  # noqa: BLE001 - keep stopping the rest
                print("national_profile: while stopping: %s" % e, file=sys.stderr)
        started.clear()

    def on_signal(signum, frame):
        stopping.append(signum)
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_signal)

    ok = False
    try:
        peer = sip_peer.PeerProcess(0, workdir, "national", endpoints=endpoints(trunks, provinces, args),
                                    seed=args.seed)
        peer.start(timeout=20.0)
        started.append(peer.stop)

        gw = None
        if args.gateway:
            target = args.gateway
        else:
            redis = h.RedisServer(workdir).start()
            started.append(redis.stop)
            ctl = os.path.join(args.build_dir, "gateway", "ctl", "switchboardctl")
            version = h.publish_tables(ctl, NATIONAL, redis.address, timeout=120.0)
            gw = h.Gateway(os.path.join(args.build_dir, "gateway", "app", "switchboard"), workdir,
                           redis.address, failover_timeout_ms=2000,
                           extra_sip={"probe": "{interval_ms: 5000, timeout_ms: 1000}"})
            gw.start(timeout=60.0)
            started.append(gw.stop)
            gw.wait_table_version(version or 1, timeout=60.0)
            target = gw.sip_address
            if args.demo:
                print("\nThe gateway with the national tables (work dir %s):" % workdir)
                print("  status page  http://127.0.0.1:%d/" % gw.admin_port)
                print("  metrics      http://127.0.0.1:%d/metrics" % gw.admin_port)
                print("  trunks       %s/gateway/ctl/switchboardctl trunks list --admin 127.0.0.1:%d"
                      % (args.build_dir, gw.admin_port))
                print("  redis        %s (call records, tables)\n" % redis.address)

        inf = os.path.join(workdir, "calls.csv")
        dialled = write_injection(inf, dial_plan(provinces, area_codes), calls, rng)
        before = gw.metrics() if gw else {}
        print("national_profile: %d calls at %.1f/s to %s from %s (%d trunks played by one "
              "sip_peer)" % (calls, args.rate, target, caller_ip, len(trunks)), flush=True)
        longest = (args.patience_ms / 1000.0 + hold[1] + 15.0)
        result = h.run_uac(SCENARIO, target, "12333", workdir,
                           params={"PATIENCE_MS": args.patience_ms,
                                   "HOLD_MIN_MS": int(hold[0] * 1000), "HOLD_MAX_MS": int(hold[1] * 1000)},
                           calls=calls, rate=args.rate, ip=caller_ip,
                           timeout_s=int(args.duration + longest + 30), trace_msg=False,
                           extra_args=["-inf", inf])
        after = gw.metrics() if gw else {}
        summarize(provinces, dialled, peer, before, after, result)
        ok = result.rc == 0 and result.failed == 0
        if not ok:
            print("\nSIPp reported failures; its files: %s" % result.error_path)
        if args.demo:
            print("\nCalls done. The gateway and the trunks keep running: look at the status page;"
                  " Ctrl-C stops everything.", flush=True)
            while True:
                time.sleep(3600)
    except KeyboardInterrupt:
        print("\nnational_profile: stopping")
        ok = ok or args.demo
    finally:
        stop_all()
        if args.keep or not ok:
            print("work dir: %s" % workdir)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
