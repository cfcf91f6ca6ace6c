#!/usr/bin/env python3
"""What a JVM's PostgreSQL connections cost, per unit of work (docs/BENCHMARKS.md, "Fifth pass: PostgreSQL"):
   pg-backends.py PID LIBPQ-URL > before.txt; <run N deliveries>; pg-backends.py PID LIBPQ-URL > after.txt
   pg-backends.py --diff before.txt after.txt N
A snapshot lists, for every TCP connection of process PID to port 5432 (ss -tinp): its local port, the
server's backend pid (pg_stat_activity.client_port), the backend's CPU (/proc/BACKEND/stat utime + stime,
clock ticks; the server must run on this machine) and the data segments the JVM sent on it (ss
data_segs_out: one or more per round trip, so an upper bound of the round trips). The diff prints per unit:
the backends' CPU, the segments sent, and how many connections there were; a connection opened during
the run counts from 0."""
import os
import re
import subprocess
import sys


def snapshot(pid, url):
    out = subprocess.run(["ss", "-tinpH", "dport = :5432"], capture_output=True, text=True, check=True).stdout
    conns = {}
    port = None
    for line in out.splitlines():
        if not line.startswith((" ", "\t")):
            port = None
            fields = line.split()
            if f"pid={pid}," in line and len(fields) >= 4:
                port = int(fields[3].rsplit(":", 1)[1])
                conns[port] = 0
        elif port is not None:
            m = re.search(r"\bdata_segs_out:(\d+)", line)
            if m:
                conns[port] = int(m.group(1))
    if not conns:
        return
    rows = subprocess.run(["psql", "-qAtX", url, "-c",
                           "SELECT client_port, pid FROM pg_stat_activity WHERE client_port IN ("
                           + ",".join(str(p) for p in conns) + ")"],
                          capture_output=True, text=True, check=True).stdout
    for row in rows.split():
        client_port, backend = (int(x) for x in row.split("|"))
        try:
            fields = open(f"/proc/{backend}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        print(f"{client_port} {backend} {int(fields[11]) + int(fields[12])} {conns[client_port]}")


def diff(before, after, units):
    def read(path):
        return {line.split()[0]: [int(x) for x in line.split()[1:]] for line in open(path) if line.strip()}
    b, a = read(before), read(after)
    per_tick = 1000 / os.sysconf("SC_CLK_TCK")
    cpu = segs = 0
    for port, (backend, ticks, sent) in a.items():
        old = b.get(port)
        same = old is not None and old[0] == backend
        cpu += ticks - (old[1] if same else 0)
        segs += sent - (old[2] if same else 0)
    print(f"backends_cpu_ms_per_unit={cpu * per_tick / units:.3f} segments_sent_per_unit={segs / units:.2f}"
          f" connections={len(a)}")


if __name__ == "__main__":
    if sys.argv[1] == "--diff":
        diff(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        snapshot(int(sys.argv[1]), sys.argv[2])
