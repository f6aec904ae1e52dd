#!/usr/bin/env bash
# Backup, restore and damage drills with the real binaries, on this host's
# disk, in a scratch directory (SQLite). See docs/OPERATIONS.md, "Backup and
# restore" and "Faults and what to do".
#
#   ops/drills/backup-drills.sh [--events N]
#
# 1. `daicho backup` while senders append; more appends after it.
# 2. The backup restored into a new directory starts, and its export
#    verifies with daicho-verify and holds the backup's entries.
# 3. The backup restored over the ledger's own database: start-up refuses
#    and names the lost seqs; --accept-rollback starts.
# 4. A backup with one changed byte is refused; nothing is written.
# 5. A database page overwritten while the ledger is stopped: start-up
#    refuses and says to restore.
#
# Environment: DAICHO_BIN and DAICHO_VERIFY_BIN (default: built here, debug
# profile).
#
# Exit status: 0 when every drill behaves as documented; 1 otherwise; 2 on
# bad usage.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

events=100
while (($#)); do
  case $1 in
    --events) events=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ $events =~ ^[1-9][0-9]*$ ]] || { echo "--events is a positive integer" >&2; exit 2; }
for tool in curl jq python3; do
  command -v $tool >/dev/null || { echo "backup-drills: needs $tool" >&2; exit 2; }
done
if [[ -z ${DAICHO_BIN:-} || -z ${DAICHO_VERIFY_BIN:-} ]]; then
  echo "backup-drills: building daicho and daicho-verify"
  cargo build -q -p daicho-server --bin daicho -p daicho-verify --bin daicho-verify
fi
bin=${DAICHO_BIN:-$root/target/debug/daicho}
verify=${DAICHO_VERIFY_BIN:-$root/target/debug/daicho-verify}

work=$(mktemp -d)
server_pid=
cleanup() {
  [[ -n $server_pid ]] && kill -9 "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

status=0
pass() { echo "PASS  $1"; }
fail() { echo "FAIL  $1" >&2; status=1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base=http://127.0.0.1:$port

# Starts `daicho serve` on $1 (more flags after it); returns 1 if it exits
# instead of listening, with its log in $work/serve.log.
start_server() {
  local data=$1; shift
  : >"$work/serve.log"
  "$bin" serve --data-dir "$data" --listen "127.0.0.1:$port" --log-format text "$@" \
    >>"$work/serve.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 300); do
    curl -sf -o /dev/null "$base/healthz" && return 0
    if ! kill -0 "$server_pid" 2>/dev/null; then
      wait "$server_pid" 2>/dev/null || true
      server_pid=
      return 1
    fi
    sleep 0.1
  done
  return 1
}
stop_server() {
  kill -TERM "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
}

# shellcheck source=ops/drills/sample-event.sh
. "$root/ops/drills/sample-event.sh"

data=$work/data
start_server "$data" || { echo "backup-drills: the service did not start" >&2; cat "$work/serve.log" >&2; exit 1; }
"$bin" keygen --out "$work/source.key" --name drill-source >/dev/null 2>&1
"$bin" key register --url "$base" --admin-key "$data/keys/admin.key" \
  --public-key "$work/source.key.pub" --source drill-source --types "$event_type" >/dev/null
mkdir -p "$work/events"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
for ((i = 0; i < 2 * events; i++)); do
  jq -nc --arg t "$event_type" --argjson v "$schema_version" --arg r "$actor_role" --arg at "$now" \
    --argjson p "$payload" \
    '{type: $t, schema_version: $v, occurred_at: $at, actor: {id: "drill", role: $r}, payload: $p}' \
    | "$bin" sign --key "$work/source.key" --source drill-source >"$work/events/$i.json"
done
post() {
  curl -sf -o /dev/null --max-time 10 -H 'content-type: application/json' \
    --data-binary "@$work/events/$1.json" "$base/v1/events"
}

# 1. A backup while senders append.
( for ((i = 0; i < events; i++)); do post "$i" || echo "event $i" >>"$work/unacked"; done ) &
sender=$!
sleep 0.2
if "$bin" backup --data-dir "$data" --out "$work/backup" 2>"$work/backup.log"; then
  pass "backup taken while appending ($(jq .tree_size "$work/backup/backup.json") entries)"
else
  fail "backup: $(cat "$work/backup.log")"
fi
wait "$sender"
for ((i = events; i < 2 * events; i++)); do post "$i" || echo "event $i" >>"$work/unacked"; done
[[ -f $work/unacked ]] && fail "appends refused: $(head -n 3 "$work/unacked")"
stop_server
backed_up=$(jq .tree_size "$work/backup/backup.json" 2>/dev/null || echo 0)

# 2. Into a new directory: it starts, and its export verifies.
if "$bin" restore --from "$work/backup" --data-dir "$work/restored" --keys-from "$data/keys" \
  2>"$work/restore.log" && start_server "$work/restored"; then
  stop_server
  "$bin" export --data-dir "$work/restored" --out "$work/restored.jsonl" >/dev/null 2>&1 || true
  entries=$(jq -c 'select(.event)' "$work/restored.jsonl" 2>/dev/null | grep -c . || true)
  if "$verify" "$work/restored.jsonl" --ledger-key "$work/backup/keys/ledger.vkey" \
    --since "$work/backup/last-checkpoint" >"$work/verify.txt" 2>&1 && ((entries == backed_up)); then
    pass "restored into a new directory: starts, $entries entries verify"
  else
    fail "the restored ledger's export: $entries entries, $(cat "$work/verify.txt")"
  fi
else
  fail "restore into a new directory: $(cat "$work/restore.log" "$work/serve.log")"
fi

# 3. Over the ledger's own database: the fork guard names the lost seqs.
"$bin" export --data-dir "$data" --out "$work/before.jsonl" >/dev/null 2>&1 || true
total=$(jq -c 'select(.event)' "$work/before.jsonl" 2>/dev/null | grep -c . || true)
"$bin" restore --from "$work/backup" --data-dir "$data" --replace-database 2>"$work/restore.log" \
  || fail "restore over the database: $(cat "$work/restore.log")"
if start_server "$data"; then
  stop_server
  fail "the service started on a database older than its last checkpoint"
elif grep -q "the entries with seq $backed_up to $((total - 1)) (inclusive)" "$work/serve.log"; then
  pass "restored over the ledger: start refused, seqs $backed_up to $((total - 1)) named"
else
  fail "the refusal does not name seqs $backed_up to $((total - 1)): $(tail -n 3 "$work/serve.log")"
fi
if start_server "$data" --accept-rollback; then
  stop_server
  pass "--accept-rollback starts"
else
  fail "--accept-rollback: $(tail -n 3 "$work/serve.log")"
fi

# 4. A tampered backup is refused, and nothing is written.
cp -r "$work/backup" "$work/tampered"
python3 - "$work/tampered/daicho.db" <<'PY'
import sys
path = sys.argv[1]
b = bytearray(open(path, "rb").read())
i = b.rfind(b"drill-source")
b[i] ^= 1
open(path, "wb").write(bytes(b))
PY
if "$bin" restore --from "$work/tampered" --data-dir "$work/from-tampered" 2>"$work/restore.log"; then
  fail "a tampered backup was restored"
elif grep -q "refusing the backup" "$work/restore.log" && [[ ! -e $work/from-tampered ]]; then
  pass "a tampered backup is refused, nothing written"
else
  fail "the refusal of a tampered backup: $(cat "$work/restore.log")"
fi

# 5. A damaged page of a stopped ledger.
python3 - "$data/daicho.db" <<'PY'
import sys
path = sys.argv[1]
b = bytearray(open(path, "rb").read())
page = int.from_bytes(b[16:18], "big")
pages = len(b) // page
at = next(n * page for n in range(pages // 2, pages) if b[n * page] in (2, 5, 10, 13))
b[at:at + 512] = b"\xa5" * 512
open(path, "wb").write(bytes(b))
PY
if start_server "$data"; then
  stop_server
  fail "the service started on a damaged database"
elif grep -q "the database file is damaged" "$work/serve.log" && grep -q "daicho restore" "$work/serve.log"; then
  pass "a damaged page: start refused, restore advised"
else
  fail "the refusal of a damaged page: $(tail -n 3 "$work/serve.log")"
fi

exit $status
