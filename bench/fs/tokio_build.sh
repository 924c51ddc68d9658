#!/usr/bin/env bash
# Build the Tokio side of the file-I/O benchmark offline against Debian's
# packaged crates (librust-tokio-dev).  Usage: bench/fs/tokio_build.sh OUT
# The cargo config and all build output go under OUT; the last line on
# stdout is the path of the built binary.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUT" >&2; exit 2; }
OUT=$(mkdir -p "$1" && cd "$1" && pwd)
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$OUT/cargo-home"
cat > "$OUT/cargo-home/config.toml" <<'CFG'
[source.crates-io]
replace-with = "debian"

[source.debian]
directory = "/usr/share/cargo/registry"

[net]
offline = true
CFG
cd "$ROOT"
# Cargo writes Cargo.lock next to the manifest; it is derived (only one version
# of each crate exists offline) and its format differs between cargo versions,
# so drop any stale one rather than let an older cargo choke on it.
rm -f bench/fs/tokio/Cargo.lock
CARGO_HOME="$OUT/cargo-home" CARGO_TARGET_DIR="$OUT/cargo-target" \
    cargo build --release --offline --manifest-path bench/fs/tokio/Cargo.toml >&2
echo "$OUT/cargo-target/release/fs_tokio"
