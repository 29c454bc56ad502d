# Shared helpers of the project scripts (sourced, not run).
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PNPM_VERSION="$(node -p "require('$ROOT/package.json').packageManager.split('@')[1]")"

log() { printf '\033[1m[orchestron]\033[0m %s\n' "$*" >&2; }

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
