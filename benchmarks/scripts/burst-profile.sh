#!/usr/bin/env bash
# A HOOK for jobs-ab.sh (docs/BENCHMARKS.md, "Seventh pass: PostgreSQL accepting while jobs run"): during the burst
# only, i.e. from just before the N deliveries until RUN/LABEL/serve.out has PROF_TOTAL (= PRE + N) "accepted" lines,
#  - async-profiler in wall-clock mode (every thread, every 2 ms) into RUN/LABEL/wall.collapsed, loaded into the
#    server with `jcmd PID JVMTI.agent_load` (ASYNC_PROFILER_LIB: the path of libasyncProfiler.so, from the
#    async-profiler release or its Maven Central jar);
#  - with PROF_DB (the bench database's name), pg-waits.py: its client backends by state and wait event every 20 ms,
#    into RUN/LABEL/pgwaits.txt;
#  - the server's buildhook_store_* metrics before and after, into RUN/LABEL/metrics-{start,end}.txt.
# Then burst-profile.py RUN/LABEL summarises them. E.g.
#   PROF_TOTAL=3500 PROF_DB=buildhook_bench ASYNC_PROFILER_LIB=/opt/asprof/lib/libasyncProfiler.so \
#   HOOK=benchmarks/scripts/burst-profile.sh STORE=pg benchmarks/scripts/jobs-ab.sh 3000 500 base=/tmp/base
set -u
here=$(cd "$(dirname "$0")" && pwd)
lib=${ASYNC_PROFILER_LIB:?the path of libasyncProfiler.so}
case $1 in
start)
  port=$(sed -n 's/^  port: //p' "$3/buildhook.yaml")
  curl -s "http://127.0.0.1:$port/metrics" | grep '^buildhook_store_' > "$3/metrics-start.txt"
  jcmd "$2" JVMTI.agent_load "$lib" "\"start,event=wall,interval=2ms,threads\"" > "$3/asprof-start.out" 2>&1
  waits=
  if [[ -n ${PROF_DB:-} ]]; then
    python3 "$here/pg-waits.py" "$PROF_DB" "$3/pgwaits.txt" &
    waits=$!
  fi
  ( while (( $(grep -c ' accepted: ' "$3/serve.out") < PROF_TOTAL )); do sleep 0.05; done
    curl -s "http://127.0.0.1:$port/metrics" | grep '^buildhook_store_' > "$3/metrics-end.txt"
    [[ -z $waits ]] || kill -TERM "$waits"
    jcmd "$2" JVMTI.agent_load "$lib" "\"stop,file=$3/wall.collapsed,collapsed\"" > "$3/asprof-stop.out" 2>&1 ) &
  ;;
stop) ;;
esac
