#!/usr/bin/env bash
# Install everything rzram's build and tests need, from Debian packages and
# crates.io. Idempotent: does nothing when everything is already there.
set -euo pipefail

PKGS=(linux-source-6.12 rustc-web rust-web-src clang-19 lld-19 llvm-19
      libclang-19-dev flex bison bc libelf-dev libssl-dev cpio kmod
      qemu-system-x86 busybox-static fio e2fsprogs util-linux dmsetup rust-web-clippy
      python3 make gcc libc6-dev git xz-utils zstd rsync)
BINDGEN_VERSION=0.71.1
BINDGEN_ROOT=${RZRAM_CACHE:-/var/cache/rzram}/bindgen-$BINDGEN_VERSION

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ ! -x "$BINDGEN_ROOT/bin/bindgen" ]; then
	command -v cargo >/dev/null || {
		echo "setup: cargo is needed to build bindgen-cli (install rustup or Debian's cargo)" >&2
		exit 1
	}
	echo "setup: cargo install bindgen-cli $BINDGEN_VERSION"
	LIBCLANG_PATH=/usr/lib/llvm-19/lib cargo install --locked --root "$BINDGEN_ROOT" \
		bindgen-cli --version "$BINDGEN_VERSION"
fi
echo "setup: ok"
