# Shared helpers of the project scripts (sourced, not run).
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PNPM_VERSION="$(node -p "require('$ROOT/package.json').packageManager.split('@')[1]")"
# The Node.js the project runs on, pinned in one place (.nvmrc, which nvm and fnm read too).
NODE_VERSION="$(tr -d ' \tv\r\n' <"$ROOT/.nvmrc")"
# Caches that outlive a clone (the pinned Node, the local Kafka's jars), as in deploy/local/kafka.sh.
LOCAL_DIR="${ORCHESTRON_LOCAL_DIR:-${HOME:-$(cd ~ && pwd)}/.cache/orchestron}"

log() { printf '\033[1m[orchestron]\033[0m %s\n' "$*" >&2; }

# The pinned Node first on PATH, for everything the scripts run (npx, pnpm, tsc, jest and the
# apps the tests spawn, which inherit the test runner's binary). A machine whose `node` is
# another version gets it once from the npm registry: the `node` package's install script
# fetches the binary for this platform (the `node-<os>-<arch>` package, also from the
# registry) into $LOCAL_DIR/node/<version>. The system's Node is left as it is.
use_pinned_node() {
  if [ "$(node --version 2>/dev/null)" = "v$NODE_VERSION" ]; then return 0; fi
  local dir="$LOCAL_DIR/node/$NODE_VERSION"
  if [ "$("$dir/node_modules/node/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
    log "fetching Node.js $NODE_VERSION from the npm registry into $dir (once; the system's $(node --version 2>/dev/null || echo 'none') stays)"
    mkdir -p "$LOCAL_DIR/node"
    # Installed beside and renamed into place, so a concurrent or interrupted run never sees half of it.
    local tmp
    tmp="$(mktemp -d "$LOCAL_DIR/node/.install.XXXXXX")"
    if ! npm install --prefix "$tmp" --no-save --no-audit --no-fund --loglevel=error "node@$NODE_VERSION" >&2 ||
      [ "$("$tmp/node_modules/node/bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
      rm -rf "$tmp"
      log "could not install Node.js $NODE_VERSION from the npm registry (npm install node@$NODE_VERSION): install Node $NODE_VERSION yourself and put it first on PATH"
      return 1
    fi
    rm -rf "$dir" && mv "$tmp" "$dir"
  fi
  PATH="$dir/node_modules/node/bin:$PATH"
  export PATH
  hash -r
}
use_pinned_node || return 1

# Node options for the long-running apps (ingest, relay), as in the images. Node 24 sizes the
# young generation larger than 22 did, which took ingest's peak RSS under load from ~210 to
# ~340 MB; an 8 MB semi-space brings it back to Node 22's level (docs/benchmarks.md).
APP_NODE_OPTIONS=(--max-semi-space-size=8)

# The pinned pnpm: a global one of the right version, else fetched from the npm registry.
pnpm() {
  if command -v pnpm >/dev/null 2>&1 && [ "$(command pnpm --version 2>/dev/null)" = "$PNPM_VERSION" ]; then
    command pnpm "$@"
  else
    npx --yes "pnpm@$PNPM_VERSION" "$@"
  fi
}

install_and_build() {
  log "installing dependencies from the lockfile (pnpm $PNPM_VERSION)"
  (cd "$ROOT" && pnpm install --frozen-lockfile --reporter=append-only | tail -n 3)
  log "building"
  (cd "$ROOT" && pnpm run build)
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

wait_for_port() { # host port seconds name
  local deadline=$((SECONDS + $3))
  until port_open "$1" "$2"; do
    if [ $SECONDS -ge $deadline ]; then log "$4 did not come up on $1:$2 within $3 s"; return 1; fi
    sleep 1
  done
}

# Postgres on 127.0.0.1:5432: started with the machine's own cluster tools when down.
ensure_postgres() {
  if port_open 127.0.0.1 5432; then return 0; fi
  if command -v pg_ctlcluster >/dev/null 2>&1; then
    log "starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | sort -V | tail -n 1)" main start
    wait_for_port 127.0.0.1 5432 60 PostgreSQL
  else
    log "PostgreSQL is not running on 127.0.0.1:5432 and cannot be started here: start it, or set TEST_DATABASE_URL"
    return 1
  fi
}

# RabbitMQ on 127.0.0.1:5672, guest/guest: started detached when down.
ensure_rabbitmq() {
  if port_open 127.0.0.1 5672; then return 0; fi
  if command -v rabbitmq-server >/dev/null 2>&1; then
    log "starting RabbitMQ"
    rabbitmq-server -detached
    wait_for_port 127.0.0.1 5672 120 RabbitMQ
  else
    log "RabbitMQ is not running on 127.0.0.1:5672 and cannot be started here: start it, or set TEST_AMQP_URL"
    return 1
  fi
}

# A real single-node KRaft Kafka from Maven Central jars (deploy/local/kafka.sh).
ensure_kafka() {
  bash "$ROOT/deploy/local/kafka.sh" start
}
