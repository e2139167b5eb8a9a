#!/usr/bin/env bash
# Puts the Lambda deployment package where deploy/aws/template.yaml expects it: target/lambda/function.zip
# (both of the template's function variants name that one path; target/lambda/PACKAGING records which
# variant it holds, to match the template's Packaging parameter).
#
#   native (default): for the OS-only runtime provided.al2023
#     function.zip
#       bootstrap   native/lambda/bootstrap, mode 0755   (Lambda runs /var/task/bootstrap)
#       runner      target/*-runner, mode 0755            (the native executable built with -Plambda)
#     ./mvnw package -Plambda -Dnative -Dquarkus.native.container-build=true -Dquarkus.ssl.native=true
#     native/lambda/package.sh
#
#   jvm: for the managed Java runtimes, the zip that Quarkus' amazon-lambda extension writes
#     ./mvnw package -Plambda -DskipTests            # target/function.zip
#     native/lambda/package.sh jvm
#
# (For native, Quarkus' extension also writes a target/function.zip, with the runner itself named bootstrap;
# this script makes the layout explicit and adds the heap cap of native/lambda/bootstrap.)
#
# Options: --runner PATH (native; default: the single target/*-runner), --zip PATH (jvm; default:
# target/function.zip), --out DIR (default: target/lambda).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
mode=native
runner=""
jvm_zip="$ROOT/target/function.zip"
out="$ROOT/target/lambda"
while [ "$#" -gt 0 ]; do
  case "$1" in
    native|jvm) mode="$1"; shift ;;
    --runner) runner="$2"; shift 2 ;;
    --zip) jvm_zip="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 [native|jvm] [--runner PATH] [--zip PATH] [--out DIR]" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"
rm -f "$out/PACKAGING"

if [ "$mode" = jvm ]; then
  if [ ! -f "$jvm_zip" ]; then
    echo "package.sh: $jvm_zip not found. Build it: ./mvnw package -Plambda -DskipTests" >&2
    exit 1
  fi
  python3 - "$jvm_zip" <<'PY'
import sys
import zipfile

names = zipfile.ZipFile(sys.argv[1]).namelist()
if "bootstrap" in names:
    sys.exit(f"package.sh: {sys.argv[1]} holds a bootstrap: that is the native variant; use `package.sh native`")
if not any(n.endswith(".jar") for n in names):
    sys.exit(f"package.sh: {sys.argv[1]} holds no .jar: not a JVM Lambda package")
PY
  cp "$jvm_zip" "$out/function.zip.tmp"
  mv "$out/function.zip.tmp" "$out/function.zip"
  echo jvm >"$out/PACKAGING"
  echo "package.sh: wrote $out/function.zip ($(du -h "$out/function.zip" | cut -f1)) from $jvm_zip; deploy with Packaging=jvm"
  exit 0
fi

if [ -z "$runner" ]; then
  shopt -s nullglob
  found=("$ROOT"/target/*-runner)
  shopt -u nullglob
  if [ "${#found[@]}" -ne 1 ]; then
    echo "package.sh: expected exactly one target/*-runner, found ${#found[@]}." >&2
    echo "  Build it: ./mvnw package -Plambda -Dnative -Dquarkus.native.container-build=true -Dquarkus.ssl.native=true" >&2
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

python3 - "$ROOT/native/lambda/bootstrap" "$runner" "$out/function.zip" <<'PY'
import os
import sys
import zipfile

bootstrap, runner, dest = sys.argv[1:4]
tmp = dest + ".tmp"
with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as z:
    for src, name in ((bootstrap, "bootstrap"), (runner, "runner")):
        info = zipfile.ZipInfo.from_file(src, arcname=name)
        info.external_attr = 0o100755 << 16  # regular file, rwxr-xr-x: Lambda needs both executable
        info.compress_type = zipfile.ZIP_DEFLATED
        with open(src, "rb") as f:
            z.writestr(info, f.read())
os.replace(tmp, dest)
PY
echo native >"$out/PACKAGING"
echo "package.sh: wrote $out/function.zip ($(du -h "$out/function.zip" | cut -f1)): bootstrap + runner from $runner; deploy with Packaging=native"
