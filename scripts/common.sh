# Shared paths for rzram's scripts. Sourced, not run.
# The cache lives outside the checkout so a fresh clone reuses it.
RZRAM_CACHE=${RZRAM_CACHE:-/var/cache/rzram}
BINDGEN=$RZRAM_CACHE/bindgen-0.71.1/bin/bindgen
LLVM_BIN=/usr/lib/llvm-19/bin
export PATH=$LLVM_BIN:$PATH
export LIBCLANG_PATH=/usr/lib/llvm-19/lib
RZRAM_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# make flags every kernel and module build uses
KMAKE=(LLVM=1 RUSTC=/usr/bin/rustc BINDGEN="$BINDGEN" RUSTFMT=rustfmt CLIPPY_DRIVER=/usr/bin/clippy-driver)

# Print the build directory of a kernel variant (plain|debug).  The key is
# the Debian source version plus the hash of the config fragments and of
# build-kernel.sh, so any change to them builds a new tree.
kernel_dir() {
	local variant=$1 srcver key
	srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12)
	key=$(cat "$RZRAM_TOP/scripts/kconfig/base.config" \
		$([ "$variant" = debug ] && echo "$RZRAM_TOP/scripts/kconfig/debug.config") \
		"$RZRAM_TOP/scripts/build-kernel.sh" | sha256sum | cut -c1-12)
	echo "$RZRAM_CACHE/kernel-$srcver-$variant-$key"
}
