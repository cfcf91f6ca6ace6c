#!/usr/bin/env python3
"""Chaos rounds against the built tarball: "never lose a build event" and "never run a command twice at once".

  mvn -B -q package -DskipTests
  PGPASSWORD=buildhook benchmarks/scripts/chaos.py --store postgresql --pg-url postgresql://buildhook@127.0.0.1:5432/chaos \
      --minutes 10 [--nodes 3] [--port 18830] [--seed N] [--work /tmp/chaos]
  benchmarks/scripts/chaos.py --store sqlite --minutes 5 --port 18835

Starts NODES servers (bin/buildhook serve) on one store (one node on SQLite), with a rules file of four kinds of
work: `board` (every build; a shared resource of capacity 1; retries; fails its first attempt for one build in
four and every attempt for one in seven; on-success and on-failure follow-ups), `deploy` (PASSED/PROMOTED builds;
concurrency 1 and supersede with running: cancel). Every command is hold.sh, which leaves start/end lines in a
trace file and takes a `mkdir` lock per capacity-1 kind that must never be taken already by a live command (it
writes an OVERLAP line if it is). Meanwhile it sends real fixtures (fixtures/ at the repository's top, a new
build_id each time) with a JobServ-like sender (retries after 1, 2 and 4 s) to a random node, cancels a random
job now and then through the admin API, and injects faults at random: kill -9 of a node (started again 1-10 s
later), SIGSTOP for 5-40 s then SIGCONT, a graceful stop and start, and (PostgreSQL) pg_terminate_backend of every
session of the nodes' database. With --faults, also (chaos32): pgcrash / pgfast (PostgreSQL stopped -m immediate / -m
fast and started again, on --pg-cluster VERSION/NAME, a cluster of the run's own), reload (the rules saved again with
other limits for the rule `lab`: concurrency 1-3, resource capacity 1-2; checked from the trace), unwritable (a node's
data or log folder chmod 550 for a while; the nodes run as --user, nobody by default as root), storm (a node paused
and one build sent 4-8 times at once). Then it stops faulting, starts every node, waits for the jobs to settle and checks:
  - every delivery that got a 2xx is stored, once (one accepted delivery per body);
  - every accepted delivery has its jobs, and every job reached a final state with its follow-ups started once;
  - no OVERLAP line (two commands of a capacity-1 kind at once, or one job's command twice at once);
  - no command started after its job was recorded CANCELLED or SUPERSEDED;
  - no command left running after the nodes stopped;
  - no lab start beside as many lab commands as the lab limit in force (or in force up to --reload-lag before);
  - no command for a job that is not stored, of a delivery not stored or not ACCEPTED, or of a body never sent;
  - no process of the run's jobs left (any process whose BUILDHOOK_ATTEMPT names one of its jobs).
While it settles (every 30 s) and at the end of the round it prints, per rule with unfinished jobs, how many in
which states, the oldest one and its message, and the rule's last command start from the trace ("STILL" when none
in the last --stall seconds): a rule that still starts commands is slow, not stuck. Past --settle it waits on while
such a rule moves, up to --settle-max. Then one CHAOS line with the counts, each invariant (I1-I5) held or BROKEN
with its evidence (job, attempt, rule, the node from the store and from the trace, start/end times), a VERDICT
line, and exit 1 on any violation; the folder is kept (--work). --recheck checks a finished round's folder again.
Python standard library plus psql / sqlite3 on the PATH. Use a database of its own: it drops its schema first.
The password: PGPASSWORD (or in --pg-url, which then shows in ps to every user); psql gets it in its environment.
"""
import argparse, hashlib, hmac, json, os, random, re, shutil, signal, subprocess, sys, threading, time
import urllib.error, urllib.parse, urllib.request

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVER = os.path.join(TOP, "distribution", "target", "buildhook", "bin", "buildhook")
PIDS = {}  # JVM pid -> node number, of every start of the run (the trace's start lines name the JVM)
FINAL = {"SUCCEEDED", "FAILED", "TIMED_OUT", "CANCELLED", "SUPERSEDED", "REJECTED", "EXPIRED", "NOT_STARTED"}

HOLD = r'''#!/bin/bash
# hold.sh TRACE LOCKS KIND BUILD: one command of the chaos run. KIND board and deploy take a lock of
# their own (capacity 1); lab and follow take none (lab's limit changes with the reloads: the checker counts
# its commands from the trace). From the build id: board holds 0.3-1.5 s and fails its first
# attempt for one build in four, every attempt for one in seven; deploy holds 2-6 s; follow 0.5 s.
trace=$1 locks=$2 kind=$3 build=$4 fail=ok
case $kind in
  board) secs=$(( build % 4 * 4 + 3 )); secs=${secs:0:-1}.${secs: -1}
         (( build % 4 == 0 )) && fail=first; (( build % 7 == 0 )) && fail=always ;;
  deploy) secs=$(( build % 5 + 2 )) ;;
  lab) secs=$(( build % 3 + 1 )) ;;
  *) secs=0.5 ;;
esac
me=${BUILDHOOK_ATTEMPT:-none}
now() { date +%s%3N; }
log() { printf '%s %s %s %s\n' "$(now)" "$me" "$kind" "$*" >> "$trace"; }
lock=$locks/$kind
held=
# The attempt itself must never run twice at once either: a lock per job.
job=${me%/*}
jlock=$locks/job-$job
owner_alive() { # dir: the recorded owner ("pid attempt") is alive and still that attempt
  local rec pid att
  for _ in 1 2 3; do rec=$(cat "$1/owner" 2>/dev/null) && [[ -n $rec ]] && break; sleep 0.1; done
  [[ -z $rec ]] && return 1
  pid=${rec%% *} att=${rec#* }
  tr '\0' '\n' < /proc/$pid/environ 2>/dev/null | grep -qx "BUILDHOOK_ATTEMPT=$att"
}
take() { # dir
  if mkdir "$1" 2>/dev/null; then echo "$$ $me" > "$1/owner"; return 0; fi
  if owner_alive "$1"; then log "OVERLAP $1 held by $(cat "$1/owner")"; return 1; fi
  rm -rf "$1"
  if mkdir "$1" 2>/dev/null; then echo "$$ $me" > "$1/owner"; return 0; fi
  log "OVERLAP $1 race"; return 1
}
release() { [[ $(cat "$1/owner" 2>/dev/null) == "$$ $me" ]] && rm -rf "$1"; }
cleanup() { release "$jlock"; [[ -n $held ]] && release "$lock"; }
trap 'log "term"; cleanup; exit 143' TERM
take "$jlock"
if [[ $kind == board || $kind == deploy ]]; then take "$lock" && held=1; fi
# the node's JVM (the parent, or setsid's parent): the checker names the node a command ran on from it
jvm=$PPID
for _ in 1 2 3; do
  [[ $(cat /proc/$jvm/comm 2>/dev/null) == java ]] && break
  jvm=$(awk '{print $4}' /proc/$jvm/stat 2>/dev/null) || break
done
log "start $$ $jvm"
sleep "$secs" & wait $!
attempt=${me#*/}
rc=0
[[ $fail == always ]] && rc=3
[[ $fail == first && $attempt == 1 ]] && rc=3
log "end $$ $rc"
cleanup
exit $rc
'''


def rules(work, lab_concurrency=1, lab_capacity=1):
    hold, trace, locks = f"{work}/hold.sh", f"{work}/trace", f"{work}/locks"
    def cmd(kind):
        return json.dumps([hold, trace, locks, kind, "${build.id}"])
    return f"""resources:
  board: 1
  lab: {lab_capacity}
rules:
  - name: board
    run:
      command: {cmd("board")}
      env: {{CHAOS: board}}
      stdin: off
      resources: {{board: 1}}
      retries: 2
      backoff: 1s
      timeout: 2m
    on-success:
      command: {cmd("follow")}
      stdin: off
    on-failure:
      command: {cmd("follow")}
      stdin: off
  - name: deploy
    when: {{status: [PASSED, PROMOTED]}}
    supersede: {{key: "${{build.project}}", running: cancel}}
    run:
      command: {cmd("deploy")}
      stdin: off
      concurrency: 1
      retries: 1
      backoff: 1s
      timeout: 2m
    on-cancel:
      command: {cmd("follow")}
      stdin: off
  - name: lab
    run:
      command: {cmd("lab")}
      stdin: off
      concurrency: {lab_concurrency}
      resources: {{lab: 1}}
      retries: 1
      backoff: 1s
      timeout: 2m
"""


class Node:
    def __init__(self, n, work, port, store_url, log, user=None):
        self.n, self.port, self.dir = n, port, f"{work}/node{n}"
        self.proc, self.stopped, self.log, self.user = None, False, log, user
        os.makedirs(self.dir, exist_ok=True)
        with open(f"{self.dir}/buildhook.yaml", "w") as f:
            f.write(f"""data-dir: {self.dir}/data
rules: {work}/rules.yaml
endpoints:
  default:
    secrets:
      - file: {work}/secret
admin:
  token:
    file: {work}/token
server: {{host: 127.0.0.1, port: {port}}}
runner:
  node-id: chaos-node{n}
  threads: 4
  poll-interval: 1s
  heartbeat-interval: 1s
  missed-heartbeats: 5
  deaths-in-a-row: 1000
  stops-in-a-row: 1000
  shutdown-grace: 3s
  kill-grace: 2s
""")
            if store_url:
                f.write(f"store: {{url: \"{store_url}\", connect-timeout: 5s}}\n")

    def start(self):
        out = open(f"{self.dir}/serve.out", "a")
        # no new session: bin/buildhook exec's java, so our signals reach the JVM itself
        # as --user (a non-root user, so that a folder made unwritable is unwritable for the node): set in the
        # child before the exec, so that the pid is the JVM's and signals reach it (runuser would stay between)
        env = dict(os.environ, HOME=self.dir) if self.user else None
        self.proc = subprocess.Popen([SERVER, "serve", "--config", f"{self.dir}/buildhook.yaml"], cwd=self.dir,
                                     stdout=out, stderr=subprocess.STDOUT, user=self.user, env=env)
        self.stopped = False
        PIDS[self.proc.pid] = self.n
        self.log(f"node{self.n} started pid {self.proc.pid}")

    def wait_ready(self, limit=120):
        end = time.time() + limit
        while time.time() < end:
            if self.proc.poll() is not None:
                raise SystemExit(f"node{self.n} exited {self.proc.returncode}; see {self.dir}/serve.out")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2)
                return
            except urllib.error.HTTPError:
                return
            except Exception:
                time.sleep(0.3)
        raise SystemExit(f"node{self.n} not ready after {limit} s")

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def ready(self):
        """Answers /healthz (any status) within 1 s: its start is over."""
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=1)
        except urllib.error.HTTPError:
            pass
        except Exception:
            return False
        return True


def sender(args, nodes, secret, fixtures, results, stop, rng_seed, log):
    rng = random.Random(rng_seed)
    while not stop.is_set():
        name = rng.choice(fixtures)
        body = json.load(open(os.path.join(args.fixtures, name)))
        old = body["build_id"]
        # a few builds sent twice (same body: JobServ's own retry after a lost answer)
        with results["lock"]:
            results["n"] += 1
            build = 1000 + results["n"]
        body["build_id"] = build
        data = json.dumps(body).replace(f"/builds/{old}/", f"/builds/{build}/").encode()
        path = f"{args.work}/sent/{build}.json"
        open(path, "wb").write(data)
        send_one(args, rng.choice(nodes), path, build, name, data, secret, results)
        time.sleep(rng.uniform(1, 6))


def send_one(args, node, path, build, name, data, secret, results, storm=False):
    r = subprocess.run([args.sender, f"http://127.0.0.1:{node.port}/webhook/default", path, secret, "--timeout", "20"],
                       capture_output=True, text=True)
    last = (r.stdout.strip().splitlines() or [""])[-1]
    m = re.match(r"HTTP (\d+) (.*)", last)
    code = int(m.group(1)) if m else 0
    ident = None
    if m and code < 300:
        try:
            ident = json.loads(m.group(2)).get("delivery")  # 202/200 {delivery, jobs, duplicate}
        except Exception:  # the sender prints at most 500 characters of the answer
            found = re.search(r'"delivery"\s*:\s*"([0-9A-Z]{26})"', m.group(2))
            ident = found.group(1) if found else None
    with results["lock"]:
        results["sent"].append({"build": build, "fixture": name, "code": code, "id": ident, "answer": last[:300],
                                "sha": hashlib.sha256(data).hexdigest(), "node": node.n, "storm": storm,
                                "tries": len(r.stdout.strip().splitlines())})


def storm(args, nodes, paused_node, secret, fixtures, results, rng, log):
    """A JobServ retry storm: the same build sent 4-8 times at once, to random nodes, one of them paused."""
    name = rng.choice(fixtures)
    body = json.load(open(os.path.join(args.fixtures, name)))
    old = body["build_id"]
    with results["lock"]:
        results["n"] += 1
        build = 1000 + results["n"]
    body["build_id"] = build
    data = json.dumps(body).replace(f"/builds/{old}/", f"/builds/{build}/").encode()
    path = f"{args.work}/sent/{build}.json"
    open(path, "wb").write(data)
    targets = [paused_node] + [rng.choice(nodes) for _ in range(rng.randint(3, 7))]
    log(f"FAULT storm: build {build} sent {len(targets)} times at once to nodes {[t.n for t in targets]} "
        f"(node{paused_node.n} paused)")
    threads = [threading.Thread(target=send_one, args=(args, t, path, build, name, data, secret, results, True))
               for t in targets]
    for t in threads:
        t.start()
    return threads


def sql(args, q):
    if args.store == "postgresql":
        r = subprocess.run(["psql", "-At", "-F", "\t", args.pg_libpq, "-c", f"SET search_path TO {args.schema}; {q}"],
                           capture_output=True, text=True, env=args.pg_env)
    else:
        r = subprocess.run(["sqlite3", "-separator", "\t", f"{args.work}/node1/data/buildhook.db", q],
                           capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(r.stderr)
    return [l.split("\t") for l in r.stdout.splitlines() if l and l != "SET"]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", choices=["postgresql", "sqlite"], default="sqlite")
    p.add_argument("--pg-url", help="libpq URL of a database of the run's own")
    p.add_argument("--nodes", type=int)
    p.add_argument("--port", type=int, default=18830)
    p.add_argument("--minutes", type=float, default=5)
    p.add_argument("--seed", type=int, default=int(time.time()))
    p.add_argument("--work", default="/tmp/chaos")
    p.add_argument("--fixtures", default=os.path.join(TOP, "fixtures"))
    p.add_argument("--sender", default="/work/shared/tools/jobserv-send")
    p.add_argument("--senders", type=int, default=2)
    p.add_argument("--settle", type=float, default=240, help="seconds to wait for the jobs at the end")
    p.add_argument("--settle-max", type=float, default=900,
                   help="seconds to wait at most, while a rule with unfinished jobs still starts commands")
    p.add_argument("--stall", type=float, default=90,
                   help="a rule with unfinished jobs and no command start for this many seconds is still")
    p.add_argument("--faults", default="kill9,stop,restart,pgterm,cancel",
                   help="of kill9, stop, restart, pgterm, cancel, pgcrash, pgfast, reload, unwritable, storm")
    p.add_argument("--pg-cluster", help="VERSION/NAME of a PostgreSQL cluster of the run's own (pg_ctlcluster), "
                                        "for pgcrash and pgfast: never the shared one")
    p.add_argument("--user", default="nobody" if os.geteuid() == 0 else "",
                   help="run the nodes as this user (default nobody when run as root, so that unwritable "
                        "means unwritable for them); '' keeps this user (then unwritable is skipped as root)")
    p.add_argument("--reload-lag", type=float, default=15,
                   help="seconds a node may go on with the lab limit before a reload (the checker's allowance)")
    p.add_argument("--recheck", action="store_true",
                   help="only check the finished round in --work again (its state.json, trace and store)")
    args = p.parse_args()
    if args.recheck:
        return recheck(args, lambda m: print(time.strftime("%H:%M:%S ") + m, flush=True))
    args.nodes = args.nodes or (3 if args.store == "postgresql" else 1)
    faults = args.faults.split(",")
    unknown = set(faults) - {"kill9", "stop", "restart", "pgterm", "cancel", "pgcrash", "pgfast", "reload",
                             "unwritable", "storm"}
    if unknown:
        p.error(f"--faults: unknown {sorted(unknown)}")
    if args.store == "sqlite":
        faults = [f for f in faults if f not in ("pgterm", "pgcrash", "pgfast")]
    elif {"pgcrash", "pgfast"} & set(faults) and not args.pg_cluster:
        p.error("--faults pgcrash/pgfast need --pg-cluster VERSION/NAME (a cluster of the run's own)")
    if "unwritable" in faults and (not args.user and os.geteuid() == 0):
        print("unwritable skipped: the nodes run as root, for whom no folder mode refuses a write", flush=True)
        faults.remove("unwritable")
    rng = random.Random(args.seed)
    shutil.rmtree(args.work, ignore_errors=True)
    for d in ("sent", "locks"):
        os.makedirs(f"{args.work}/{d}")
    logf = open(f"{args.work}/chaos.log", "a")
    def log(msg):
        line = time.strftime("%H:%M:%S ") + msg
        print(line, flush=True)
        logf.write(line + "\n"); logf.flush()
    log(f"seed {args.seed}, store {args.store}, {args.nodes} node(s), {args.minutes} min")
    secret = os.urandom(16).hex()
    open(f"{args.work}/secret", "w").write(secret + "\n"); os.chmod(f"{args.work}/secret", 0o600)
    token = os.urandom(16).hex()
    open(f"{args.work}/token", "w").write(token + "\n"); os.chmod(f"{args.work}/token", 0o600)
    open(f"{args.work}/hold.sh", "w").write(HOLD); os.chmod(f"{args.work}/hold.sh", 0o755)
    open(f"{args.work}/trace", "w").close()
    open(f"{args.work}/rules.yaml", "w").write(rules(args.work))
    args.reloads = [(0, 1)]  # (ms since the epoch, lab limit = min(concurrency, capacity)) in force from then
    fixtures = [f for f in ("build-67-passed.json", "build-68-failed.json", "build-412-promoted.json",
                            "build-7-unusual.json") if os.path.exists(os.path.join(args.fixtures, f))]
    store_url = None
    if args.store == "postgresql":
        args.schema = "chaos_" + os.urandom(4).hex()
        # psql gets the URL without its password and the password in its environment: ps shows every process's
        # arguments to every user
        u = urllib.parse.urlsplit(args.pg_url)
        password = urllib.parse.unquote(u.password) if u.password is not None else os.environ.get("PGPASSWORD", "")
        user = urllib.parse.unquote(u.username or "")
        host = u.netloc.rsplit("@", 1)[-1]
        args.pg_libpq = f"postgresql://{urllib.parse.quote(user, safe='')}@{host}{u.path}"
        args.pg_env = dict(os.environ, PGPASSWORD=password)
        subprocess.run(["psql", "-q", args.pg_libpq, "-c", f"CREATE SCHEMA {args.schema}"], check=True, env=args.pg_env)
        query = urllib.parse.urlencode({"user": user, "password": password, "currentSchema": args.schema})
        store_url = f"jdbc:postgresql://{host}{u.path}?{query}"
    nodes = [Node(n, args.work, args.port + n - 1, store_url, log, args.user or None) for n in range(1, args.nodes + 1)]
    if args.user:  # the nodes' folders, the secrets, the trace and the locks are the node user's
        subprocess.run(["chown", "-R", args.user, args.work], check=True)
    for nd in nodes:  # one after the other: the first applies the migrations
        nd.start(); nd.wait_ready()
    results = {"lock": threading.Lock(), "n": 0, "sent": []}
    stop = threading.Event()
    threads = [threading.Thread(target=sender, args=(args, nodes, secret, fixtures, results, stop, args.seed + i, log))
               for i in range(args.senders)]
    for t in threads:
        t.start()
    counts = {}
    storms = []
    unwritable = {}  # folder -> time its mode is given back
    deadline = time.time() + args.minutes * 60
    paused = {}
    try:
        while time.time() < deadline:
            time.sleep(rng.uniform(3, 15))
            for nd, until in list(paused.items()):
                if time.time() >= until:
                    os.kill(nd.proc.pid, signal.SIGCONT); del paused[nd]; log(f"node{nd.n} SIGCONT")
            for d, until in list(unwritable.items()):
                if time.time() >= until:
                    os.chmod(d, 0o750); del unwritable[d]; log(f"{d} writable again")
            for nd in nodes:
                if not nd.alive() and nd not in paused:
                    nd.start()
            f = rng.choice(faults)
            if f in ("pgcrash", "pgfast"):  # the whole store, not one node
                version, name = args.pg_cluster.split("/")
                mode = "immediate" if f == "pgcrash" else "fast"
                secs = rng.uniform(1, 10)
                counts[f] = counts.get(f, 0) + 1
                log(f"FAULT PostgreSQL stop -m {mode}, start again in {secs:.0f} s")
                r = subprocess.run(["pg_ctlcluster", version, name, "stop", "-m", mode], capture_output=True, text=True)
                if r.returncode:
                    log(f"pg_ctlcluster stop: {r.stderr.strip()}")
                time.sleep(secs)
                subprocess.run(["pg_ctlcluster", version, name, "start"], check=True)
                log("PostgreSQL started")
                continue
            if f == "reload":
                c, cap = rng.choice([1, 2, 3]), rng.choice([1, 2])
                tmp = f"{args.work}/rules.yaml.new"
                open(tmp, "w").write(rules(args.work, c, cap))
                os.rename(tmp, f"{args.work}/rules.yaml")  # what an editor's save does: never a half file
                args.reloads.append((int(time.time() * 1000), min(c, cap)))
                counts[f] = counts.get(f, 0) + 1
                log(f"FAULT reload: lab concurrency {c}, resource lab capacity {cap}")
                continue
            nd = rng.choice(nodes)
            # a node still starting is left to start: on a loaded machine a start takes 30-40 s, and faults every
            # 3-15 s on it would test little but the start (seed 32006: 6 of 78 sends answered)
            if not nd.alive() or nd in paused or not nd.ready():
                continue
            counts[f] = counts.get(f, 0) + 1
            if f == "kill9":
                log(f"FAULT kill -9 node{nd.n}")
                nd.proc.kill(); nd.proc.wait()
                time.sleep(rng.uniform(1, 10))
                nd.start()
            elif f == "stop":
                secs = rng.uniform(5, 40)
                log(f"FAULT SIGSTOP node{nd.n} for {secs:.0f} s")
                os.kill(nd.proc.pid, signal.SIGSTOP); paused[nd] = time.time() + secs
            elif f == "restart":
                log(f"FAULT graceful stop node{nd.n}")
                nd.proc.terminate()
                try:
                    nd.proc.wait(90)
                except subprocess.TimeoutExpired:
                    log(f"VIOLATION? node{nd.n} did not stop within 90 s of SIGTERM"); nd.proc.kill(); nd.proc.wait()
                log(f"node{nd.n} stopped with {nd.proc.returncode}")
                nd.start()
            elif f == "unwritable":
                d = rng.choice([f"{nd.dir}/data", f"{nd.dir}/data/logs"])
                if d in unwritable or not os.path.isdir(d):
                    continue
                secs = rng.uniform(5, 30)
                os.chmod(d, 0o550); unwritable[d] = time.time() + secs
                log(f"FAULT {d} unwritable for {secs:.0f} s")
            elif f == "storm":
                secs = rng.uniform(5, 25)
                log(f"FAULT SIGSTOP node{nd.n} for {secs:.0f} s (storm)")
                os.kill(nd.proc.pid, signal.SIGSTOP); paused[nd] = time.time() + secs
                storms += storm(args, nodes, nd, secret, fixtures, results, rng, log)
            elif f == "pgterm" and args.store == "postgresql":
                r = sql(args, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = "
                              "current_database() AND pid <> pg_backend_pid() AND usename = current_user "
                              f"AND application_name NOT LIKE 'psql%'")
                log(f"FAULT pg_terminate_backend: {r[0][0]} sessions")
            elif f == "cancel":
                live = [x for x in nodes if x.alive() and x not in paused]
                rows = sql(args, "SELECT id FROM jobs WHERE state IN ('RUNNING','QUEUED','WAITING') ORDER BY random() LIMIT 1")
                if rows and live:
                    req = urllib.request.Request(f"http://127.0.0.1:{rng.choice(live).port}/api/jobs/{rows[0][0]}/cancel",
                                                 method="POST", headers={"Authorization": f"Bearer {token}"}, data=b"")
                    try:
                        a = urllib.request.urlopen(req, timeout=20).read().decode()[:200]
                    except Exception as e:
                        a = str(e)
                    log(f"FAULT cancel {rows[0][0]}: {a}")
    finally:
        stop.set()
        for nd in list(paused):
            os.kill(nd.proc.pid, signal.SIGCONT)
        for d in unwritable:
            os.chmod(d, 0o750)
        if args.pg_cluster:
            subprocess.run(["pg_ctlcluster", *args.pg_cluster.split("/"), "start"], capture_output=True)
        for t in threads + storms:
            t.join()
    log(f"faults: {counts}; sends: {len(results['sent'])}")
    for nd in nodes:
        if not nd.alive():
            nd.start()
    for nd in nodes:
        # a node started while PostgreSQL was still down (a pgcrash just before the end) exits 3 'cannot start': start
        # it again, as systemd would, instead of ending the round unchecked (seed 33007)
        for tries in range(10):
            try:
                nd.wait_ready()
                break
            except SystemExit as e:
                if nd.alive() or tries == 9:
                    raise
                log(f"{e}; started again")
                time.sleep(3)
                nd.start()
    # settle: wait while the jobs still move; a rule that still starts commands is slow, not stuck (at load 30 a
    # rule of capacity 1 runs a command every 5-40 s). Past --settle, go on only while some rule with unfinished
    # jobs started a command in the last --stall seconds, up to --settle-max.
    began = time.time()
    last_report = 0
    while True:
        open_jobs = sql(args, "SELECT count(*) FROM jobs WHERE state NOT IN ('" + "','".join(FINAL) + "') "
                              "OR follow_ups_pending <> 0")[0][0]
        if open_jobs == "0":
            log(f"settled in {time.time() - began:.0f} s")
            break
        waited = time.time() - began
        if time.time() - last_report >= 30:
            last_report = time.time()
            moving = progress(args, log, f"settling {waited:.0f} s")
        if waited >= args.settle_max:
            log(f"not settled after --settle-max {args.settle_max:.0f} s")
            break
        if waited >= args.settle and not moving:
            log(f"not settled after --settle {args.settle:.0f} s, and no rule with unfinished jobs started a command "
                f"in the last {args.stall:.0f} s")
            break
        time.sleep(3)
    time.sleep(3)
    progress(args, log, "end of the round")
    for nd in nodes:
        nd.proc.terminate()
    for nd in nodes:
        try:
            nd.proc.wait(90)
        except subprocess.TimeoutExpired:
            log(f"node{nd.n} did not stop in 90 s"); nd.proc.kill(); nd.proc.wait()
    time.sleep(1)
    save_state(args, results)
    check(args, results, log)


def save_state(args, results):
    """What the checker needs besides the store and the trace, for --recheck."""
    json.dump({"sent": results["sent"], "reloads": args.reloads, "pids": PIDS, "store": args.store,
               "schema": getattr(args, "schema", None), "pg_libpq": getattr(args, "pg_libpq", None),
               "seed": args.seed}, open(f"{args.work}/state.json", "w"), indent=1)


def recheck(args, log):
    """Checks a finished round's folder again (its store must still be there): after a change to the checker."""
    st = json.load(open(f"{args.work}/state.json"))
    args.store, args.schema, args.pg_libpq, args.seed = st["store"], st["schema"], st["pg_libpq"], st["seed"]
    args.reloads = [tuple(r) for r in st["reloads"]]
    args.pg_env = dict(os.environ)
    PIDS.update({int(k): v for k, v in st["pids"].items()})
    check(args, {"sent": st["sent"]}, log)


def ms(at):
    """Epoch milliseconds as local HH:MM:SS.mmm (the chaos.log and serve.out clock)."""
    at = int(at)
    return time.strftime("%H:%M:%S", time.localtime(at / 1000)) + f".{at % 1000:03d}" if at else "-"


def starts_of(trace):
    """The trace's start lines: (ms, attempt "job/n", kind, hold.sh pid, node number or None)."""
    out = []
    for t in trace:
        if len(t) >= 5 and t[3] == "start":
            jvm = int(t[5]) if len(t) >= 6 and t[5].isdigit() else None
            out.append((int(t[0]), t[1], t[2], t[4], PIDS.get(jvm)))
    return out


def kind(rule_name, parent_id):
    """The trace's kind of a job: follow-ups all run hold.sh 'follow'."""
    return "follow" if parent_id else rule_name


def progress(args, log, when):
    """Per rule with unfinished jobs: how many, in which states, the oldest, and the rule's last command start
    (from the trace) with how many starts in the last --stall seconds. True if any of them moves."""
    rows = sql(args, "SELECT rule_name, coalesce(parent_id, ''), state, created_at, id, coalesce(message, ''), "
                     "follow_ups_pending FROM jobs WHERE state NOT IN ('" + "','".join(FINAL) + "') "
                     "OR follow_ups_pending <> 0 ORDER BY created_at, id")
    if not rows:
        log(f"{when}: every job final")
        return False
    now = int(time.time() * 1000)
    stall = int(args.stall * 1000)
    last, recent = {}, {}
    for at, _, k, _, _ in starts_of([l.split() for l in open(f"{args.work}/trace")]):
        last[k] = max(last.get(k, 0), at)
        if at > now - stall:
            recent[k] = recent.get(k, 0) + 1
    per = {}
    for r in rows:
        per.setdefault(kind(r[0], r[1]), []).append(r)
    moving = False
    for k, rs in sorted(per.items()):
        states = {}
        for r in rs:
            states[r[2]] = states.get(r[2], 0) + 1
        o = rs[0]
        lk = last.get(k, 0)
        moving |= recent.get(k, 0) > 0
        log(f"{when}: {k}: {len(rs)} unfinished {states}; oldest {o[4]} created {ms(o[3])} {o[2]} "
            f"'{o[5][:120]}'; last {k} start {ms(lk)}"
            + (f" ({(now - lk) / 1000:.0f} s ago), {recent.get(k, 0)} in the last {args.stall:.0f} s" if lk else " (none)")
            + ("" if recent.get(k, 0) else " : STILL"))
    return moving


INVARIANTS = {
    "I1": "every 2xx delivery is stored once and its jobs reach a final state (follow-ups once)",
    "I2": "never two commands of one job, of one concurrency-1 rule or of one resource unit at once",
    "I3": "no command started after its job is final",
    "I4": "no command for a delivery that was not accepted",
    "I5": "no process left behind",
}


def check(args, results, log):
    bad = []  # (invariant, text with the evidence)
    sent = results["sent"]
    accepted = [s for s in sent if 200 <= s["code"] < 300]
    sent_hashes = {s["sha"] for s in sent}
    deliveries = {r[0]: r for r in sql(args, "SELECT id, outcome, body_hash, duplicate_of, received_at FROM deliveries")}
    by_hash = {}
    for d in deliveries.values():
        if d[1] != "DUPLICATE":
            by_hash.setdefault(d[2], []).append(d[0])
    for s in accepted:
        if s["id"] and s["id"] not in deliveries:
            bad.append(("I1", f"LOST: build {s['build']} answered {s['answer']} by node{s['node']} but delivery "
                              f"{s['id']} is not stored"))
        if not s["id"] and s["sha"] not in by_hash:
            bad.append(("I1", f"LOST: build {s['build']} answered {s['answer']} by node{s['node']} and no delivery "
                              "has its body"))
        if len(by_hash.get(s["sha"], [])) > 1:
            bad.append(("I1", f"TWICE: build {s['build']} is stored as {len(by_hash[s['sha']])} accepted deliveries "
                              f"{by_hash[s['sha']]}"))
    jobs = sql(args, "SELECT id, delivery_id, rule_name, state, coalesce(ended_at, 0), follow_ups_pending, "
                     "coalesce(parent_id, ''), attempts, coalesce(message, ''), created_at, coalesce(node, '') FROM jobs")
    attempts = {}
    for a in sql(args, "SELECT job_id, attempt, outcome, started_at, coalesce(ended_at, 0), node, coalesce(pid, 0) "
                       "FROM job_attempts"):
        attempts[f"{a[0]}/{a[1]}"] = a
    byid = {j[0]: j for j in jobs}
    trace = [l.split() for l in open(f"{args.work}/trace")]
    starts = starts_of(trace)
    ends = {}
    for t in trace:
        if len(t) >= 4 and t[3] in ("end", "term"):
            ends.setdefault(t[1], (int(t[0]), t[3] + (" " + t[5] if t[3] == "end" and len(t) >= 6 else "")))
    started = {}  # attempt -> its start lines (more than one: the attempt's command started twice)
    for s in starts:
        started.setdefault(s[1], []).append(s)
    last_start = {}
    for at, _, k, _, _ in starts:
        last_start[k] = max(last_start.get(k, 0), at)

    def attempt(att):
        """What is known of one attempt: rule, node (the store's and the trace's), times."""
        job = att.split("/")[0]
        j = byid.get(job)
        a = attempts.get(att)
        e = ends.get(att)
        where = []
        if a:
            where.append(f"store: {a[5]} {a[2]} {ms(a[3])}-{ms(a[4])}")
        for s in started.get(att, []):
            where.append(f"trace: node{s[4] or '?'} hold.sh {s[3]} start {ms(s[0])}")
        if started.get(att):
            where[-1] += f" {e[1]} {ms(e[0])}" if e else " no end line"
        return f"{att} ({j[2] if j else 'job not stored'}; " + "; ".join(where or ["no record"]) + ")"

    per_delivery = {}
    for j in jobs:
        if not j[6]:
            per_delivery.setdefault((j[1], j[2]), []).append(j)
        k = kind(j[2], j[6])
        if j[3] not in FINAL:
            lk = last_start.get(k, 0)
            bad.append(("I1", f"NOT FINAL: job {j[0]} ({j[2]}{', follow-up' if j[6] else ''}) {j[3]}, created "
                              f"{ms(j[9])}, attempts {j[7]}, node '{j[10]}': '{j[8][:160]}'; last {k} start "
                              f"{ms(lk)}" + (f" (latest attempt: {attempt(j[0] + '/' + j[7])})" if j[7] != "0" else "")))
        if j[5] != "0":
            bad.append(("I1", f"FOLLOW-UP PENDING: job {j[0]} ({j[2]}) {j[3]} ended {ms(j[4])}"))
    for s in accepted:
        ident = s["id"] or (by_hash.get(s["sha"]) or [None])[0]
        if ident and not per_delivery.get((ident, "board")):
            bad.append(("I1", f"NO JOB: build {s['build']} (delivery {ident}) has no board job"))
    for key, js in per_delivery.items():
        if len(js) > 1:
            bad.append(("I1", f"JOBS TWICE: delivery {key[0]} has {len(js)} {key[1]} jobs {[j[0] for j in js]}"))
    children = {}
    for j in jobs:
        if j[6]:
            children.setdefault(j[6], []).append(j)
    for j in jobs:
        if j[2] == "board" and j[3] in ("SUCCEEDED", "FAILED") and len(children.get(j[0], [])) != 1:
            bad.append(("I1", f"FOLLOW-UPS: board job {j[0]} {j[3]} has {len(children.get(j[0], []))} follow-ups "
                              f"{[c[0] for c in children.get(j[0], [])]}"))
    for t in trace:
        if len(t) >= 4 and t[3] == "OVERLAP":
            # "ms attempt kind OVERLAP dir held by PID ATTEMPT" or "... OVERLAP dir race"
            other = t[-1] if "held" in t else None
            bad.append(("I2", f"OVERLAP at {ms(t[0])} on {os.path.basename(t[4])}: {attempt(t[1])} found it held by "
                              + (attempt(other) if other else "a command that took it in the same instant")))
    for at, att, k, _, _ in starts:
        j = byid.get(att.split("/")[0])
        if not j:
            bad.append(("I4", f"COMMAND WITHOUT JOB: {attempt(att)}: no stored job has its id"))
            continue
        if j[3] in FINAL and int(j[4]) and at > int(j[4]):
            bad.append(("I3", f"STARTED AFTER {j[3]}: {att} started at {ms(at)}, the job ended at {ms(j[4])}: "
                              f"{attempt(att)}"))
        d = deliveries.get(j[1])
        if not d:
            bad.append(("I4", f"COMMAND FOR A DELIVERY NOT STORED: {attempt(att)}, delivery {j[1]}"))
        elif d[1] != "ACCEPTED":
            bad.append(("I4", f"COMMAND FOR A {d[1]} DELIVERY: {attempt(att)}, delivery {j[1]} received {ms(d[4])}"))
        elif d[2] not in sent_hashes:
            bad.append(("I4", f"COMMAND FOR A BODY NOT SENT: {attempt(att)}, delivery {j[1]}"))
    bad += [("I2", b) for b in check_lab(args, trace, attempt)]
    left = subprocess.run(["pgrep", "-f", f"{args.work}/hold.sh"], capture_output=True, text=True).stdout.split()
    if left:
        bad.append(("I5", f"LEFT RUNNING: hold.sh pids {left}"))
    # any process of this run's jobs (BUILDHOOK_ATTEMPT of one of its jobs), hold.sh or its children (sleep)
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            env = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        for v in env:
            if v.startswith(b"BUILDHOOK_ATTEMPT=") and v[18:].decode(errors="replace").split("/")[0] in byid:
                att = v[18:].decode(errors="replace")
                if pid not in left:
                    bad.append(("I5", f"LEFT RUNNING: pid {pid} '{cmd[:100]}' of {attempt(att)}"))
    states = {}
    for j in jobs:
        states[j[3]] = states.get(j[3], 0) + 1
    unanswered = [d for d in deliveries.values() if d[1] == "ACCEPTED"
                  and not any(s["sha"] == d[2] for s in accepted)]
    log(f"CHAOS {args.store} seed {args.seed}: {len(sent)} sent, {len(accepted)} accepted (2xx), "
        f"{len(deliveries)} deliveries stored ({len(unanswered)} accepted without a 2xx seen), {len(jobs)} jobs "
        f"{states}, {len(starts)} command starts, {len(bad)} violations")
    broken = {}
    for inv, b in bad:
        broken.setdefault(inv, []).append(b)
    for inv in sorted(INVARIANTS):
        held = inv not in broken
        log(f"  {inv} {'held' if held else 'BROKEN (' + str(len(broken[inv])) + ')'}: {INVARIANTS[inv]}")
        for b in broken.get(inv, []):
            log("    " + b)
    log("VERDICT: " + ("PASS, every invariant held" if not broken else
                       "FAIL, broken: " + ", ".join(f"{i} ({len(broken[i])})" for i in sorted(broken))))
    json.dump(results["sent"], open(f"{args.work}/sent.json", "w"), indent=1)
    sys.exit(1 if bad else 0)


def check_lab(args, trace, attempt=lambda a: a):
    """The lab commands running at each lab start, against the limit in force then (or up to --reload-lag
    before: the nodes load a saved file within seconds)."""
    spans, ends = [], {}
    for t in trace:
        if len(t) >= 4 and t[2] == "lab" and t[3] in ("end", "term"):
            ends.setdefault(t[1], int(t[0]))
    for t in trace:
        if len(t) >= 4 and t[2] == "lab" and t[3] == "start":
            start = int(t[0])
            # no end line: killed by SIGKILL; it ran at most its own time (1-3 s)
            spans.append((start, ends.get(t[1], start + 3000), t[1]))
    lag = int(args.reload_lag * 1000)
    def limit(at):
        # the highest limit in force at any moment of [at - lag, at]: the one in force at at - lag, and every
        # one saved since (seed 32008: a start 1 s after a save lowering 2 to 1 was called over the limit)
        before = [l for (ms, l) in args.reloads if ms <= at - lag] or [args.reloads[0][1]]
        return max([before[-1]] + [l for (ms, l) in args.reloads if at - lag < ms <= at])
    bad = []
    for start, end, me in spans:
        running = [m for (s, e, m) in spans if s <= start < e]
        if len(running) > limit(start):
            bad.append(f"LAB OVER LIMIT at {ms(start)}: {attempt(me)} started beside {len(running) - 1} other lab "
                       f"command(s) {[attempt(o) for o in sorted(set(running) - {me})]}, limit {limit(start)}")
    return bad


if __name__ == "__main__":
    main()
