# Sourced by the benchmark scripts (vs-adnanh.sh, cluster-pg.sh, jobs-ab.sh, jvm-options.sh, paced-after-burst.sh,
# accept-cpu.sh): the set-up each run makes the same way, so that their figures compare.

bench_secret() { # dir: a new random endpoint secret in dir/secret, readable by its owner only
  python3 -c 'import secrets; print(secrets.token_hex(32))' > "$1/secret"
  chmod 600 "$1/secret"
}

bench_trace_script() { # dir: dir/trace.sh, the command every receiver runs once per delivery
  cat > "$1/trace.sh" <<'SH'
#!/bin/bash
# $1: trace file, $2: build id. One line per run: start, end, build id.
start=$EPOCHREALTIME
printf '%s %s %s\n' "$start" "$EPOCHREALTIME" "$2" >> "$1"
SH
  chmod 755 "$1/trace.sh"
}

bench_config() { # dir port secret-file [trace-script trace-file]: dir/rules.yaml and dir/buildhook.yaml
  # A standalone server on 127.0.0.1:port with its data in dir/data, the default endpoint signed with
  # the secret; its one rule runs trace-script per delivery (appending to trace-file), or, without
  # them, matches nothing (the durable 202 alone). Callers append further top-level keys.
  if (( $# >= 5 )); then
    # The trace file gets a line per delivery: in dir, the folder the rules watcher watches, every line woke it
    # (~20 rounds/s during a run, 0.17 ms per delivery at load 33: docs/BENCHMARKS.md, "Twenty-sixth pass").
    if [[ $(cd "$(dirname "$5")" && pwd) == $(cd "$1" && pwd) ]]; then
      echo "$(basename "$0"): the trace file $5 is in $1, the rules file's folder: put it elsewhere" >&2; return 2
    fi
    printf 'rules:\n  - name: bench-trace\n    run:\n      command: [%s, %s, "${build.id}"]\n      stdin: off\n' \
        "$4" "$5" > "$1/rules.yaml"
  else
    printf 'rules:\n  - name: matches-nothing\n    when: {factory: nobody-at-all}\n    run:\n      command: [/bin/true]\n' \
        > "$1/rules.yaml"
  fi
  printf 'data-dir: %s/data\nrules: rules.yaml\nendpoints:\n  default:\n    secrets:\n      - file: %s\nserver:\n  host: 127.0.0.1\n  port: %s\n' \
      "$1" "$3" "$2" > "$1/buildhook.yaml"
}

bench_wait_for_port() { # port: until something answers HTTP there (any status), 60 s at most
  for _ in $(seq 1 600); do
    curl -s -o /dev/null -X POST "http://127.0.0.1:$1/" && return 0
    sleep 0.1
  done
  echo "$(basename "$0"): nothing listens on port $1 after 60 s" >&2; return 1
}

bench_cpu_ticks() { # pid: CPU time of the process and of its reaped children (the commands), in clock ticks
  awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat"
}

bench_pg() { # sets bench_pg_libpq (BUILDHOOK_BENCH_PG_URL, jdbc:postgresql://HOST:PORT/DB?user=U&password=P, as a
  # libpq URL without the password) and bench_pg_password, for bench_psql. The password is never put on a command
  # line: ps shows every process's arguments to every user (the URL reaches python through its environment).
  eval "$(BUILDHOOK_BENCH_PG_URL=$BUILDHOOK_BENCH_PG_URL python3 -c '
import os, shlex, urllib.parse
url = os.environ["BUILDHOOK_BENCH_PG_URL"]
u = urllib.parse.urlparse(url[len("jdbc:"):] if url.startswith("jdbc:") else url)
q = dict(urllib.parse.parse_qsl(u.query))
user = urllib.parse.quote(q.get("user", u.username or ""), safe="")
password = q.get("password", urllib.parse.unquote(u.password or ""))
host = u.netloc.rsplit("@", 1)[-1]
print("bench_pg_libpq=" + shlex.quote(f"postgresql://{user}@{host}{u.path}"))
print("bench_pg_password=" + shlex.quote(password))
')"
}

bench_psql() { # psql's arguments after the connection: psql on BUILDHOOK_BENCH_PG_URL (bench_pg first), the password
  # in psql's environment (PGPASSWORD: readable by its own user only), not on its command line
  PGPASSWORD=$bench_pg_password psql "$bench_pg_libpq" "$@"
}
