#!/usr/bin/env python3
"""bench/dns/paired.py - paired CPU and wall time of commands run in turns.

On a shared machine the load changes from second to second, so timing one
command's runs and then another's compares two different machines. Here
every round runs each command once, one after the other, and each
command's cost is judged against the first command's in the same round:
the ratio printed is the median of the per-round ratios.

Usage: paired.py [-r ROUNDS] [-w WARMUP] [--md] CMD [CMD...]
Each CMD is one shell-free command line (split on blanks); its output is
discarded and it must exit 0. CPU is the child's user + system time
(wait4); wall is the time from fork to exit. The first CMD is the base.
Each column is a median of its own, so user + sys need not add up to CPU.
The spread is that of the per-round CPU ratios: the 10th and 90th
percentiles (in 8 rounds of 10 the ratio fell inside it) and the worst round.
"""
import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time


def run_once(argv):
    t0 = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"paired.py: {' '.join(argv)} exited with {proc.returncode}")
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_utime, ru.ru_stime


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("-r", "--rounds", type=int, default=30)
    ap.add_argument("-w", "--warmup", type=int, default=2)
    ap.add_argument("--md", action="store_true", help="print a Markdown table")
    ap.add_argument("cmds", nargs="+")
    a = ap.parse_args()
    argvs = [shlex.split(c) for c in a.cmds]
    for _ in range(a.warmup):
        for argv in argvs:
            run_once(argv)
    rows = [[] for _ in argvs]
    for _ in range(a.rounds):
        for i, argv in enumerate(argvs):
            rows[i].append(run_once(argv))
    base = rows[0]
    med = statistics.median
    if a.md:
        print("| command | wall (ms) | user (ms) | sys (ms) | CPU = user + sys (ms) | CPU ÷ first "
              "| p10–p90 of CPU ÷ first | worst round | wall ÷ first |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for cmd, r in zip(a.cmds, rows):
        wall = med(x[0] for x in r) * 1e3
        cpu = med(x[1] for x in r) * 1e3
        usr = med(x[2] for x in r) * 1e3
        sys_ = med(x[3] for x in r) * 1e3
        ratios = [x[1] / b[1] for x, b in zip(r, base)]
        cpu_ratio = med(ratios)
        dec = statistics.quantiles(ratios, n=10, method="inclusive") if len(ratios) > 1 else ratios * 9
        p10, p90, worst = dec[0], dec[-1], max(ratios)
        wall_ratio = med(x[0] / b[0] for x, b in zip(r, base))
        if a.md:
            print(f"| `{cmd}` | {wall:.0f} | {usr:.0f} | {sys_:.0f} | {cpu:.0f} | "
                  f"{cpu_ratio:.2f}× | {p10:.2f}–{p90:.2f}× | {worst:.2f}× | {wall_ratio:.2f}× |")
        else:
            print(f"{cmd}\n  wall {wall:.1f} ms  cpu {cpu:.1f} ms (user {usr:.1f}, sys {sys_:.1f})"
                  f"  cpu/first {cpu_ratio:.3f} (p10-p90 {p10:.3f}-{p90:.3f}, worst {worst:.3f})"
                  f"  wall/first {wall_ratio:.3f}")
    print(f"({a.rounds} rounds, medians; ratios are medians of per-round ratios)")


if __name__ == "__main__":
    main()
