#!/usr/bin/env bash
# The JVM start-up caches that native/Dockerfile.jvm and native/Dockerfile.jvm-aot make: builds the aot-jar,
# trains a CDS archive on JDK 17 and an AOT cache on JDK 25 with native/train-jvm-cache.sh (as the images
# do), then starts each with the cache required (-Xshare:on, -XX:AOTMode=on: a cache the JVM cannot use is an
# error, not a silent fallback) and checks one invocation is answered (the same script, no output flag).
set -euo pipefail
cd "$(dirname "$0")/.."
app=$PWD/target/aot-app
jdk25=${AGENTFN_JDK25:-/usr/lib/jvm/temurin-25-jdk-amd64}
flags=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -XX:MaxRAMPercentage=75)

./mvnw -B -q package -DskipTests -Dquarkus.package.jar.type=aot-jar -Dquarkus.package.output-directory=aot-app
rm -f "$app"/*.jsa "$app"/*.aot

bash native/train-jvm-cache.sh "$app" -XX:ArchiveClassesAtExit=app-cds.jsa "${flags[@]}"
TRAINING_INVOCATIONS=1 bash native/train-jvm-cache.sh "$app" -XX:SharedArchiveFile=app-cds.jsa -Xshare:on "${flags[@]}"

if [ ! -x "$jdk25/bin/java" ]; then
  echo "FAIL: no JDK 25 at $jdk25 (set AGENTFN_JDK25) for the AOT cache check" >&2
  exit 1
fi
JAVA="$jdk25/bin/java" bash native/train-jvm-cache.sh "$app" -XX:AOTCacheOutput=app.aot "${flags[@]}"
TRAINING_INVOCATIONS=1 JAVA="$jdk25/bin/java" bash native/train-jvm-cache.sh "$app" -XX:AOTCache=app.aot -XX:AOTMode=on \
  "${flags[@]}"
