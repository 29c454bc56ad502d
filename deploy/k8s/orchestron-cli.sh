#!/usr/bin/env bash
# Runs one `orchestron` command in the cluster: a throwaway pod of the cli image, removed when
# the command ends, that meets the namespace's restricted Pod Security Standard (a plain
# `kubectl run` is refused there), with DATABASE_URL (and AMQP_URL, for `tail`) from a Secret.
#
#   export ORCHESTRON_CLI_IMAGE=registry.example.com/orchestron/cli:0.1.0
#   deploy/k8s/orchestron-cli.sh outbox stats
#   deploy/k8s/orchestron-cli.sh keys create --name first-sender --roles ingest
#
# ORCHESTRON_CLI_IMAGE  the cli image of the release that runs (required)
# ORCHESTRON_NAMESPACE  default orchestron
# ORCHESTRON_SECRET     the Secret with DATABASE_URL (and optionally AMQP_URL); default relay-secrets
set -euo pipefail

image=${ORCHESTRON_CLI_IMAGE:?set ORCHESTRON_CLI_IMAGE to the cli image of your release, e.g. registry.example.com/orchestron/cli:0.1.0}
namespace=${ORCHESTRON_NAMESPACE:-orchestron}
secret=${ORCHESTRON_SECRET:-relay-secrets}

# A JSON string of $1 (backslashes and double quotes escaped; arguments are single lines).
json_string() {
  local s=${1//\\/\\\\}
  s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

args=""
for arg in "$@"; do args+="${args:+,}$(json_string "$arg")"; done

secret_env() {
  printf '{"name":"%s","valueFrom":{"secretKeyRef":{"name":%s,"key":"%s","optional":%s}}}' \
    "$1" "$(json_string "$secret")" "$1" "$2"
}

overrides='{"apiVersion":"v1","spec":{"automountServiceAccountToken":false,'
overrides+='"securityContext":{"runAsNonRoot":true,"runAsUser":1000,"runAsGroup":1000,"seccompProfile":{"type":"RuntimeDefault"}},'
overrides+='"containers":[{"name":"orchestron","image":'"$(json_string "$image")"',"args":['"$args"'],"stdin":true,'
overrides+='"env":['"$(secret_env DATABASE_URL false)"','"$(secret_env AMQP_URL true)"'],'
overrides+='"securityContext":{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"capabilities":{"drop":["ALL"]}}}]}}'

exec kubectl --namespace "$namespace" run "orchestron-cli-$(date +%s)-$RANDOM" \
  --rm -i --quiet --restart=Never --image="$image" --overrides="$overrides"
