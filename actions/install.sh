#!/usr/bin/env bash
# Installs cavra for the composite action (actions/action.yml) and prints `cavra=PATH` to
# $GITHUB_OUTPUT (or stdout).
#
#   CAVRA_BINARY   a cavra binary to use as it is: nothing is installed
#   CAVRA_VERSION  the release to install (default 0.1.0)
#
# A release tarball is used only when its sha256 is pinned in the table below, in this
# file, so that the action's own commit (which the workflow pins) fixes what runs. With no
# pinned checksum for the version and target, or when the download or the check fails, cavra is
# built from the release tag: `cargo install --locked --git ... --tag vVERSION cavra`.
set -euo pipefail

out=${GITHUB_OUTPUT:-/dev/stdout}

if [ -n "${CAVRA_BINARY:-}" ]; then
  [ -x "$CAVRA_BINARY" ] || { echo "::error::cavra: cavra-binary $CAVRA_BINARY is not an executable file" >&2; exit 4; }
  bin=$(cd "$(dirname "$CAVRA_BINARY")" && pwd)/$(basename "$CAVRA_BINARY")
  echo "cavra: using $bin"
  "$bin" --version
  echo "cavra=$bin" >>"$out"
  exit 0
fi

version=${CAVRA_VERSION:-0.1.0}
case "$version" in
  [0-9]*.[0-9]*.[0-9]*) ;;
  *) echo "::error::cavra: version must be a release number like 0.1.0, not $version" >&2; exit 3 ;;
esac

case "$(uname -s)-$(uname -m)" in
  Linux-x86_64) target=x86_64-unknown-linux-gnu ;;
  Linux-aarch64 | Linux-arm64) target=aarch64-unknown-linux-gnu ;;
  Darwin-x86_64) target=x86_64-apple-darwin ;;
  Darwin-arm64) target=aarch64-apple-darwin ;;
  *) target=unknown ;;
esac

# Pinned release checksums: "VERSION TARGET SHA256", one a line. No release has been
# published yet, so the table is empty and every install builds from source.
pinned_sha256() {
  while read -r v t sum; do
    if [ "$v" = "$1" ] && [ "$t" = "$2" ]; then echo "$sum"; return; fi
  done <<'EOF'
EOF
}

root=${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-/tmp}}/cavra/$version
bin=$root/bin/cavra
if [ -x "$bin" ]; then
  echo "cavra: cavra $version already installed in $root"
  echo "cavra=$bin" >>"$out"
  exit 0
fi

sum=$(pinned_sha256 "$version" "$target")
if [ -n "$sum" ]; then
  tarball="cavra-$version-$target.tar.gz"
  url="https://github.com/cavra-dev/cavra/releases/download/v$version/$tarball"
  tmp=$(mktemp -d)
  if curl -fsSL --retry 3 -o "$tmp/$tarball" "$url" \
    && echo "$sum  $tmp/$tarball" | sha256sum -c --status - \
    && mkdir -p "$root/bin" && tar -xzf "$tmp/$tarball" -C "$root/bin" cavra; then
    echo "cavra: installed the release $tarball (sha256 $sum)"
  else
    echo "::warning::cavra: the release $tarball could not be downloaded or failed its pinned sha256; building from source"
    rm -f "$bin"
  fi
  rm -rf "$tmp"
else
  echo "cavra: no pinned checksum for cavra $version on $target; building from source"
fi

if [ ! -x "$bin" ]; then
  command -v cargo >/dev/null || { echo "::error::cavra: cargo is needed to build cavra from source" >&2; exit 4; }
  cargo install --locked --root "$root" --git https://github.com/cavra-dev/cavra --tag "v$version" cavra
fi
"$bin" --version
echo "cavra=$bin" >>"$out"
