#!/usr/bin/env bash
# The JVM start-up caches that native/Dockerfile.jvm and native/Dockerfile.jvm-aot make: builds the aot-jar,
# trains a CDS archive on JDK 17 and an AOT cache on JDK 25 with native/train-jvm-cache.sh (as the images
# do), then starts each with the cache required (-Xshare:on, -XX:AOTMode=on: a cache the JVM cannot use is an
# error, not a silent fallback) and checks one invocation is answered.
set -euo pipefail
cd "$(dirname "$0")/.."
app=$PWD/target/aot-app
jdk25=${AGENTFN_JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}
flags=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:MaxRAMPercentage=75)

./mvnw -B -q package -DskipTests -Dquarkus.package.jar.type=aot-jar -Dquarkus.package.output-directory=aot-app
rm -f "$app"/*.jsa "$app"/*.aot

answer_once() { # java cache-flags...
  local java=$1; shift
  local log port pid ok=""
  log=$(mktemp)
  (cd "$app" && exec env -u ANTHROPIC_API_KEY -u ANTHROPIC_AUTH_TOKEN AGENTFN_ANTHROPIC_STAND_IN=always \
      QUARKUS_HTTP_PORT=0 AGENTFN_TRACING_SPOOL_DIRECTORY="$(mktemp -d)" "$java" "$@" "${flags[@]}" -jar quarkus-run.jar) \
      >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 300); do
    port=$(sed -n 's/.*Listening on: http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$log" | head -1)
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -n "${port:-}" ] && curl -sf -X POST "http://127.0.0.1:$port/v1/invocations" -H 'content-type: application/json' \
      -d '{"prompt":"cache check"}' | grep -q '"stop_reason":"end_turn"'; then
    ok=yes
  fi
  kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  if [ -z "$ok" ]; then cat "$log" >&2; echo "FAIL: no answer from agentfn started with $*" >&2; exit 1; fi
  echo "ok: answered with $*"
}

bash native/train-jvm-cache.sh "$app" -XX:ArchiveClassesAtExit=app-cds.jsa "${flags[@]}"
answer_once java -XX:SharedArchiveFile=app-cds.jsa -Xshare:on

if [ ! -x "$jdk25/bin/java" ]; then
  echo "FAIL: no JDK 25 at $jdk25 (set AGENTFN_JDK25) for the AOT cache check" >&2
  exit 1
fi
JAVA="$jdk25/bin/java" bash native/train-jvm-cache.sh "$app" -XX:AOTCacheOutput=app.aot "${flags[@]}"
answer_once "$jdk25/bin/java" -XX:AOTCache=app.aot -XX:AOTMode=on
