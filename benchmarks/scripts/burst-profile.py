#!/usr/bin/env python3
"""burst-profile.py RUN/LABEL: what burst-profile.sh recorded (docs/BENCHMARKS.md, "Seventh pass"): the request
threads' (buildhook-http-*) wall-clock samples while busy (not idle in Jetty's pool, not selecting), by what they
were doing or waiting for; the backends' mean count by state and wait event; the accepts' batches (PostgreSQL:
buildhook_store_commits_total / transactions_total) during the burst."""
import collections
import re
import sys

d = sys.argv[1]


def classify(stack):
    if 'HikariPool.getConnection' in stack:
        return 'waiting for a pooled connection (Hikari)'
    if 'GroupCommit.run' in stack and 'LockSupport.park' in stack and 'PostgresAccept.run' not in stack:
        return 'waiting for its batch (GroupCommit, not leading)'
    if 'QueryExecutorImpl' in stack and ('NioSocketImpl' in stack or 'PGStream.receive' in stack
                                         or 'VisibleBufferedInputStream' in stack):
        return "waiting for PostgreSQL's answer (socket read)"
    if 'PostgresAccept' in stack or 'DeliveryWriter' in stack:
        return 'the store: own code and the driver'
    if 'WebhookServlet' in stack:
        return 'the servlet: parse, verify, log, answer'
    if 'QueuedThreadPool' in stack and ('idleJobPoll' in stack or 'ReservedThread' in stack):
        return 'idle'
    if 'ManagedSelector' in stack:
        return 'selecting'
    return 'other (Jetty)'


groups = collections.Counter()
for line in open(f"{d}/wall.collapsed"):
    stack, n = line.rsplit(' ', 1)
    m = re.match(r'\[([^ ]+) tid=\d+\]', stack)
    if m and m.group(1).startswith('buildhook-http'):
        groups[classify(stack)] += int(n)
busy = sum(groups.values()) - groups['idle'] - groups['selecting']
print(f"request threads: {busy} busy wall-clock samples")
for what, n in groups.most_common():
    if what not in ('idle', 'selecting'):
        print(f"  {100 * n / busy:5.1f} %  {what}")
try:
    rows = [r for r in (line.strip().split('|') for line in open(f"{d}/pgwaits.txt")) if len(r) == 5]
    states = collections.Counter()
    for r in rows:
        states[(r[1], r[2], r[3])] += int(r[4])
    samples = len({r[0] for r in rows})
    print(f"backends, mean count over {samples} samples:")
    for k, v in states.most_common(8):
        print(f"  {v / samples:5.2f}  {' '.join(k)}")
except OSError:
    pass
try:
    before = dict(line.split() for line in open(f"{d}/metrics-start.txt"))
    after = dict(line.split() for line in open(f"{d}/metrics-end.txt"))
    commits = float(after['buildhook_store_commits_total']) - float(before['buildhook_store_commits_total'])
    tx = float(after['buildhook_store_transactions_total']) - float(before['buildhook_store_transactions_total'])
    print(f"batches {commits:.0f}, their accepts {tx:.0f}, {tx / commits:.2f} per batch")
except (OSError, KeyError, ZeroDivisionError):
    pass
