#!/usr/bin/env bash
# Lints the AWS SAM / CloudFormation templates under deploy/aws with cfn-lint.
#
# cfn-lint (and aws-sam-translator) are installed into a cached virtualenv (~/.cache/agentfn/cfn-lint,
# or $AGENTFN_CACHE/cfn-lint); a marker file records the installed versions, so a second run installs nothing.
#
# Two passes per template:
#   1. cfn-lint on the template as written. cfn-lint 1.x checks a SAM template against SAM's schema
#      (Globals merged) but no longer runs the SAM transform itself.
#   2. The SAM transform (aws-sam-translator, the library `sam deploy` relies on through CloudFormation),
#      with local CodeUri paths replaced by S3 locations as `sam package` would, then cfn-lint on the
#      resulting CloudFormation: this checks what SAM generates (versions, aliases, `!Ref Fn.Alias`).
# Neither pass talks to AWS.
#
# Policy: errors AND warnings fail the run (exit 1); informational findings are printed only.
# The version is pinned, so a new cfn-lint release cannot turn a green tree red by adding warnings;
# the templates are kept warning-free, and a warning that is wrong for a specific resource is to be
# silenced there (Metadata: cfn-lint: config: ignore_checks) with a comment saying why, not here.
#
# Usage: .ci/validate-deploy.sh [template.yaml ...]   (default: deploy/aws/*.yaml)
set -euo pipefail
cd "$(dirname "$0")/.."

CFN_LINT_VERSION="${AGENTFN_CFN_LINT_VERSION:-1.58.0}"
SAM_TRANSLATOR_VERSION="${AGENTFN_SAM_TRANSLATOR_VERSION:-1.115.0}"
WANT="cfn-lint==$CFN_LINT_VERSION aws-sam-translator==$SAM_TRANSLATOR_VERSION"
CACHE="${AGENTFN_CACHE:-$HOME/.cache/agentfn}"
VENV="$CACHE/cfn-lint"

install_cfn_lint() {
  mkdir -p "$CACHE"
  # One installer at a time (parallel CI jobs share the cache).
  exec 9>"$CACHE/cfn-lint.lock"
  flock 9
  if [ "$(cat "$VENV/.installed" 2>/dev/null || true)" != "$WANT" ]; then
    echo "validate-deploy: installing $WANT into $VENV" >&2
    rm -rf "$VENV"
    python3 -m venv "$VENV" >&2
    # shellcheck disable=SC2086
    "$VENV/bin/pip" install --quiet --disable-pip-version-check $WANT >&2
    echo "$WANT" >"$VENV/.installed"
  fi
  flock -u 9
}

install_cfn_lint

if [ "$#" -gt 0 ]; then
  templates=("$@")
else
  shopt -s nullglob
  templates=(deploy/aws/*.yaml)
  shopt -u nullglob
fi
if [ "${#templates[@]}" -eq 0 ]; then
  echo "validate-deploy: no templates found under deploy/aws" >&2
  exit 1
fi

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# Writes the CloudFormation that the SAM transform makes of $1 to $2.
sam_transform() {
  AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" "$VENV/bin/python" - "$1" "$2" <<'PY'
import json
import sys

from cfnlint.decode import decode
from samtranslator.translator.transform import transform


class NoManagedPolicies:
    """The templates name managed policies by ARN: nothing is looked up in IAM."""

    def load(self):
        return {}


src, dst = sys.argv[1], sys.argv[2]
template, matches = decode(src)
if matches:
    for m in matches:
        print(m, file=sys.stderr)
    sys.exit(2)
if "AWS::Serverless-2016-10-31" not in str(template.get("Transform", "")):
    json.dump(template, open(dst, "w"), indent=1, default=str)
    sys.exit(0)
# What `sam package` does: local CodeUri paths become S3 locations.
for res in template.get("Resources", {}).values():
    props = res.get("Properties", {}) if isinstance(res, dict) else {}
    if res.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str) \
            and not props["CodeUri"].startswith("s3://"):
        props["CodeUri"] = "s3://packaged-by-sam/" + props["CodeUri"].lstrip("./")
try:
    out = transform(template, {}, NoManagedPolicies())
except Exception as e:  # InvalidDocumentException lists every problem
    print(f"{src}: SAM transform failed: {e}", file=sys.stderr)
    sys.exit(2)
with open(dst, "w") as f:
    json.dump(out, f, indent=1, default=str)
PY
}

# cfn-lint's exit code is a bit mask: 2 = error, 4 = warning, 8 = informational (anything else, e.g. 1
# or 32, is a crash or an unreadable template). Everything but the informational bit fails.
lint() {
  local rc=0
  "$VENV/bin/cfn-lint" --format parseable -- "$@" || rc=$?
  [ $((rc & ~8)) -eq 0 ] || { echo "validate-deploy: cfn-lint exit code $rc (2 = errors, 4 = warnings)" >&2; return 1; }
}

echo "validate-deploy: $WANT on ${templates[*]}"
failed=0
for t in "${templates[@]}"; do
  lint "$t" || failed=1
  out="$WORK/$(basename "$t" .yaml).transformed.json"
  if sam_transform "$t" "$out"; then
    lint "$out" || { echo "validate-deploy: ^ in the SAM-transformed $t" >&2; failed=1; }
  else
    failed=1
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "validate-deploy: FAILED" >&2
  exit 1
fi
echo "validate-deploy: OK (${#templates[@]} template(s): no errors or warnings, as written and after the SAM transform)"
