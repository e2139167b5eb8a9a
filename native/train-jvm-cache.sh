#!/usr/bin/env bash
# Training run for the JVM's start-up cache: starts agentfn once with the given JVM flags, sends it
# invocations answered by the in-process stand-in of the Messages API, and stops it; the JVM writes the
# cache when it exits. Without invocations a cache only covers start-up, and the first answer of every
# cold start pays for loading and linking the invocation path (docs/benchmarks.md, "Cold start, session 5").
#
#   native/train-jvm-cache.sh APP_DIR JVM_FLAG...
#
#   JDK 25 AOT cache:  native/train-jvm-cache.sh target/quarkus-app -XX:AOTCacheOutput=app.aot \
#                          -XX:TieredStopAtLevel=1 -XX:+UseSerialGC
#   JDK 17/21 CDS:     native/train-jvm-cache.sh target/quarkus-app -XX:ArchiveClassesAtExit=app-cds.jsa \
#                          -XX:TieredStopAtLevel=1 -XX:+UseSerialGC
#
# APP_DIR is the Quarkus output directory; build it with -Dquarkus.package.jar.type=aot-jar (the app's classes
# on the JVM's class path, which the cache covers; the default fast-jar loads them through Quarkus' own class
# loader, which it largely does not). The cache path in the flag is relative to APP_DIR, like the run that
# uses it: run with the same flags, the same JVM build and `-jar quarkus-run.jar` from APP_DIR.
#
# Without an output flag it is a smoke run of the same steps: .ci/check-jvm-cache.sh starts agentfn with a
# cache required (-Xshare:on, -XX:AOTMode=on) and TRAINING_INVOCATIONS=1 to check that the cache loads.
#
# Environment: JAVA (default: java on PATH), TRAINING_INVOCATIONS (default 50). No network is needed: no
# Anthropic credentials are passed on, so the stand-in answers; when MLFLOW_TRACKING_URI is set the traces go
# there too (which also trains the export path), otherwise tracing is off.
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 APP_DIR JVM_FLAG... (to train, one of them -XX:AOTCacheOutput=FILE or -XX:ArchiveClassesAtExit=FILE)" >&2
  exit 2
fi
app=$1; shift
java=${JAVA:-java}
count=${TRAINING_INVOCATIONS:-50}
work=$(mktemp -d)
pid=""
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
cd "$app"

env -u ANTHROPIC_API_KEY -u ANTHROPIC_AUTH_TOKEN AGENTFN_ANTHROPIC_STAND_IN=always QUARKUS_HTTP_PORT=0 QUARKUS_LOG_LEVEL=INFO \
  AGENTFN_TRACING_SPOOL_DIRECTORY="$work/spool" QUARKUS_LOG_CONSOLE_FORMAT='%m%n' \
  "$java" "$@" -jar quarkus-run.jar >"$work/log" 2>&1 &
pid=$!

port=""
for _ in $(seq 1 600); do
  port=$(sed -n 's/.*Listening on: http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$work/log" | head -1)
  [ -n "$port" ] && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/log" >&2; echo "agentfn exited during the training run" >&2; exit 1; }
  sleep 0.1
done
[ -n "$port" ] || { cat "$work/log" >&2; echo "agentfn did not start within 60 s" >&2; exit 1; }

# POST with bash alone: slim runtime images often have neither curl nor wget.
post() {
  local body=$1 status
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  printf 'POST /v1/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s' \
    "${#body}" "$body" >&3
  IFS= read -r status <&3
  cat <&3 >/dev/null
  exec 3<&-
  case $status in
    *" 200 "*) ;;
    *) echo "training invocation answered: $status" >&2; return 1 ;;
  esac
}

for i in $(seq 1 "$count"); do
  post "{\"prompt\":\"training invocation $i\",\"session_id\":\"training\",\"metadata\":{\"purpose\":\"jvm-cache\"}}"
done

kill -TERM "$pid"
wait "$pid" || true   # the JVM writes the cache on exit; its exit status after SIGTERM is 143
for arg in "$@"; do
  case $arg in
    -XX:AOTCacheOutput=*|-XX:ArchiveClassesAtExit=*)
      out=${arg#*=}
      [ -s "$out" ] || { cat "$work/log" >&2; echo "the JVM wrote no $out" >&2; exit 1; }
      echo "wrote $app/$out after $count invocations" ;;
  esac
done
echo "ok: $count invocations answered with $*"
