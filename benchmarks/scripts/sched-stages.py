#!/usr/bin/env python3
"""Where a paced delivery's time goes after its accept's commit, SQLite (docs/BENCHMARKS.md, "Thirty-fifth pass").

  sched-stages.py PERF-SCRIPT-OUTPUT      (perf script of sched-hook.sh's RUN/LABEL/sched.data)

Per delivery: A = the accept commit's fsync returned -> db-scheduler's poller wakes a job thread (the jobs-queued
trigger, the pick through the writer); B = job thread woken -> its clone3 (posix_spawn), split into the job thread's
time on a core, waiting for a core (runnable) and asleep (the writer's start record, a lock, a file); C = clone3 ->
execve returned in the child. Deliveries are matched by a poller wake-up from the accepting or the writer thread
within 40 ms of a durable commit. Quartiles and means in ms."""
import re, sys, statistics
pat = re.compile(r'^\s*(.+?)\s+(\d+)\s+\[(\d+)\]\s+([\d.]+):\s+(\S+):\s*(.*)$')
ev = []
for line in open(sys.argv[1]):
    m = pat.match(line)
    if m:
        comm, tid, cpu, t, name, args = m.groups()
        ev.append((float(t) * 1000, comm, int(tid), name, args))
ev.sort(key=lambda e: e[0])
def num(a, k):
    m = re.search(r'\b' + k + r'=(\S+)', a)
    return m.group(1) if m else None
rows = []
commits = [i for i, e in enumerate(ev) if e[1].startswith('buildhook-store') and e[3] == 'syscalls:sys_exit_fsync']
def find(start, pred, limit):
    t0 = ev[start][0]
    for j in range(start, len(ev)):
        if ev[j][0] - t0 > limit:
            return None
        if pred(ev[j]):
            return j
    return None
for c in commits:
    t0 = ev[c][0]
    # the http thread's trigger wakes the poller right after the commit: only commits of accepts that queued a job
    if find(c, lambda e: (e[1].startswith('buildhook-http') or e[1].startswith('buildhook-store')) and e[3] == 'sched:sched_wakeup' and 'comm=db-scheduler-ex' in e[4], 40) is None:
        continue
    jw = find(c, lambda e: e[1].startswith('db-scheduler-ex') and e[3] == 'sched:sched_wakeup' and 'comm=db-scheduler-po' in e[4], 80)
    if jw is None:
        continue
    job = int(num(ev[jw][4], 'pid'))
    cl = find(jw, lambda e: e[2] == job and e[3] in ('syscalls:sys_enter_clone3', 'syscalls:sys_enter_clone', 'syscalls:sys_enter_vfork'), 200)
    if cl is None:
        continue
    ex = find(cl, lambda e: e[3] == 'syscalls:sys_exit_execve' and e[1] == 'trace.sh', 200)
    # job thread's states between jw and cl
    state, since = 'R', ev[jw][0]   # woken: runnable
    run = wait = sleep = 0.0
    for j in range(jw + 1, cl + 1):
        e = ev[j]
        if e[3] == 'sched:sched_switch':
            if int(num(e[4], 'next_pid')) == job:
                wait += e[0] - since; state, since = 'X', e[0]
            elif int(num(e[4], 'prev_pid')) == job:
                run += e[0] - since
                st = num(e[4], 'prev_state')
                state, since = ('R' if st.startswith('R') else 'S'), e[0]
        elif e[3] == 'sched:sched_wakeup' and int(num(e[4], 'pid')) == job and state == 'S':
            sleep += e[0] - since; state, since = 'R', e[0]
    end = ev[cl][0]
    if state == 'X': run += end - since
    elif state == 'R': wait += end - since
    else: sleep += end - since
    rows.append(dict(A=ev[jw][0] - t0, B=ev[cl][0] - ev[jw][0], B_run=run, B_wait=wait, B_sleep=sleep,
                     C=(ev[ex][0] - ev[cl][0]) if ex else None, total=(ev[ex][0] - t0) if ex else None))
print(f'{len(rows)} deliveries of {len(commits)} durable commits (ms)')
for k in ['A', 'B', 'B_run', 'B_wait', 'B_sleep', 'C', 'total']:
    v = [r[k] for r in rows if r[k] is not None]
    q = statistics.quantiles(v, n=4)
    print(f'{k:8s} p25 {q[0]:7.3f}  p50 {statistics.median(v):7.3f}  p75 {q[2]:7.3f}  mean {statistics.mean(v):7.3f}')
