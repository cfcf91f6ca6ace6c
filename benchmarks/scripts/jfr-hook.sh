#!/usr/bin/env bash
# A HOOK for jobs-ab.sh (docs/BENCHMARKS.md, "Thirty-sixth pass (cpu47)"): a JFR recording of the server's Java
# execution samples (jdk.ExecutionSample and jdk.NativeMethodSample every 1 ms) around the N deliveries, into
# RUN/LABEL/rec.jfr. Read it with `jfr print --events jdk.ExecutionSample RUN/LABEL/rec.jfr` (or `jfr summary`).
# JFR samples only a few threads per period, and only while they run Java code: a thread's kernel time (its file
# creations, the spawn's clone3, futex waits) does not show; `PERF=1` does (fifth pass).
set -euo pipefail
case $1 in
start)
  cat > "$3/jfr-1ms.jfc" <<'JFC'
<?xml version="1.0" encoding="UTF-8"?>
<configuration version="2.0" label="1 ms execution samples">
  <event name="jdk.ExecutionSample"><setting name="enabled">true</setting><setting name="period">1 ms</setting></event>
  <event name="jdk.NativeMethodSample"><setting name="enabled">true</setting><setting name="period">1 ms</setting></event>
</configuration>
JFC
  jcmd "$2" JFR.start name=jobs-ab settings="$3/jfr-1ms.jfc" > "$3/jfr-start.out" 2>&1
  ;;
stop)
  jcmd "$2" JFR.stop name=jobs-ab filename="$3/rec.jfr" > "$3/jfr-stop.out" 2>&1
  ;;
esac
