#!/usr/bin/env bash
# Prints a local demo API key on stdout: the one kept in .orchestron/demo-key (ignored by git)
# while the database still has it active, else a new one (`orchestron keys create`), which is
# then kept there (mode 600) for the next run. Used by `npm start`, so that the curl it prints
# works at once. ORCHESTRON_DEMO_KEY_FILE names another file; the database is the configured one.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

file="${ORCHESTRON_DEMO_KEY_FILE:-$ROOT/.orchestron/demo-key}"
orchestron() { node "$ROOT/apps/cli/dist/main.js" "$@"; }

if [ -s "$file" ]; then
  key="$(cat "$file")"
  # Only a prefix of each key is stored beside its hash; an active key with this one's prefix is it.
  if orchestron keys list --json | KEY="$key" node -e '
      const keys = JSON.parse(require("fs").readFileSync(0, "utf8"));
      process.exit(keys.some((k) => !k.revokedAt && process.env.KEY.startsWith(k.prefix)) ? 0 : 1);'; then
    echo "$key"
    exit 0
  fi
  log "the demo key in $file is no longer active in this database; creating another"
fi

name="local-demo-$(date -u +%Y%m%d%H%M%S)"
key="$(orchestron keys create --name "$name" --json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).key)')"
mkdir -p "$(dirname "$file")"
(umask 077 && printf '%s\n' "$key" >"$file")
log "created API key \"$name\" for local use, kept in $file"
echo "$key"
