# Sourced by the drill scripts, with $root the repository: the first event
# type of the catalogue with an example payload, and an actor role. Sets
# event_type, actor_role, schema_version and payload; every drill event is
# one of these.
read -r event_type actor_role < <(python3 - "$root/schemas" <<'PY'
import glob, json, os, sys
root = sys.argv[1]
roles = json.load(open(os.path.join(root, "roles.json")))["roles"]
role = next(r["id"] for r in roles if not r.get("members"))
for f in sorted(glob.glob(os.path.join(root, "events", "*", "*.json"))):
    if json.load(open(f)).get("examples"):
        print(os.path.basename(os.path.dirname(f)), role)
        break
PY
)
schema_file=$(ls "$root"/schemas/events/"$event_type"/*.json | sort -V | tail -n1)
schema_version=$(basename "$schema_file" .json)
payload=$(jq -c '.examples[0]' "$schema_file")
