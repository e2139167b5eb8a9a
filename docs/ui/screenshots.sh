#!/usr/bin/env bash
# Screenshots of MLflow's UI showing agentfn's agent versions and prompt versions (docs/images/ui-*.png):
# a local MLflow, a prompt registered with MLflow's Python client, two agentfn deployments (two agent versions,
# the local stand-in answering), an alias moved between invocations, an evaluation run, then headless Chromium.
# Needs Debian's chromium (apt-get install chromium); downloads no browser. Chromium is driven over its DevTools
# protocol by docs/ui/shoot.py (aiohttp from the MLflow venv). Usage: docs/ui/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
work=.agentfn/ui
rm -rf "$work" && mkdir -p "$work" docs/images
chromium=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
[ -n "$chromium" ] || { echo "no chromium: apt-get install chromium" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

services=()
start_group() { setsid "$@" & services+=($!); }
stop_groups() {
  local g
  for g in "${services[@]}"; do kill -TERM -- "-$g" 2>/dev/null || true; done
  for _ in $(seq 1 100); do
    local alive=0
    for g in "${services[@]}"; do kill -0 -- "-$g" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && return 0
    sleep 0.1
  done
  for g in "${services[@]}"; do kill -KILL -- "-$g" 2>/dev/null || true; done
}
trap stop_groups EXIT

venv=$(bash .ci/setup-mlflow.sh)
mlflow_port=$(free_port)
mlflow="http://127.0.0.1:$mlflow_port"
MLFLOW_MODEL_CATALOG_URI="" MLFLOW_SERVER_ENABLE_JOB_EXECUTION=false start_group "$venv/bin/mlflow" server \
  --host 127.0.0.1 --port "$mlflow_port" --workers 1 --backend-store-uri "sqlite:///$PWD/$work/mlflow.db" \
  --artifacts-destination "$PWD/$work/artifacts" >"$work/mlflow.log" 2>&1
for _ in $(seq 1 120); do curl -sf -m 2 "$mlflow/health" >/dev/null && break; sleep 1; done
py() { MLFLOW_TRACKING_URI="$mlflow" "$venv/bin/python" -c "$1" 2>>"$work/python.log"; }

echo "== registering prompt 'support' (versions 1 and 2, alias production -> 1)"
py '
import mlflow
mlflow.genai.register_prompt(name="support", template="You are a {{ tone }} support agent. Answer in one sentence.",
                             commit_message="first version")
mlflow.genai.register_prompt(name="support", template="You are a {{ tone }} support agent for {{ product }}. Answer briefly and offer one next step.",
                             commit_message="names the product, offers a next step")
mlflow.genai.set_prompt_alias("support", alias="production", version=1)
'

jar=target/quarkus-app/quarkus-run.jar
if [ ! -f "$jar" ] || [ -n "$(find src pom.xml -newer "$jar" -print -quit)" ]; then ./mvnw -B -q package -DskipTests; fi
# Two deployments of the same code: release-1 takes its system prompt from the registry, release-2 has its own text.
start_agentfn() { # port label system-prompt
  MLFLOW_TRACKING_URI="$mlflow" MLFLOW_EXPERIMENT_NAME=support-agent AGENTFN_ANTHROPIC_STAND_IN=always PORT="$1" \
  AGENTFN_AGENT_LABEL="$2" AGENTFN_AGENT_SYSTEM_PROMPT="$3" AGENTFN_AGENT_PROMPT_CACHE_TTL=1s \
  AGENTFN_TRACING_SPOOL_DIRECTORY="$PWD/$work/spool-$2" start_group java -jar "$jar" >"$work/agentfn-$2.log" 2>&1
}
port1=$(free_port); port2=$(free_port)
start_agentfn "$port1" release-1 'prompts:/support@production'
start_agentfn "$port2" release-2 'You are a terse support agent.'
for p in "$port1" "$port2"; do
  for _ in $(seq 1 90); do curl -sf -m 2 "http://127.0.0.1:$p/q/health/ready" >/dev/null && break; sleep 1; done
done
ask() { # port prompt
  curl -sf -m 60 -X POST "http://127.0.0.1:$1/v1/invocations" -H 'content-type: application/json' \
    -d "{\"prompt\":\"$2\",\"prompt_variables\":{\"tone\":\"calm\",\"product\":\"agentfn\"},\"session_id\":\"ui-demo\"}" \
    | python3 -c 'import json,sys; a=json.load(sys.stdin); print(a["trace"]["id"], a["trace"]["export"])'
}
echo "== invocations under release-1 (prompt version 1), then the alias moves to version 2"
for q in "My order is late" "How do I reset my password?" "Can I change my plan?"; do ask "$port1" "$q"; done
py 'import mlflow; mlflow.genai.set_prompt_alias("support", alias="production", version=2)'
sleep 2 # the deployments' prompt cache lives 1 s here
for q in "My invoice is wrong" "Where is my refund?"; do ask "$port1" "$q"; done
echo "== invocations under release-2"
for q in "My order is late" "How do I cancel?"; do ask "$port2" "$q"; done
echo "== an evaluation of release-1"
curl -sf -X POST "http://127.0.0.1:$port1/v1/evaluations" -H 'content-type: application/json' -d '{"name":"release-1 smoke",
  "dataset":{"rows":[{"inputs":{"prompt":"Where is my parcel?","prompt_variables":{"tone":"calm","product":"agentfn"}}},
                     {"inputs":{"prompt":"Can I pay by invoice?","prompt_variables":{"tone":"calm","product":"agentfn"}}}]},
  "scorers":["no_error"],"wait":true}' >"$work/evaluation.json"

exp=$(curl -s "$mlflow/api/2.0/mlflow/experiments/get-by-name?experiment_name=support-agent" \
  | python3 -c 'import json,sys; print(json.load(sys.stdin)["experiment"]["experiment_id"])')
model1=$(py "
import mlflow
print([m.model_id for m in mlflow.search_logged_models(experiment_ids=['$exp'], output_format='list')
       if m.tags.get('agentfn.label') == 'release-1'][0])")
echo "== experiment $exp, release-1 is logged model $model1"

shot() { # file url [css selector to click ...]
  local out=$1 url=$2; shift 2
  "$venv/bin/python" docs/ui/shoot.py "$chromium" "$url" "$PWD/$out" "$@" >>"$work/chromium.log" 2>&1
  echo "   $out <- $url"
}
shot docs/images/ui-agent-versions.png "$mlflow/#/experiments/$exp/models"
shot docs/images/ui-agent-version-traces.png "$mlflow/#/experiments/$exp/models/$model1/traces"
# the prompt's page inside the experiment, "Traces" mode: the traces linked to the selected (production) version
shot docs/images/ui-prompt-traces.png "$mlflow/#/experiments/$exp/prompts/support" \
  'input[name="mlflow.prompts.details.mode"][value=traces]'
