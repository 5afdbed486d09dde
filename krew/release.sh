#!/usr/bin/env bash
# Builds the release archives of kubectl-medusa and the krew manifest that points at them.
#
#   krew/release.sh [--version X.Y.Z] [--targets "linux/amd64 darwin/arm64 ..."]
#                   [--binary os/arch=PATH ...] [--out DIR]
#
# For each platform (default: linux/amd64 linux/arm64 darwin/amd64 darwin/arm64
# windows/amd64) it builds `cargo build --release -p kubectl-medusa --target T` (with
# `cargo zigbuild` for other operating systems when it is installed), or takes a binary given
# with --binary, packs it with LICENSE into kubectl-medusa_vX.Y.Z_<os>_<arch>.tar.gz (.zip on
# Windows), and writes DIR/medusa.yaml from krew/medusa.yaml with each archive's sha256.
# Every platform of the manifest needs its archive: a partial release fails, naming what is
# missing. Check the result with `kubectl krew install --manifest=DIR/medusa.yaml
# --archive=DIR/<archive>`.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' "$root/Cargo.toml" | head -n 1)"
targets="linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64"
out="$root/dist"
given=""   # lines of os/arch=PATH (no associative arrays: macOS ships bash 3)

usage() { sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-0}"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --version) version="$2"; shift 2 ;;
    --targets) targets="$2"; shift 2 ;;
    --binary) given="$given$2
"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) usage 0 ;;
    *) echo "release.sh: unknown argument $1" >&2; usage 3 ;;
  esac
done

triple() {
  case "$1" in
    linux/amd64) echo x86_64-unknown-linux-musl ;;
    linux/arm64) echo aarch64-unknown-linux-musl ;;
    darwin/amd64) echo x86_64-apple-darwin ;;
    darwin/arm64) echo aarch64-apple-darwin ;;
    windows/amd64) echo x86_64-pc-windows-gnu ;;
    *) echo "release.sh: unknown platform $1 (os/arch)" >&2; return 1 ;;
  esac
}

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

build() {
  local platform="$1" target
  target="$(triple "$platform")"
  local builder=(cargo build)
  if [ "${platform%%/*}" != linux ] && command -v cargo-zigbuild >/dev/null 2>&1; then
    builder=(cargo zigbuild)
  fi
  "${builder[@]}" --manifest-path "$root/Cargo.toml" --release --locked -p kubectl-medusa --target "$target" >&2
  local exe=kubectl-medusa
  [ "${platform%%/*}" = windows ] && exe=kubectl-medusa.exe
  echo "$root/target/$target/release/$exe"
}

mkdir -p "$out"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

sums="$work/sums"
: > "$sums"
for platform in $targets; do
  triple "$platform" >/dev/null
  os="${platform%%/*}"; arch="${platform##*/}"
  binary="$(printf '%s' "$given" | sed -n "s|^$platform=||p" | tail -n 1)"
  if [ -z "$binary" ]; then
    binary="$(build "$platform")"
  fi
  [ -x "$binary" ] || { echo "release.sh: $binary is not an executable" >&2; exit 1; }
  stage="$work/$os-$arch"
  mkdir -p "$stage"
  exe=kubectl-medusa
  [ "$os" = windows ] && exe=kubectl-medusa.exe
  cp "$binary" "$stage/$exe"
  cp "$root/LICENSE" "$stage/LICENSE"
  name="kubectl-medusa_v${version}_${os}_${arch}"
  if [ "$os" = windows ]; then
    archive="$out/$name.zip"
    rm -f "$archive"
    (cd "$stage" && zip -q -X "$archive" "$exe" LICENSE)
  else
    archive="$out/$name.tar.gz"
    # Reproducible: fixed order, owner and times.
    tar -C "$stage" --sort=name --owner=0 --group=0 --numeric-owner --mtime='1970-01-01' \
      -cf - "$exe" LICENSE | gzip -n > "$archive"
  fi
  key="SHA256_$(echo "${os}_${arch}" | tr '[:lower:]' '[:upper:]')"
  sum="$(sha256 "$archive")"
  echo "$key $sum" >> "$sums"
  echo "$archive  $sum"
done

manifest="$out/medusa.yaml"
# The template's leading comment is not part of the manifest.
text="$(sed -e '1,/^apiVersion:/{/^#/d;}' -e "s/\${VERSION}/$version/g" "$root/krew/medusa.yaml")"
while read -r key sum; do
  text="$(printf '%s\n' "$text" | sed "s/\${$key}/$sum/g")"
done < "$sums"
missing="$(printf '%s\n' "$text" | grep -o '\${SHA256_[A-Z0-9_]*}' | sort -u | tr '\n' ' ' || true)"
if [ -n "$missing" ]; then
  echo "release.sh: no archive for ${missing}: build every platform of krew/medusa.yaml (or --binary os/arch=PATH)" >&2
  exit 1
fi
printf '%s\n' "$text" > "$manifest"
echo "$manifest"
