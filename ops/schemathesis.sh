#!/usr/bin/env bash
# Checks that the service does exactly what openapi/openapi.json says:
# schemathesis (from PyPI, installed into a virtualenv under target/ when
# missing) runs every phase (examples, coverage, fuzzing, and stateful
# sequences that follow the document's links from appends to reads) against
# a live service on SQLite, once with a token of each role, and fails on any
# server error or any departure from the document.
#
# The service runs on a free loopback port with a fresh data directory, and
# both are removed on exit, whatever happens.
# SCHEMATHESIS_MAX_EXAMPLES and SCHEMATHESIS_MAX_TIME (seconds per role)
# bound the run; the defaults keep it to a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/schemathesis-venv
version="schemathesis>=4.3,<5"
if ! "$venv/bin/st" --version >/dev/null 2>&1; then
  echo "ops/schemathesis: installing $version into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "$version"
fi

export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
cargo build --quiet -p daicho-server --bin daicho
daicho="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/debug/daicho"

data="$(mktemp -d)"
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$data"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
"$daicho" init --data-dir "$data/ledger" >/dev/null
DAICHO_LOG=warn "$daicho" serve --data-dir "$data/ledger" --listen "127.0.0.1:$port" \
  --log-format text 2>"$data/serve.log" &
pid=$!
for _ in $(seq 1 100); do
  if curl -fsS "$url/readyz" >/dev/null 2>&1; then break; fi
  if ! kill -0 "$pid" 2>/dev/null; then
    cat "$data/serve.log" >&2
    echo "ops/schemathesis: the service did not start" >&2
    exit 1
  fi
  sleep 0.2
done
curl -fsS "$url/readyz" >/dev/null

root="$(pwd)"
status=0
for role in reader committee auditor admin; do
  token="$("$daicho" token create --data-dir "$data/ledger" --role "$role" --label schemathesis)"
  echo "== schemathesis as $role"
  # Run from the scratch directory, where schemathesis and hypothesis keep
  # their state, so that it goes with the directory.
  if ! (cd "$data" && "$root/$venv/bin/st" --config-file "$root/ops/schemathesis.toml" \
    run "$root/openapi/openapi.json" \
    --url "$url" \
    --header "Authorization: Bearer $token" \
    --checks all \
    --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-50}" \
    --max-time "${SCHEMATHESIS_MAX_TIME:-60}" \
    --workers 2 \
    --seed 1 \
    --no-color); then
    status=1
  fi
done
if [ "$status" -ne 0 ]; then
  echo "ops/schemathesis: the service departs from openapi/openapi.json (see above)" >&2
  tail -n 50 "$data/serve.log" >&2
fi
exit "$status"
