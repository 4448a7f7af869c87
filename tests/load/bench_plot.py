#!/usr/bin/env python3
"""The plot of bench_compare.py: achieved calls/s and INVITE->200 p99 against the offered
rate, one line per system, unsustainable steps crossed. Needs matplotlib (Debian:
python3-matplotlib).

  tests/load/bench_plot.py build/bench-compare/results.json build/bench-compare/compare.png
"""

import json
import sys


def plot(rows, names, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(13, 5))
    top = 0
    for name in names:
        pts = sorted((r["rate"], r["achieved"], r["p99"], r["sustainable"]) for r in rows
                     if r["system"] == name and r["phase"] == "step")
        if not pts:
            continue
        top = max(top, max(p[0] for p in pts))
        line, = ax1.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=name)
        ax2.plot([p[0] for p in pts], [max(p[2] or 0, 0.5) for p in pts], marker="o", label=name,
                 color=line.get_color())
        bad = [p for p in pts if not p[3]]
        ax1.scatter([p[0] for p in bad], [p[1] for p in bad], marker="x", s=80, color="black", zorder=5)
        ax2.scatter([p[0] for p in bad], [max(p[2] or 0, 0.5) for p in bad], marker="x", s=80,
                    color="black", zorder=5)
    ax1.plot([0, top], [0, top], linestyle=":", color="grey", label="offered")
    ax1.set_xlabel("offered calls/s")
    ax1.set_ylabel("achieved calls/s")
    ax1.set_title("achieved rate (x: not sustainable)")
    ax2.set_xlabel("offered calls/s")
    ax2.set_ylabel("INVITE -> 200 p99, ms (log)")
    ax2.set_yscale("log")
    ax2.set_title("p99 latency")
    for ax in (ax1, ax2):
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return None


def plot_file(json_path, png_path):
    with open(json_path, encoding="utf-8") as f:
        data = json.load(f)
    steps = [r for r in data["rows"] if r["phase"] == "step"]
    return plot(steps, data["systems"], png_path)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: bench_plot.py RESULTS.json OUT.png")
    sys.exit(1 if plot_file(sys.argv[1], sys.argv[2]) else 0)
