#!/usr/bin/env bash
# The whole pipeline locally: install, build, start the local PostgreSQL and RabbitMQ (and
# Kafka when ORCHESTRON_BROKER_TYPE=kafka), migrate, then run ingest, relay and admin until Ctrl-C.
# Config: config/local.yaml unless ORCHESTRON_CONFIG names another file.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

export ORCHESTRON_CONFIG="${ORCHESTRON_CONFIG:-$ROOT/config/local.yaml}"
install_and_build
ensure_postgres
if [ "${ORCHESTRON_BROKER_TYPE:-rabbitmq}" = kafka ]; then
  ensure_kafka
  export KAFKA_BROKERS="${KAFKA_BROKERS:-127.0.0.1:9092}"
else
  ensure_rabbitmq
fi

log "migrating the database"
node apps/cli/dist/main.js migrate latest

pids=()
stop() {
  trap - INT TERM EXIT
  log "stopping ingest, relay and admin"
  kill -TERM "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

node apps/ingest/dist/main.js & pids+=($!)
node apps/relay/dist/main.js & pids+=($!)
node apps/admin/dist/main.js & pids+=($!)
log "ingest on http://127.0.0.1:8080, relay health and metrics on http://127.0.0.1:9091 (Ctrl-C stops all three)"
log "admin API on http://127.0.0.1:8081/v1 (OpenAPI: http://127.0.0.1:8081/v1/openapi.json; docs/admin.md); it needs a key with a role: node apps/cli/dist/main.js keys create --name me --roles admin"
log "send an event: curl -i -X POST localhost:8080/events -H 'content-type: application/json' -d '{\"type\":\"user.signed_up\",\"data\":{\"user_id\":\"u1\",\"email\":\"a@example.com\",\"signed_up_at\":\"2026-11-26T10:00:00Z\"}}'"
# Either process exiting ends the run (and the trap stops the other).
wait -n "${pids[@]}"
