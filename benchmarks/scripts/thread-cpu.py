#!/usr/bin/env python3
"""CPU per unit of work of a running JVM, by thread name (docs/BENCHMARKS.md):
   thread-cpu.py PID > before.txt; <run N deliveries>; thread-cpu.py PID > after.txt
   thread-cpu.py --diff before.txt after.txt N
Reads /proc/PID/task/*/stat (utime + stime; thread names with their numbers folded into N) and the
process's reaped children (cutime + cstime, the commands it ran), in clock ticks."""
import collections
import os
import re
import sys


def snapshot(pid):
    ticks = collections.Counter()
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            name = open(f"/proc/{pid}/task/{task}/comm").read().strip()
            fields = open(f"/proc/{pid}/task/{task}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the thread ended meanwhile
        ticks[re.sub(r"\d+", "N", name)] += int(fields[11]) + int(fields[12])
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    ticks["(reaped children: the commands)"] = int(fields[13]) + int(fields[14])
    for name, value in sorted(ticks.items()):
        print(f"{value} {name}")


def diff(before, after, units):
    def read(path):
        return {line.split(" ", 1)[1].strip(): int(line.split(" ", 1)[0]) for line in open(path) if line.strip()}
    b, a = read(before), read(after)
    per_tick = 1000 / os.sysconf("SC_CLK_TCK")
    rows = sorted(((a[k] - b.get(k, 0)) * per_tick / units, k) for k in a)
    for ms, name in reversed(rows):
        if ms > 0:
            print(f"{ms:8.3f} ms  {name}")
    print(f"{sum(ms for ms, _ in rows if ms > 0):8.3f} ms  total per unit")


if __name__ == "__main__":
    if sys.argv[1] == "--diff":
        diff(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        snapshot(sys.argv[1])
