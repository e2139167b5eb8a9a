#!/usr/bin/env bash
# Installs the pinned Claude Code CLI (the native binary of the npm platform package
# @anthropic-ai/claude-code-<platform>, ~381 MB, no Node needed at runtime) into a cached directory.
# Idempotent and safe to run concurrently (flock). Prints the path of the `claude` binary.
# `npm pack` fetches the tarball through npm's ordinary client, verified against the registry's
# integrity hash; the wrapper package's postinstall (which needs Node 22+) is not used.
set -euo pipefail
VERSION="${AGENTFN_CLAUDE_CODE_VERSION:-2.1.330}"
CACHE="${AGENTFN_CACHE:-$HOME/.cache/agentfn}"
DIR="$CACHE/claude-code-$VERSION"
BIN="$DIR/claude"

platform() {
  local arch libc=""
  case "$(uname -m)" in
    x86_64|amd64) arch=x64 ;;
    aarch64|arm64) arch=arm64 ;;
    *) echo "unsupported CPU $(uname -m)" >&2; exit 1 ;;
  esac
  case "$(uname -s)" in
    Linux) if ldd --version 2>&1 | grep -qi musl; then libc=-musl; fi; echo "linux-$arch$libc" ;;
    Darwin) echo "darwin-$arch" ;;
    *) echo "unsupported OS $(uname -s)" >&2; exit 1 ;;
  esac
}

mkdir -p "$CACHE"
exec 9>"$CACHE/claude-code-$VERSION.lock"
flock 9
if [ ! -f "$DIR/.installed" ]; then
  pkg="@anthropic-ai/claude-code-$(platform)@$VERSION"
  tmp="$(mktemp -d "$CACHE/claude-code-$VERSION.tmp.XXXXXX")"
  trap 'rm -rf "$tmp"' EXIT
  echo "installing $pkg into $DIR" >&2
  (cd "$tmp" && npm pack --silent "$pkg" >/dev/null)
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  chmod +x "$tmp/package/claude"
  actual="$("$tmp/package/claude" --version 2>/dev/null | awk '{print $1}')"
  if [ "$actual" != "$VERSION" ]; then
    echo "installed CLI reports version '$actual', expected $VERSION" >&2
    exit 1
  fi
  rm -rf "$DIR"
  mv "$tmp/package" "$DIR"
  touch "$DIR/.installed"
fi
echo "$BIN"
