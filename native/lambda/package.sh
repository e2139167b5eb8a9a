#!/usr/bin/env bash
# Packages the native runner for AWS Lambda's OS-only runtime (provided.al2023):
#
#   target/lambda-native/function.zip
#     bootstrap   native/lambda/bootstrap, mode 0755   (Lambda runs /var/task/bootstrap)
#     runner      target/*-runner, mode 0755            (the native executable built with -Plambda)
#
# Build the runner first, with the lambda profile (the Lambda runtime client instead of an HTTP server):
#   ./mvnw package -Plambda -Dnative -Dquarkus.native.container-build=true
#   native/lambda/package.sh
# deploy/aws/template.yaml (Packaging=native) deploys target/lambda-native/function.zip.
#
# (Quarkus' amazon-lambda extension also writes target/function.zip, with the runner itself named
# bootstrap. This script makes the layout explicit and adds the heap cap of native/lambda/bootstrap.)
#
# Options: --runner PATH (default: the single target/*-runner), --out DIR (default: target/lambda-native).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
runner=""
out="$ROOT/target/lambda-native"
while [ "$#" -gt 0 ]; do
  case "$1" in
    --runner) runner="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 [--runner PATH] [--out DIR]" >&2; exit 2 ;;
  esac
done

if [ -z "$runner" ]; then
  shopt -s nullglob
  found=("$ROOT"/target/*-runner)
  shopt -u nullglob
  if [ "${#found[@]}" -ne 1 ]; then
    echo "package.sh: expected exactly one target/*-runner, found ${#found[@]}." >&2
    echo "  Build it: ./mvnw package -Plambda -Dnative -Dquarkus.native.container-build=true" >&2
    exit 1
  fi
  runner="${found[0]}"
fi
if [ "$(head -c 4 "$runner" | od -An -c | tr -d ' ')" != '177ELF' ]; then
  echo "package.sh: $runner is not an ELF executable (a native runner is; a *-runner.jar is not)." >&2
  exit 1
fi
# The Lambda poll loop names this variable; an HTTP-server build (no -Plambda) does not contain it.
if ! grep -q AWS_LAMBDA_RUNTIME_API "$runner"; then
  echo "package.sh: warning: $runner does not mention AWS_LAMBDA_RUNTIME_API; was it built with -Plambda?" >&2
fi

mkdir -p "$out"
python3 - "$ROOT/native/lambda/bootstrap" "$runner" "$out/function.zip" <<'PY'
import os
import sys
import zipfile

bootstrap, runner, dest = sys.argv[1:4]
tmp = dest + ".tmp"
with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
    for src, name in ((bootstrap, "bootstrap"), (runner, "runner")):
        info = zipfile.ZipInfo.from_file(src, arcname=name)
        info.external_attr = (0o100755 << 16)  # regular file, rwxr-xr-x: Lambda needs both executable
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(src, "rb") as f:
            z.writestr(info, f.read())
os.replace(tmp, dest)
PY
echo "package.sh: wrote $out/function.zip ($(du -h "$out/function.zip" | cut -f1)): bootstrap + runner from $runner"
