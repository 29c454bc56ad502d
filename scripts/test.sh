#!/usr/bin/env bash
# The whole test suite: install, build, start the services the tests need (local
# PostgreSQL, RabbitMQ, and Kafka from Maven Central jars), then every jest project.
# Extra arguments go to jest, e.g. `npm test -- packages/config`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ROOT"

install_and_build

# Service addresses given by the caller win; otherwise use (and start) the local ones.
if [ -z "${TEST_DATABASE_URL:-}" ]; then ensure_postgres; export TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres; fi
if [ -z "${TEST_AMQP_URL:-}" ]; then ensure_rabbitmq; export TEST_AMQP_URL=amqp://guest:guest@127.0.0.1:5672; fi
if [ -z "${TEST_KAFKA_BROKERS:-}" ]; then ensure_kafka; export TEST_KAFKA_BROKERS=127.0.0.1:9092; fi

log "running the tests"
pnpm exec jest --ci "$@"
