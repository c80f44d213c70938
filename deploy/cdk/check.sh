#!/usr/bin/env bash
# The CDK app's check (ctest cdk_test, part of `make test`): `cdk synth` offline — cdk-nag's
# AwsSolutions pack runs inside it, and an unsuppressed finding fails it — then the assertions
# on the synthesized template (node --test test/). Needs node and deploy/cdk's npm tree
# (scripts/install-deps.sh test installs it); without them it FAILS naming what is missing.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if ! command -v node >/dev/null 2>&1; then
  echo "cdk_test: FAILED: node is not installed (not on PATH): run scripts/install-deps.sh test" >&2
  exit 1
fi
if [ ! -x "$here/node_modules/.bin/cdk" ] || [ ! -d "$here/node_modules/aws-cdk-lib" ] ||
   [ ! -d "$here/node_modules/cdk-nag" ]; then
  echo "cdk_test: FAILED: deploy/cdk/node_modules (aws-cdk, aws-cdk-lib, cdk-nag) is missing:" \
       "run scripts/install-deps.sh test" >&2
  exit 1
fi
out="$(mktemp -d /tmp/outpost-cdk-synth.XXXXXX)"
trap 'rm -rf "$out"' EXIT
cd "$here"
# No network: no notices, no version check, no telemetry.
export CDK_DISABLE_VERSION_CHECK=1 CDK_DISABLE_CLI_TELEMETRY=true
echo "cdk_test: cdk synth (with cdk-nag AwsSolutions)"
node_modules/.bin/cdk synth --quiet --no-notices -o "$out"
for f in "$out"/outpost-dev.template.json; do
  [ -s "$f" ] || { echo "cdk_test: FAILED: synth wrote no $f" >&2; exit 1; }
done
echo "cdk_test: assertions on the template"
node --test test/
