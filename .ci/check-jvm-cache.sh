#!/usr/bin/env bash
# The JVM start-up caches that native/Dockerfile.jvm and native/Dockerfile.jvm-aot make: builds the aot-jar,
# trains a CDS archive on JDK 17 and an AOT cache on JDK 25 with native/train-jvm-cache.sh (as the images
# do), then starts each with the cache required (-Xshare:on, -XX:AOTMode=on: a cache the JVM cannot use is an
# error, not a silent fallback) and checks one invocation is answered (the same script, no output flag).
# Twice: with the images' default JVM_FLAGS (read from native/Dockerfile.jvm, so the two cannot drift apart)
# and with the flags docs/deploy.md gives for many invocations at once.
set -euo pipefail
cd "$(dirname "$0")/.."
app=$PWD/target/aot-app
jdk25=${AGENTFN_JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}
image_flags=$(sed -n 's/^ARG JVM_FLAGS="\(.*\)"$/\1/p' native/Dockerfile.jvm)
if [ -z "$image_flags" ] || [ "$image_flags" != "$(sed -n 's/^ARG JVM_FLAGS="\(.*\)"$/\1/p' native/Dockerfile.jvm-aot)" ]; then
  echo "FAIL: native/Dockerfile.jvm and native/Dockerfile.jvm-aot must declare the same ARG JVM_FLAGS default" >&2
  exit 1
fi
concurrency_flags="-XX:+UseParallelGC -Xmn96m -XX:MaxRAMPercentage=75"
if [ ! -x "$jdk25/bin/java" ]; then
  echo "FAIL: no JDK 25 at $jdk25 (set AGENTFN_JDK25) for the AOT cache check" >&2
  exit 1
fi

./mvnw -B -q package -DskipTests -Dquarkus.package.jar.type=aot-jar -Dquarkus.package.output-directory=aot-app

for flag_set in "$image_flags" "$concurrency_flags"; do
  read -r -a flags <<< "$flag_set"
  echo "JVM cache check with: ${flags[*]}"
  rm -f "$app"/*.jsa "$app"/*.aot
  bash native/train-jvm-cache.sh "$app" -XX:ArchiveClassesAtExit=app-cds.jsa "${flags[@]}"
  TRAINING_INVOCATIONS=1 bash native/train-jvm-cache.sh "$app" -XX:SharedArchiveFile=app-cds.jsa -Xshare:on "${flags[@]}"
  JAVA="$jdk25/bin/java" bash native/train-jvm-cache.sh "$app" -XX:AOTCacheOutput=app.aot "${flags[@]}"
  TRAINING_INVOCATIONS=1 JAVA="$jdk25/bin/java" bash native/train-jvm-cache.sh "$app" -XX:AOTCache=app.aot -XX:AOTMode=on \
    "${flags[@]}"
done
