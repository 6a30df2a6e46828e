#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""report.py - turn the guest's "BENCH {json}" lines into the benchmark table
and out/bench.json (see Documentation/benchmarks.rst).

    report.py GUEST_OUTPUT_LOG --json OUT.json [--rst DOC.rst]
              [--host-cpu-s S] [--wall-s S]

Timestamps are the emulator's (guest CLOCK_MONOTONIC, ns):
  t0 = enable (SET_CONFIGURATION; the preloader window starts here),
  connect = UDC bound (the cable), t1 = sync-done, t2 = the emulator's last
  reply of the identity readout.
"""
import argparse
import datetime
import json
import os
import platform
import re
import sys

PRELOADER_WINDOW_MS = 2500.0
SYNC_ROUND_TRIPS = 4
CONTENDERS = ("bootshake", "libusb", "tty")


def pct(vals, p):
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    v = sorted(vals)
    if not v:
        return None
    k = max(0, min(len(v) - 1, int(-(-p * len(v) // 100)) - 1))
    return v[k]


def median(vals):
    v = sorted(vals)
    if not v:
        return None
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def stats(vals):
    vals = [x for x in vals if x is not None]
    if not vals:
        return None
    return {"n": len(vals), "median": median(vals), "p90": pct(vals, 90),
            "max": max(vals), "min": min(vals)}


def ms(ns):
    return None if ns is None else ns / 1e6


def fmt(x, digits=1):
    if x is None:
        return "-"
    return f"{x:.{digits}f}"


def load(path):
    recs = []
    with open(path, errors="replace") as f:
        for line in f:
            i = line.find("BENCH {")
            if i < 0:
                continue
            try:
                recs.append(json.loads(line[i + 6:]))
            except json.JSONDecodeError:
                print(f"report: bad record: {line.strip()[:120]}",
                      file=sys.stderr)
    return recs


def host_machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": model,
            "host_kernel": platform.release(),
            "guest": "QEMU TCG guest, Debian 6.1 kernel"}


def case_key(pers, n):
    return f"{'preloader' if pers == 'mtk-preloader' else 'brom'}-{n}"


def analyse(recs):
    env = next((r for r in recs if r["t"] == "env"), {})
    # round -1 is an unmeasured warm-up plug
    plugs = [r for r in recs if r["t"] == "plug" and r["round"] >= 0]
    stages = [r for r in recs if r["t"] == "stage"]
    floors = [r for r in recs if r["t"] == "floor"]
    mems = [r for r in recs if r["t"] == "mem"]
    clocks = [r for r in recs if r["t"] == "clock"]
    skips = [r for r in recs if r["t"] == "skip"]
    total = next((r for r in recs if r["t"] == "total"), {})
    for p in plugs:
        p.setdefault("pers", env.get("personality", "mtk-brom"))

    out = {"env": env, "cases": {}, "floor": {}, "memory": {}, "cpu": {},
           "event_latency": {}, "ratios": {}, "skipped": {}}

    # the floor: median single-byte round trip, times the sync's 4
    for n in sorted({f["n"] for f in floors}):
        rtt = [x for f in floors if f["n"] == n for x in f["rtt"]]
        s = stats([ms(x) for x in rtt])
        if s:
            s["sync_floor_ms"] = SYNC_ROUND_TRIPS * s["median"]
        out["floor"][str(n)] = s

    offs = [k["real_minus_mono"] for k in clocks]
    off = median(offs) if offs else None
    combos = sorted({(p["pers"], p["n"]) for p in plugs},
                    key=lambda x: (x[0] != "mtk-brom", x[1]))
    for c in CONTENDERS:
        for pers, n in combos:
            key = case_key(pers, n)
            pl = [p for p in plugs if p["c"] == c and p["n"] == n and
                  p["pers"] == pers]
            if not pl:
                continue
            ok = [p for p in pl if p["ok"]]
            synced = [p for p in pl if p["t1"] and p["enable"]]
            d = {
                "personality": pers, "devices_at_once": n,
                "plugs": len(pl),
                "failed": len(pl) - len(ok),
                "t1_t0": stats([ms(p["t1"] - p["enable"]) for p in synced]),
                "t1_connect": stats([ms(p["t1"] - p["connect"])
                                     for p in synced]),
                "t2_t0": stats([ms(p["t2"] - p["enable"]) for p in ok]),
                "t2_t1": stats([ms(p["t2"] - p["t1"]) for p in ok]),
                "first_byte": stats([ms(p["rx0"] - p["enable"])
                                     for p in synced]),
                "sync_span": stats([ms(p["t1"] - p["rx0"]) for p in synced]),
                "enumeration": stats([ms(p["enable"] - p["connect"])
                                      for p in pl if p["enable"]]),
            }
            if pers == "mtk-preloader":
                # window lost = no sync before the window ran out
                share = []
                for p in pl:
                    if p["t1"] and p["enable"] and not (
                            p.get("lost") and p["lost"] < p["t1"]):
                        share.append(100.0 * ms(p["t1"] - p["enable"]) /
                                     PRELOADER_WINDOW_MS)
                    else:
                        share.append(float("inf"))
                d["window_share"] = stats(share)
                d["window_lost"] = sum(1 for x in share if x == float("inf"))
            # all synced: from the first connect of a round to its last t1
            allv = []
            for r in sorted({p["round"] for p in pl}):
                rp = [p for p in pl if p["round"] == r]
                if all(p["t1"] for p in rp):
                    allv.append(ms(max(p["t1"] for p in rp) -
                                   min(p["connect"] for p in rp)))
            d["all_synced"] = stats(allv)
            d["rounds"] = len({p["round"] for p in pl})
            st = [s for s in stages if s["c"] == c and s["n"] == n and
                  s.get("pers", pers) == pers]
            if st:
                s = st[0]
                d["guest_cpu_s"] = s["cpu_ticks"] / s["hz"]
                d["guest_cpu_ms_per_plug"] = (1000.0 * s["cpu_ticks"] /
                                              s["hz"] / max(1, s["plugs"]))
                d["contender_cpu_ms_per_plug"] = (s["prog_cpu_us"] / 1000.0 /
                                                  max(1, s["plugs"]))
                d["stage_wall_s"] = s["wall_ns"] / 1e9
            out["cases"].setdefault(c, {})[key] = d

            if c == "bootshake" and off is not None:
                lat = [ms(p["mon_sync_real"] - off - p["t1"]) for p in ok
                       if p.get("mon_sync_real")]
                latr = [ms(p["mon_ready_real"] - off - p["t2"])
                        for p in ok if p.get("mon_ready_real")]
                out["event_latency"][key] = {
                    "sync_event": stats(lat), "ready_event": stats(latr),
                    "clock_offset_spread_ns":
                        (max(offs) - min(offs)) if offs else None}
    for k in skips:
        out["skipped"].setdefault(k["c"], {})[case_key(k["pers"], 1)] = \
            k["why"]

    brom_ns = sorted({n for pers, n in combos if pers == "mtk-brom"})
    out["brom_cases"] = brom_ns
    floor1 = (out["floor"].get("1") or {}).get("sync_floor_ms")
    for c in CONTENDERS:
        cc = out["cases"].get(c, {})
        r = {}
        one = cc.get("brom-1")
        big = cc.get(f"brom-{brom_ns[-1]}") if brom_ns else None
        if one and one["t1_t0"] and floor1:
            r["t1_t0_over_floor"] = one["t1_t0"]["median"] / floor1
        if one and one["sync_span"] and floor1:
            r["sync_span_over_floor"] = one["sync_span"]["median"] / floor1
        if one and big and big is not one:
            if one["all_synced"] and big["all_synced"]:
                r["all_synced_max_over_1"] = (
                    big["all_synced"]["median"] /
                    one["all_synced"]["median"])
            if one["t1_t0"] and big["t1_t0"]:
                r["t1_t0_max_over_1"] = (big["t1_t0"]["median"] /
                                         one["t1_t0"]["median"])
        out["ratios"][c] = r

    # bootshake ahead of every userspace contender, per case?
    ahead = {}
    for pers, n in combos:
        key = case_key(pers, n)
        b = out["cases"].get("bootshake", {}).get(key)
        if not b or not b["t1_t0"]:
            continue
        others = [out["cases"][c][key]["t1_t0"] for c in CONTENDERS[1:]
                  if key in out["cases"].get(c, {})]
        ahead[key] = all(o is None or b["t1_t0"]["median"] < o["median"]
                         for o in others)
    out["bootshake_ahead"] = ahead

    # memory per bound device
    m = {x["state"]: x for x in mems}
    if "bound" in m:
        nd = m["bound"]["devices"]
        for base in ("unbound", "none"):
            if base in m:
                out["memory"][f"per_device_vs_{base}_kb"] = {
                    k: (m["bound"]["kb"][k] - m[base]["kb"][k]) / nd
                    for k in ("Slab", "SUnreclaim", "KernelStack")}
        out["memory"]["snapshots"] = m
    out["cpu"] = {"guest_total_s": total.get("cpu_ticks", 0) /
                  total.get("hz", 100) if total else None,
                  "guest_wall_s": total.get("wall_ns", 0) / 1e9
                  if total else None}
    out["failures"] = total.get("failures")
    out["plugs"] = plugs
    return out


LABEL = {"brom": "BROM", "preloader": "preloader"}


def case_label(key):
    pers, n = key.split("-")
    return f"{LABEL[pers]} x{n}"


def table(res, machine, date):
    L = []
    env = res["env"]
    L.append(f"bootshake handshake benchmark, {date}"
             + (f", tree {res['commit']}" if res.get("commit") else ""))
    L.append(f"machine: {machine['nproc']} x {machine['cpu']}; "
             f"{machine['guest']} ({env.get('kernel', '?')}), "
             f"guest {env.get('guest_nproc', '?')} vCPUs; devices: bsk-emu "
             f"on dummy_hcd")
    L.append("ms from the emulator's log (guest CLOCK_MONOTONIC): t0 = "
             "enable (SET_CONFIGURATION), t1 = sync-done, t2 = last "
             "identity reply")
    L.append("")
    f1 = res["floor"].get("1")
    if f1:
        L.append(f"floor: 1-byte round trip through dummy_hcd (usbfs ping, "
                 f"{f1['n']} trips): median {fmt(f1['median'], 2)} p90 "
                 f"{fmt(f1['p90'], 2)} max {fmt(f1['max'], 2)}; "
                 f"sync floor = 4 x median = {fmt(f1['sync_floor_ms'], 2)}")
    for n, f in res["floor"].items():
        if n != "1" and f:
            L.append(f"       {n} devices pinging at once: median "
                     f"{fmt(f['median'], 2)} p90 {fmt(f['p90'], 2)} "
                     f"max {fmt(f['max'], 1)}")
    L.append("")
    hdr = (f"{'case':<12} {'contender':<9} {'plugs':>5} | "
           f"{'t1-t0 med':>9} {'p90':>7} {'max':>7} | "
           f"{'t2-t0 med':>9} {'p90':>7} {'max':>7} | "
           f"{'1st byte':>8} {'sync':>6} {'/floor':>6}")
    L.append(hdr)
    L.append("-" * len(hdr))
    floor1 = (f1 or {}).get("sync_floor_ms")
    keys = []
    for c in CONTENDERS:
        for k in res["cases"].get(c, {}):
            if k not in keys:
                keys.append(k)
    keys.sort(key=lambda k: (k.startswith("preloader"), int(k.split("-")[1])))
    for k in keys:
        for c in CONTENDERS:
            d = res["cases"].get(c, {}).get(k)
            if not d:
                why = res["skipped"].get(c, {}).get(k)
                if why:
                    L.append(f"{case_label(k):<12} {c:<9} {'-':>5} | "
                             f"n/a: {why}")
                continue
            a, b = d["t1_t0"] or {}, d["t2_t0"] or {}
            xf = (a.get("median") / floor1) if a and floor1 else None
            fail = f"  ({d['failed']} not ok)" if d["failed"] else ""
            L.append(f"{case_label(k):<12} {c:<9} {d['plugs']:>5} | "
                     f"{fmt(a.get('median')):>9} {fmt(a.get('p90')):>7} "
                     f"{fmt(a.get('max')):>7} | "
                     f"{fmt(b.get('median')):>9} {fmt(b.get('p90')):>7} "
                     f"{fmt(b.get('max')):>7} | "
                     f"{fmt((d['first_byte'] or {}).get('median')):>8} "
                     f"{fmt((d['sync_span'] or {}).get('median')):>6} "
                     f"{fmt(xf):>6}{fail}")
        L.append("")
    L.append("1st byte = t0 -> first byte at the device (median); sync = "
             "first byte -> t1 (median); /floor = t1-t0 median / sync floor")
    L.append("")

    pk = [k for k in keys if k.startswith("preloader")]
    for k in pk:
        L.append(f"preloader window: share of the 2.5 s listen window "
                 f"(from SET_CONFIGURATION) used before the sync completes")
        for c in CONTENDERS:
            d = res["cases"].get(c, {}).get(k)
            if not d:
                why = res["skipped"].get(c, {}).get(k)
                if why:
                    L.append(f"  {c:<9} n/a ({why})")
                continue
            w = d["window_share"] or {}

            def pc(x):
                return "lost" if x == float("inf") else f"{x:.1f}%"
            L.append(f"  {c:<9} median {pc(w.get('median')):>6}  p90 "
                     f"{pc(w.get('p90')):>6}  max {pc(w.get('max')):>6}  "
                     f"window lost {d['window_lost']}/{d['plugs']}")
        L.append("")

    bn = res.get("brom_cases", [])
    if bn:
        L.append("all synced: first connect of a round -> last t1 of the "
                 "round, ms (median / p90 / max over rounds)")
        L.append(f"{'contender':<10}" + "".join(
            f"{'N=' + str(n) + ' (' + str(rounds_of(res, n)) + ' rounds)':>28}"
            for n in bn) + f"{'N=' + str(bn[-1]) + ' / N=1':>13}")
        for c in CONTENDERS:
            cc = res["cases"].get(c)
            if not cc:
                continue
            cells = []
            for n in bn:
                a = (cc.get(f"brom-{n}") or {}).get("all_synced")
                cells.append(f"{(fmt(a['median']) + ' / ' + fmt(a['p90']) + ' / ' + fmt(a['max'])) if a else '-':>28}")
            r = res["ratios"].get(c, {}).get("all_synced_max_over_1")
            L.append(f"{c:<10}" + "".join(cells) +
                     f"{(fmt(r, 2) + 'x') if r else '-':>13}")
        L.append("")
    for k, e in res["event_latency"].items():
        s, r = e.get("sync_event"), e.get("ready_event")
        if s:
            L.append(f"event latency {case_label(k)}: t1 -> monitor line "
                     f"(identifying) median {fmt(s['median'], 2)} p90 "
                     f"{fmt(s['p90'], 2)} max {fmt(s['max'], 1)}"
                     + (f"; t2 -> line (ready) median {fmt(r['median'], 2)}"
                        f" p90 {fmt(r['p90'], 2)}" if r else ""))
    mem = res["memory"]
    if mem.get("per_device_vs_unbound_kb"):
        m1 = mem["per_device_vs_unbound_kb"]
        m0 = mem.get("per_device_vs_none_kb", {})
        nd = mem["snapshots"]["bound"]["devices"]
        L.append(f"memory per bound device ({nd} bound vs {nd} plugged, "
                 f"unbound): Slab {fmt(m1['Slab'])} kB (SUnreclaim "
                 f"{fmt(m1['SUnreclaim'])} kB); vs nothing plugged, whole "
                 f"USB stack included: Slab {fmt(m0.get('Slab'))} kB")
    cpu = []
    for c in CONTENDERS:
        for k, d in res["cases"].get(c, {}).items():
            if "guest_cpu_ms_per_plug" in d:
                cpu.append(f"{c} {case_label(k)} "
                           f"{fmt(d['guest_cpu_ms_per_plug'], 0)}"
                           f" ({fmt(d['contender_cpu_ms_per_plug'], 0)})")
    if cpu:
        L.append("guest CPU ms per plug, whole guest incl. emulator "
                 "(contender process): " + ", ".join(cpu))
    t = res["cpu"]
    if t.get("guest_total_s") is not None:
        L.append(f"CPU time of the whole run: guest {fmt(t['guest_total_s'])}"
                 f" s busy in {fmt(t['guest_wall_s'])} s"
                 + (f"; host (qemu) {fmt(t['host_cpu_s'])} s CPU, "
                    f"{fmt(t['host_wall_s'])} s wall" if t.get("host_cpu_s")
                    else ""))
    L.append("")
    b = res["ratios"].get("bootshake", {})
    if b.get("t1_t0_over_floor"):
        L.append(f"bootshake BROM x1: t1-t0 median = "
                 f"{fmt(b['t1_t0_over_floor'], 1)} x the sync floor "
                 f"(its sync alone, first byte -> t1: "
                 f"{fmt(b.get('sync_span_over_floor'), 1)} x)")
    for c in CONTENDERS:
        r = res["ratios"].get(c, {})
        if r.get("t1_t0_max_over_1"):
            L.append(f"{c}: {bn[-1]} at once / 1 at a time: all synced "
                     f"{fmt(r.get('all_synced_max_over_1'), 2)} x, per-device"
                     f" t1-t0 median {fmt(r['t1_t0_max_over_1'], 2)} x")
    for k, a in res.get("bootshake_ahead", {}).items():
        L.append(f"{case_label(k)}: bootshake t1-t0 median below every "
                 f"userspace contender's: {'yes' if a else 'NO'}")
    if res.get("failures"):
        L.append(f"WARNING: {res['failures']} round(s) or stage(s) failed")
    return "\n".join(L)


def rounds_of(res, n):
    d = res["cases"].get("bootshake", {}).get(f"brom-{n}") or next(
        (c.get(f"brom-{n}") for c in res["cases"].values()
         if c.get(f"brom-{n}")), {})
    return d.get("rounds", "?")


RST_BEGIN = ".. bench-results-begin"
RST_END = ".. bench-results-end"


def update_rst(path, res, text):
    """Replace the block between the markers with this run's table."""
    with open(path) as f:
        doc = f.read()
    i, j = doc.find(RST_BEGIN), doc.find(RST_END)
    if i < 0 or j < i:
        print(f"report: no {RST_BEGIN} / {RST_END} markers in {path}",
              file=sys.stderr)
        return
    m = res["machine"]
    cpu = res["cpu"]
    block = [RST_BEGIN, "", f"Latest run: {res['date']}, {m['nproc']} x "
             f"{m['cpu']} (host kernel {m['host_kernel']}), "
             f"{m['guest']} ({res['env'].get('kernel', '?')}).  The guest "
             f"run took {fmt(cpu.get('host_wall_s'), 0)} s wall and "
             f"{fmt(cpu.get('host_cpu_s'), 0)} s of qemu CPU time.  "
             + (f"Tree: {res['commit']}.  " if res.get("commit") else "")
             + "Generated by ``make bench BENCH_DOC=1``.", "", "::", ""]
    block += ["    " + line if line else "" for line in text.splitlines()]
    block += ["", ""]
    doc = doc[:i] + "\n".join(block) + doc[j:]
    with open(path, "w") as f:
        f.write(doc)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("log")
    ap.add_argument("--json", required=True)
    ap.add_argument("--table")
    ap.add_argument("--rst", help="rewrite the results block of this file")
    ap.add_argument("--host-cpu-s", type=float)
    ap.add_argument("--wall-s", type=float)
    ap.add_argument("--commit", help="the tree measured (git)")
    a = ap.parse_args()

    recs = load(a.log)
    if not any(r["t"] == "plug" for r in recs):
        print("report: no measurements in " + a.log, file=sys.stderr)
        return 1
    res = analyse(recs)
    machine = host_machine()
    # the run's date: when the guest finished writing its log
    date = datetime.datetime.fromtimestamp(
        os.path.getmtime(a.log)).strftime("%Y-%m-%d %H:%M")
    res["cpu"]["host_cpu_s"] = a.host_cpu_s
    res["cpu"]["host_wall_s"] = a.wall_s
    res["machine"] = machine
    res["date"] = date
    res["commit"] = a.commit
    text = table(res, machine, date)
    res["table"] = text
    print(text)
    os.makedirs(os.path.dirname(os.path.abspath(a.json)), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump(res, f, indent=1)
    if a.table:
        with open(a.table, "w") as f:
            f.write(text + "\n")
    if a.rst:
        update_rst(a.rst, res, text)
    ok = res.get("bootshake_ahead") and all(res["bootshake_ahead"].values())
    return 0 if ok and not res.get("failures") else 1


if __name__ == "__main__":
    sys.exit(main())
