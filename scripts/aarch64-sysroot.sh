#!/usr/bin/env bash
# Unpacks Debian's arm64 Criterion and OpenSSL (libssl-dev) and the libraries they need into DIR, for the aarch64 cross build
# (make check-aarch64). The system is left alone: apt runs with its own state directories and no
# foreign architecture is added to dpkg (Debian's arm64 libnanomsg-dev could not be installed next
# to the amd64 one anyway). The cross C library comes from libc6-dev-arm64-cross.
#
#   scripts/aarch64-sysroot.sh DIR
set -euo pipefail

dir="${1:?usage: $0 DIR}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
# The stamp names what was unpacked: a sysroot made before OpenSSL joined is made again.
stamp="$dir/.complete-criterion-openssl"
[ -f "$stamp" ] && exit 0

apt_dir="$dir/.apt"
rm -rf "$apt_dir" "$dir/root"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$apt_dir/debs" "$dir/root"
cat >"$apt_dir/apt.conf" <<CONF
APT::Architecture "arm64";
APT::Architectures { "arm64"; };
APT::Sandbox::User "root";
Dir::State::Lists "$apt_dir/lists";
Dir::State::status "/dev/null";
Dir::Cache "$apt_dir/cache";
CONF
export APT_CONFIG="$apt_dir/apt.conf"

echo "corio: fetching Debian's arm64 Criterion and OpenSSL into $dir"
apt-get update -qq
# Criterion's run-time closure, without what the cross toolchain already provides.
mapfile -t pkgs < <(
    {
        echo libcriterion-dev
        echo libssl-dev
        echo libssl3
        apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
            --no-replaces --no-enhances libcriterion3
    } | grep -v '^ ' | grep -v '^<' | grep -vxE 'libc6|libgcc-s1|gcc-12-base|libcrypt1' | sort -u
)
(cd "$apt_dir/debs" && apt-get download -qq "${pkgs[@]}")
for deb in "$apt_dir"/debs/*.deb; do
    dpkg-deb -x "$deb" "$dir/root"
done
rm -rf "$apt_dir"
touch "$stamp"
