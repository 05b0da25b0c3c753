#!/usr/bin/env bash
# Build the Rust-enabled 6.12 test kernel (plain or debug) from Debian's
# linux-source-6.12, cached outside the checkout.  Prints the build dir.
# usage: build-kernel.sh plain|debug
set -euo pipefail
. "$(dirname "$0")/common.sh"
variant=${1:-plain}
case $variant in plain|debug) ;; *) echo "usage: $0 plain|debug" >&2; exit 2;; esac

out=$(kernel_dir "$variant")
if [ -f "$out/.done" ]; then
	echo "$out"
	exit 0
fi

srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
src=$RZRAM_CACHE/src-$srcver
if [ ! -f "$src/.done" ]; then
	echo "build-kernel: unpacking linux-source-6.12 $srcver" >&2
	rm -rf "$src" && mkdir -p "$src"
	tar -C "$src" --strip-components=1 -xf /usr/src/linux-source-6.12.tar.xz
	touch "$src/.done"
fi

mkdir -p "$out"
frags=("$RZRAM_TOP/scripts/kconfig/base.config")
[ "$variant" = debug ] && frags+=("$RZRAM_TOP/scripts/kconfig/debug.config")
echo "build-kernel: configuring $variant in $out" >&2
make -C "$src" O="$out" "${KMAKE[@]}" -s defconfig kvm_guest.config >&2
"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "${frags[@]}" >&2
make -C "$src" O="$out" "${KMAKE[@]}" -s olddefconfig >&2
# every fragment line must have survived olddefconfig, or the kernel is not
# the one the tests were written for
bad=0
for f in "${frags[@]}"; do
	while IFS= read -r line; do
		sym=${line%%=*} val=${line#*=}
		if [ "$val" = n ]; then
			if grep -qE "^$sym=" "$out/.config"; then
				echo "build-kernel: $sym is still set" >&2
				bad=1
			fi
		elif ! grep -qxF "$line" "$out/.config"; then
			echo "build-kernel: $line did not stick" >&2
			bad=1
		fi
	done < <(grep -E '^CONFIG_[A-Z0-9_]+=' "$f")
done
[ $bad -eq 0 ] || exit 1
grep -qx CONFIG_RUST=y "$out/.config" || {
	echo "build-kernel: CONFIG_RUST did not stick; run 'make rustavailable'" >&2
	make -C "$src" O="$out" "${KMAKE[@]}" rustavailable >&2
	exit 1
}
echo "build-kernel: building $variant (this takes ~10-15 minutes cold)" >&2
make -C "$src" O="$out" "${KMAKE[@]}" -j"$(nproc)" -s bzImage modules >&2
rm -rf "$out/modinst"
make -C "$src" O="$out" "${KMAKE[@]}" -s INSTALL_MOD_PATH="$out/modinst" INSTALL_MOD_STRIP=1 modules_install >&2
touch "$out/.done"
echo "$out"
