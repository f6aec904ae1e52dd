#!/usr/bin/env bash
# Crash trials: kill -9 a `daicho serve` during concurrent appends, start it
# again, and count the acknowledged events that were lost (there must be
# none). Runs on SQLite and on PostgreSQL, on loopback only, bounded in
# time. See docs/OPERATIONS.md, "Crash trials".
#
#   ops/drills/crash-trials.sh [--backend sqlite|postgres|both] [--trials N]
#       [--events N] [--concurrency N] [--time-limit SECONDS]
#
# Environment: DAICHO_BIN and DAICHO_VERIFY_BIN (default: built here, debug
# profile), DAICHO_CRASH_PG (default postgres://postgres@127.0.0.1:5432/test;
# each run uses a scratch schema, dropped at the end).
#
# Exit status: 0 when every trial lost nothing, every restart succeeded and
# the final bundle verifies; 1 otherwise; 2 on bad usage.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

backend=both trials=5 events=200 concurrency=8 time_limit=300
while (($#)); do
  case $1 in
    --backend) backend=$2; shift 2 ;;
    --trials) trials=$2; shift 2 ;;
    --events) events=$2; shift 2 ;;
    --concurrency) concurrency=$2; shift 2 ;;
    --time-limit) time_limit=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
case $backend in sqlite) backends=(sqlite) ;; postgres) backends=(postgres) ;; both) backends=(sqlite postgres) ;;
  *) echo "--backend is sqlite, postgres or both" >&2; exit 2 ;; esac
for n in "$trials" "$events" "$concurrency" "$time_limit"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "counts and the time limit are positive integers" >&2; exit 2; }
done
for tool in curl jq python3; do
  command -v $tool >/dev/null || { echo "crash-trials: needs $tool" >&2; exit 2; }
done

if [[ -z ${DAICHO_BIN:-} || -z ${DAICHO_VERIFY_BIN:-} ]]; then
  echo "crash-trials: building daicho and daicho-verify"
  cargo build -q -p daicho-server --bin daicho -p daicho-verify --bin daicho-verify
fi
bin=${DAICHO_BIN:-$root/target/debug/daicho}
verify=${DAICHO_VERIFY_BIN:-$root/target/debug/daicho-verify}
pg_base=${DAICHO_CRASH_PG:-postgres://postgres@127.0.0.1:5432/test}
deadline=$((SECONDS + time_limit))

work=$(mktemp -d)
server_pid=
schema=
cleanup() {
  [[ -n $server_pid ]] && kill -9 "$server_pid" 2>/dev/null || true
  if [[ -n $schema ]]; then psql -q "$pg_base" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# shellcheck source=ops/drills/sample-event.sh
. "$root/ops/drills/sample-event.sh"

status=0
summary=()

run_backend() {
  local b=$1 dir=$work/$b url_args=() url port base
  mkdir -p "$dir"
  if [[ $b == postgres ]]; then
    schema=crash_$(python3 -c 'import secrets; print(secrets.token_hex(6))')
    url="$pg_base?schema=$schema"
    url_args=(--database-url "$url")
  fi
  local data=$dir/data
  port=$(free_port)
  base=http://127.0.0.1:$port

  start_server() {
    "$bin" serve --data-dir "$data" --listen "127.0.0.1:$port" --log-format text "${url_args[@]}" \
      >>"$dir/serve.log" 2>&1 &
    server_pid=$!
    for _ in $(seq 1 300); do
      curl -sf -o /dev/null "$base/healthz" && return 0
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    echo "crash-trials [$b]: the service did not start; its log:" >&2
    tail -n 20 "$dir/serve.log" >&2
    return 1
  }

  start_server || return 1
  "$bin" keygen --out "$dir/source.key" --name crash-source >/dev/null 2>&1
  "$bin" key register --url "$base" --admin-key "$data/keys/admin.key" \
    --public-key "$dir/source.key.pub" --source crash-source --types "$event_type" >/dev/null

  # Every event is signed before the first trial, so that the trials
  # measure appends only.
  local total=$((trials * events)) i
  mkdir -p "$dir/events"
  local now
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  for ((i = 0; i < total; i++)); do
    jq -nc --arg t "$event_type" --argjson v "$schema_version" --arg r "$actor_role" --arg at "$now" \
      --argjson p "$payload" \
      '{type: $t, schema_version: $v, occurred_at: $at, actor: {id: "crash-trial", role: $r}, payload: $p}' \
      | "$bin" sign --key "$dir/source.key" --source crash-source >"$dir/events/$i.json"
  done

  local t done_trials=0 restarts_failed=0
  : >"$dir/acked"
  for ((t = 0; t < trials; t++)); do
    if ((SECONDS >= deadline)); then
      echo "crash-trials [$b]: time limit reached after $done_trials trials"
      break
    fi
    local k pids=()
    for ((k = 0; k < concurrency; k++)); do
      (
        for ((i = t * events + k; i < (t + 1) * events; i += concurrency)); do
          code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 \
            -H 'content-type: application/json' --data-binary "@$dir/events/$i.json" "$base/v1/events" || true)
          case $code in
            200|201) jq -r .event_id "$dir/events/$i.json" >>"$dir/acked.$t.$k" ;;
            000) break ;;   # the service is gone: this sender stops
            *) echo "crash-trials [$b]: event $i got HTTP $code" >>"$dir/unexpected" ;;
          esac
        done
      ) &
      pids+=($!)
    done
    # Kill at a random moment while the senders are busy.
    sleep "$(python3 -c 'import random; print(round(random.uniform(0.2, 1.5), 2))')"
    kill -9 "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
    wait "${pids[@]}" 2>/dev/null || true
    cat "$dir"/acked."$t".* >>"$dir/acked" 2>/dev/null || true
    done_trials=$((t + 1))
    if ! start_server; then
      restarts_failed=$((restarts_failed + 1))
      break
    fi
  done

  local acked lost=0 committed verified=no
  acked=$(sort -u "$dir/acked" | grep -c . || true)
  if [[ -n $server_pid ]]; then
    kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
  fi
  if "$bin" export --data-dir "$data" "${url_args[@]}" --out "$dir/bundle.jsonl" >/dev/null 2>&1 \
    && "$verify" "$dir/bundle.jsonl" --ledger-key "$data/keys/ledger.vkey" >"$dir/verify.txt" 2>&1; then
    verified=yes
  fi
  jq -r 'select(.event) | .event.event_id' "$dir/bundle.jsonl" 2>/dev/null | sort -u >"$dir/in-ledger" || true
  sort -u "$dir/acked" >"$dir/acked.sorted"
  lost=$(comm -23 "$dir/acked.sorted" "$dir/in-ledger" | grep -c . || true)
  committed=$(jq -r .event_id "$dir"/events/*.json | sort -u | comm -12 - "$dir/in-ledger" | grep -c . || true)
  local unexpected=0
  [[ -f $dir/unexpected ]] && unexpected=$(grep -c . "$dir/unexpected")

  summary+=("$(printf '%-9s trials %-3s acknowledged %-6s in ledger %-6s lost %-3s restarts failed %-2s other HTTP %-3s bundle verifies %s' \
    "$b" "$done_trials" "$acked" "$committed" "$lost" "$restarts_failed" "$unexpected" "$verified")")
  if ((lost > 0 || restarts_failed > 0 || unexpected > 0)) || [[ $verified != yes ]]; then
    status=1
    [[ $verified == yes ]] || cat "$dir/verify.txt" >&2 2>/dev/null || true
    [[ -f $dir/unexpected ]] && head -n 5 "$dir/unexpected" >&2
  fi
  if [[ -n $schema ]]; then
    psql -q "$pg_base" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
    schema=
  fi
}

for b in "${backends[@]}"; do
  run_backend "$b" || status=1
done
echo "crash trials: kill -9 during $concurrency concurrent appends, $events events offered per trial"
printf '%s\n' "${summary[@]}"
exit $status
