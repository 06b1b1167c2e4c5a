#!/usr/bin/env bash
# Sets up Agoria TRE on its embedded default (SQLite in $AGORIA_HOME), generates the
# synthetic early-access cohort as raw hospital extracts, ingests each one (pseudonymised),
# and grants them to a demo project, whose copies are made. Safe to run again: what exists
# is left as it is.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/bootstrap.sh"
source "$ROOT/.venv/bin/activate"

export AGORIA_HOME="${AGORIA_HOME:-/var/lib/agoria-tre}"
agoria-tre init

demo=demo-eap
if agoria-tre project show "$demo" >/dev/null 2>&1; then
  echo "project $demo already exists"
else
  agoria-tre project create "$demo" \
    --title "Early access programme: synthetic demo cohort" --legal-basis "MR-004"
fi
# Each role on its own, so that a run interrupted half-way is completed by the next one.
for member in alice:researcher bob:reviewer carol:reviewer dana:lead; do
  user="${member%%:*}" role="${member#*:}"
  if ! out=$(agoria-tre member add "$demo" "$user" --role "$role" 2>&1); then
    grep -q "is already $role of project" <<<"$out" || { echo "$out" >&2; exit 1; }
  else
    echo "$out"
  fi
done

# The platform key lives outside the data directory, readable by its owner only.
export AGORIA_KEY_FILE="${AGORIA_KEY_FILE:-$(dirname "$AGORIA_HOME")/agoria-tre-keys/platform.key}"
if [ ! -f "$AGORIA_KEY_FILE" ]; then
  agoria-tre key create "$AGORIA_KEY_FILE"
fi

# Raw extracts (synthetic, with invented names and NIRs) go to a scratch folder that is
# removed once they are ingested.
extracts="$(mktemp -d)"
trap 'rm -rf "$extracts"' EXIT
existing="$(agoria-tre dataset list --json)"
has() { grep -q "\"$1@1\"" <<<"$existing"; }
if ! has patients || ! has treatments || ! has adverse_events || ! has outcomes; then
  agoria-tre demo-data --patients 2000 --seed 2026 --out "$extracts"
fi
for name in patients treatments adverse_events outcomes; do
  has "$name" || agoria-tre dataset ingest "$extracts/$name.csv" --name "$name" \
    --profile "$extracts/$name.toml"
done

until_day="$(date -d '+1 year' +%F)"
granted="$(agoria-tre grant list "$demo" --json)"
for name in patients treatments adverse_events outcomes; do
  if ! grep -q "\"$name@1\"" <<<"$granted"; then
    agoria-tre grant add "$demo" "$name@1" --reference "CESREES-DEMO-2026" --until "$until_day"
  fi
done
agoria-tre dataset reconcile --project "$demo"

echo
agoria-tre project show "$demo"
echo
agoria-tre dataset show patients@1
echo
agoria-tre audit verify
cat <<MSG

Agoria TRE catalog ready in $AGORIA_HOME.
Try: source .venv/bin/activate && AGORIA_HOME=$AGORIA_HOME agoria-tre --help
MSG
