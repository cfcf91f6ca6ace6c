#!/usr/bin/env python3
"""What an attempt's cgroup costs the kernel, alone (docs/BENCHMARKS.md, "Fortieth pass").

    cgroup-move.py GAP-SECONDS COUNT

COUNT times: makes a cgroup v2 beside this process's own (as AttemptCgroups does, buildhook-cgmove-*), starts
`sleep 0.01` with posix_spawn, moves it into the cgroup by writing its pid to cgroup.procs, waits for it, removes the
cgroup, then sleeps GAP-SECONDS. Prints p50 and p90 of each step's wall time in ms. The move waits for the kernel's
cgroup_threadgroup_rwsem (an RCU grace period when no move came shortly before, unless the hierarchy is mounted with
favordynmods): compare a GAP of 0.1 (paced starts) with 0 (starts back to back). Needs root or a delegated cgroup.
"""
import os
import sys
import time

line = [l for l in open('/proc/self/cgroup') if l.startswith('0::')][0]
mount = [m.split()[1] for m in open('/proc/self/mounts') if m.split()[2] == 'cgroup2'][0]
root = mount + line[3:].strip()
gap = float(sys.argv[1]) if len(sys.argv) > 1 else 0.1
count = int(sys.argv[2]) if len(sys.argv) > 2 else 40
steps = {'mkdir': [], 'spawn': [], 'move': [], 'rmdir': []}
for i in range(count):
    cgroup = f'{root}/buildhook-cgmove-{os.getpid()}-{i}'
    t0 = time.perf_counter()
    os.mkdir(cgroup)
    t1 = time.perf_counter()
    pid = os.posix_spawn('/bin/sleep', ['sleep', '0.01'], {})
    t2 = time.perf_counter()
    with open(cgroup + '/cgroup.procs', 'w') as procs:
        procs.write(f'{pid}\n')
    t3 = time.perf_counter()
    os.waitpid(pid, 0)
    t4 = time.perf_counter()
    os.rmdir(cgroup)
    t5 = time.perf_counter()
    for name, took in (('mkdir', t1 - t0), ('spawn', t2 - t1), ('move', t3 - t2), ('rmdir', t5 - t4)):
        steps[name].append(took)
    time.sleep(gap)
for name, took in steps.items():
    took.sort()
    print(f'{name}: p50 {took[len(took) // 2] * 1000:.3f} ms, p90 {took[int(len(took) * 0.9)] * 1000:.3f} ms')
