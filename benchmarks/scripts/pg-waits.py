#!/usr/bin/env python3
"""pg-waits.py DATABASE OUT: every 20 ms until SIGTERM, the database's client backends counted by state and wait
event (pg_stat_activity), one line per group: epoch|state|wait_event_type|wait_event|count (docs/BENCHMARKS.md,
"Seventh pass"). Connects as PGUSER/PGPASSWORD/PGHOST (default buildhook/buildhook/127.0.0.1) through one psql."""
import os
import signal
import subprocess
import sys
import time

db, out = sys.argv[1], sys.argv[2]
env = dict(os.environ, PGPASSWORD=os.environ.get("PGPASSWORD", "buildhook"))
psql = subprocess.Popen(["psql", "-h", os.environ.get("PGHOST", "127.0.0.1"), "-U", os.environ.get("PGUSER", "buildhook"),
                         "-qAtX", db], stdin=subprocess.PIPE, stdout=open(out, "w"), stderr=subprocess.STDOUT,
                        text=True, env=env)
query = ("SELECT extract(epoch FROM clock_timestamp()), state, coalesce(wait_event_type, '-'), coalesce(wait_event, '-'),"
         " count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'"
         " AND pid <> pg_backend_pid() GROUP BY 2, 3, 4;\n")


def stop(*_):
    psql.stdin.close()
    psql.wait()
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
while True:
    psql.stdin.write(query)
    psql.stdin.flush()
    time.sleep(0.02)
