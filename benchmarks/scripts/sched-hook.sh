#!/usr/bin/env bash
# A HOOK for jobs-ab.sh (docs/BENCHMARKS.md, "Thirty-fifth pass"): `perf record` of the server's scheduler events and of
# a few system calls around the N deliveries, into RUN/LABEL/sched.data: every wake-up and switch of its threads, the
# accept's fsync, the posix_spawn's clone3 and the child's execve. Read it with
#   perf script -i RUN/LABEL/sched.data > FILE && python3 benchmarks/scripts/sched-stages.py FILE
# Needs perf and root (or perf_event_paranoid <= 1 with access to the trace points).
set -euo pipefail
case $1 in
start)
  perf record -q -p "$2" -o "$3/sched.data" \
    -e 'sched:sched_wakeup,sched:sched_switch,sched:sched_process_fork' \
    -e 'syscalls:sys_enter_read,syscalls:sys_exit_read,syscalls:sys_enter_write,syscalls:sys_exit_write' \
    -e 'syscalls:sys_enter_pwrite64,syscalls:sys_enter_fsync,syscalls:sys_exit_fsync,syscalls:sys_enter_openat' \
    -e 'syscalls:sys_enter_clone3,syscalls:sys_enter_execve,syscalls:sys_exit_execve' \
    2> "$3/sched-perf.err" &
  echo $! > "$3/sched-perf.pid"
  sleep 1
  ;;
stop)
  perf_pid=$(cat "$3/sched-perf.pid")
  kill -INT "$perf_pid" 2>/dev/null || true
  while kill -0 "$perf_pid" 2>/dev/null; do sleep 0.2; done
  ;;
esac
