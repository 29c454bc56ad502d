#!/usr/bin/env bash
# Run a real single-node Apache Kafka broker (KRaft, combined broker+controller) for local
# development and CI, without Docker: jars come from Maven Central (via kafka/pom.xml),
# the JVM is the local Java 17+. Linux (uses setsid, flock, timeout). See README.md here.
#
#   deploy/local/kafka.sh start|stop|restart|status|logs [-f]|reset
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

KAFKA_VERSION="${KAFKA_VERSION:-4.4.0}"
KAFKA_HOST=127.0.0.1
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
KAFKA_NUM_PARTITIONS="${KAFKA_NUM_PARTITIONS:-1}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
# Optional TLS client listener (off unless KAFKA_SSL_PORT is set), e.g. for TLS tests:
# KAFKA_SSL_KEYSTORE_PEM is one PEM file with the broker's unencrypted PKCS#8 private key and
# its certificate chain; KAFKA_SSL_TRUSTSTORE_PEM the CAs of client certificates, needed when
# KAFKA_SSL_CLIENT_AUTH is requested or required.
KAFKA_SSL_PORT="${KAFKA_SSL_PORT:-}"
KAFKA_SSL_KEYSTORE_PEM="${KAFKA_SSL_KEYSTORE_PEM:-}"
KAFKA_SSL_TRUSTSTORE_PEM="${KAFKA_SSL_TRUSTSTORE_PEM:-}"
KAFKA_SSL_CLIENT_AUTH="${KAFKA_SSL_CLIENT_AUTH:-none}"
# Kafka's own default is a fixed 1 GiB heap; a dev/CI broker is fine with far less.
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}"
# Same GC settings as Kafka's bin/kafka-run-class.sh.
KAFKA_JVM_PERFORMANCE_OPTS="${KAFKA_JVM_PERFORMANCE_OPTS:--XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true}"
KAFKA_OPTS="${KAFKA_OPTS:-}"
JAVA="${JAVA_HOME:+$JAVA_HOME/bin/}java"

# State lives outside the repo, so clones stay clean and the jar cache survives `git clean`.
STATE="${ORCHESTRON_LOCAL_DIR:-$HOME/.cache/orchestron}/kafka"
LIB="$STATE/$KAFKA_VERSION/lib"    # per version: switching versions never mixes jars
DATA="$STATE/$KAFKA_VERSION/data"  # per version: KRaft metadata cannot be downgraded
CONF="$STATE/server.properties"
LOG="$STATE/logs/kafka.log"
PIDFILE="$STATE/kafka.pid"

say() { echo "kafka.sh: $*"; }
die() { echo "kafka.sh: error: $*" >&2; exit 1; }

# Kafka 4.x logs through log4j2, 3.x through log4j 1.x (reload4j): the pom picks the
# binding (-Dkafka3), and each framework reads only its own config property.
MVN_PROFILE=()
[[ $KAFKA_VERSION == 3.* ]] && MVN_PROFILE=(-Dkafka3)
LOG_OPTS=(-Dlog4j2.configurationFile="$HERE/kafka/log4j2.properties"
          -Dlog4j.configuration="file:$HERE/kafka/log4j.properties")

# Short-lived Kafka CLI classes (storage format, admin check) on the broker classpath;
# the timeout keeps a wedged tool from hanging `start` forever.
tool() { timeout 120 "$JAVA" -Xmx256m "${LOG_OPTS[@]}" -cp "$LIB/*" "$@"; }

# Serialise start/stop/reset: parallel test jobs may all call `start` at once.
lock() { mkdir -p "$STATE"; exec 9>"$STATE/.lock"; flock 9; }

pid() { cat "$PIDFILE" 2>/dev/null || true; }

# True if the pid file points at a live kafka.Kafka JVM (guards against recycled pids).
running() {
  local p; p="$(pid)"
  [[ -n $p ]] && kill -0 "$p" 2>/dev/null && ps -p "$p" -o args= | grep -q 'kafka\.Kafka'
}

# The version the running broker was started with (its classpath is $STATE/<version>/lib/*).
running_version() { ps -p "$(pid)" -o args= | sed -n 's|.*/\([^/]*\)/lib/\*.*|\1|p'; }

# Protocol-level check without a JVM: send a Kafka ApiVersions v0 request (api_key 18,
# correlation id 42, null client id) over bash's /dev/tcp. A broker that is serving
# replies with [int32 size][int32 correlation id = 42][int16 error_code = 0]...
# Kafka only opens the client listener once it is registered and unfenced, so this
# answering means the broker is really up.
answers() {
  local hex
  # shellcheck disable=SC2016  # $0/$1 are expanded by the inner bash
  hex="$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1
    printf "\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x00\x2a\xff\xff" >&3
    head -c 10 <&3 | od -An -tx1' "$KAFKA_HOST" "$KAFKA_PORT" 2>/dev/null | tr -d ' \n')" || return 1
  [[ ${hex:8:12} == 0000002a0000 ]]
}

# shellcheck disable=SC2016
port_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$KAFKA_HOST" "$1" 2>/dev/null; }

fetch_jars() {
  [[ -f $LIB/.complete ]] && return 0  # cached: later starts never touch the network
  command -v mvn >/dev/null || die "mvn not found (needed once to fetch the Kafka $KAFKA_VERSION jars)"
  say "fetching Kafka $KAFKA_VERSION jars from Maven Central into $LIB (first run only)..."
  rm -rf "$LIB.tmp"
  local out  # Maven prints its errors on stdout: keep them for the failure message only
  out="$(mvn -q -B -f "$HERE/kafka/pom.xml" dependency:copy-dependencies "${MVN_PROFILE[@]}" \
    -Dkafka.version="$KAFKA_VERSION" -DoutputDirectory="$LIB.tmp" 2>&1)" \
    || { echo "$out" >&2; die "could not resolve Kafka $KAFKA_VERSION from Maven Central"; }
  rm -rf "$LIB" && mv "$LIB.tmp" "$LIB" && touch "$LIB/.complete"
}

# The SSL listener's settings, appended to server.properties when KAFKA_SSL_PORT is set.
ssl_config() {
  echo "ssl.keystore.type=PEM"
  echo "ssl.keystore.location=$KAFKA_SSL_KEYSTORE_PEM"
  echo "ssl.client.auth=$KAFKA_SSL_CLIENT_AUTH"
  if [[ -n $KAFKA_SSL_TRUSTSTORE_PEM ]]; then
    echo "ssl.truststore.type=PEM"
    echo "ssl.truststore.location=$KAFKA_SSL_TRUSTSTORE_PEM"
  fi
}

# Regenerated on every start so env var changes (port, partitions) take effect.
write_config() {
  mkdir -p "$DATA" "$(dirname "$LOG")"
  local listeners="PLAINTEXT://$KAFKA_HOST:$KAFKA_PORT" protocols="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT"
  if [[ -n $KAFKA_SSL_PORT ]]; then
    [[ -n $KAFKA_SSL_KEYSTORE_PEM ]] || die "KAFKA_SSL_PORT needs KAFKA_SSL_KEYSTORE_PEM (key + certificate chain, PEM)"
    listeners+=",SSL://$KAFKA_HOST:$KAFKA_SSL_PORT"
    protocols+=",SSL:SSL"
  fi
  cat >"$CONF" <<EOF
# Generated by deploy/local/kafka.sh on every start: edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
listeners=$listeners,CONTROLLER://$KAFKA_HOST:$KAFKA_CONTROLLER_PORT
advertised.listeners=$listeners
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=$protocols
log.dirs=$DATA
num.partitions=$KAFKA_NUM_PARTITIONS
auto.create.topics.enable=true
# One node: internal topics must not ask for more replicas than exist.
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Consumer groups in tests get their partitions at once instead of after 3 s.
group.initial.rebalance.delay.ms=0
EOF
  if [[ -n $KAFKA_SSL_PORT ]]; then ssl_config >>"$CONF"; fi
}

format_storage() {
  [[ -f $DATA/meta.properties ]] && return 0  # once only: topics/offsets survive restarts
  local id; id="$(tool kafka.tools.StorageTool random-uuid | tail -n 1)"
  say "formatting KRaft storage in $DATA (cluster id $id)"
  tool kafka.tools.StorageTool format -t "$id" -c "$CONF" >/dev/null
}

# A failed start leaves nothing running behind, so the next attempt starts clean.
fail_start() {
  tac "$LOG" | sed '/^===== /q' | tac | tail -n 40 >&2 || true  # this start's lines only
  if running; then stop_broker >&2; fi
  die "$* (log tail above, full log: $LOG)"
}

wait_ready() {
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT)) raw id
  until answers; do
    running || fail_start "broker exited during startup"
    ((SECONDS < deadline)) || fail_start "broker did not answer on $KAFKA_HOST:$KAFKA_PORT within ${KAFKA_START_TIMEOUT}s"
    sleep 0.5
  done
  # Second check through Kafka's own Admin client: bootstrap + metadata + cluster id.
  raw="$(tool org.apache.kafka.tools.ClusterTool cluster-id --bootstrap-server "$KAFKA_HOST:$KAFKA_PORT" 2>&1)" || true
  id="$(grep -m1 '^Cluster ID:' <<<"$raw")" \
    || { echo "$raw" >&2; fail_start "broker answers ApiVersions but the Admin metadata check failed"; }
  say "Kafka $(running_version) ready on $KAFKA_HOST:$KAFKA_PORT (${id#Cluster ID: }, pid $(pid))"
}

start() {
  lock
  if running; then
    if answers; then say "already running: Kafka $(running_version) on $KAFKA_HOST:$KAFKA_PORT (pid $(pid))"; return 0; fi
    say "already starting (pid $(pid)), waiting for it..."; wait_ready; return 0
  fi
  local p
  for p in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" $KAFKA_SSL_PORT; do
    ! port_open "$p" || die "port $p is in use by another process (set KAFKA_PORT / KAFKA_CONTROLLER_PORT)"
  done
  "$JAVA" -version 2>&1 | grep -Eq 'version "(1[7-9]|[2-9][0-9])' || die "Java 17+ required ($JAVA)"
  fetch_jars
  write_config
  format_storage
  say "starting Kafka $KAFKA_VERSION on $KAFKA_HOST:$KAFKA_PORT (log: $LOG)"
  echo "===== $(date '+%F %T') start Kafka $KAFKA_VERSION =====" >>"$LOG"
  rm -f "$PIDFILE"
  # setsid: own session, so Ctrl-C in the calling shell doesn't reach the broker. The inner
  # shell writes its pid, moves to $STATE (so a JVM crash file never lands in the caller's
  # cwd, e.g. the repo) and then becomes the JVM via exec, so the pid stays the JVM's.
  # 9>&-: the broker must not inherit (and hold forever) the start/stop lock.
  # shellcheck disable=SC2016,SC2086  # inner-shell vars; *_OPTS are word lists on purpose
  setsid bash -c 'echo $$ >"$0" && cd "${0%/*}" && exec "$@"' "$PIDFILE" \
    "$JAVA" $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS $KAFKA_OPTS "${LOG_OPTS[@]}" \
    -cp "$LIB/*" kafka.Kafka "$CONF" </dev/null >>"$LOG" 2>&1 9>&- &
  for _ in $(seq 50); do [[ -s $PIDFILE ]] && break; sleep 0.1; done
  wait_ready
}

# SIGTERM = controlled shutdown (flushes logs, so the next start needs no recovery);
# SIGKILL only if that takes more than 30 s.
stop_broker() {
  local p; p="$(pid)"
  say "stopping Kafka (pid $p)..."
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 60); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$p" 2>/dev/null; then
    say "still alive after 30s, sending SIGKILL"; kill -KILL "$p" 2>/dev/null || true
    while kill -0 "$p" 2>/dev/null; do sleep 0.2; done
  fi
  rm -f "$PIDFILE"; say "stopped"
}

stop() {
  lock
  if running; then stop_broker; else say "not running"; rm -f "$PIDFILE"; fi
}

status() {
  if running && answers; then say "running: Kafka $(running_version) on $KAFKA_HOST:$KAFKA_PORT (pid $(pid), state in $STATE)"
  elif running; then say "pid $(pid) is alive but not answering on $KAFKA_HOST:$KAFKA_PORT"; return 1
  else say "not running"; return 3; fi  # 3 = "not running", as in LSB init scripts
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  restart) stop; start ;;
  status) status ;;
  logs) [[ -f $LOG ]] || die "no log yet ($LOG)"; if [[ ${2:-} == -f ]]; then tail -n 100 -F "$LOG"; else tail -n 100 "$LOG"; fi ;;
  reset) stop; say "deleting broker data and logs under $STATE (jar cache kept)"; rm -rf "$STATE"/*/data "$STATE/logs" "$CONF" ;;
  *) echo "usage: $0 start|stop|restart|status|logs [-f]|reset" >&2; exit 2 ;;
esac
