#!/usr/bin/env bash
# Build rzram.ko against the cached test kernel of a variant (plain|debug),
# in a copy of the sources under the cache so the two variants never mix
# objects.  Prints the path of the built rzram.ko.
# usage: build-module.sh plain|debug [extra make args, e.g. CLIPPY=1]
set -euo pipefail
. "$(dirname "$0")/common.sh"
variant=${1:-debug}
shift || true
kdir=$(bash "$RZRAM_TOP/scripts/build-kernel.sh" "$variant")
# RZRAM_MODULE_OUT: another output directory, so builds from several
# checkouts (git worktrees) do not overwrite each other.
out=${RZRAM_MODULE_OUT:-$RZRAM_CACHE/module-$variant}
mkdir -p "$out"
rsync -a --delete --exclude .git --exclude '*.o' --exclude '*.ko' \
	--exclude '.*.cmd' --exclude '*.mod*' --exclude 'modules.order' \
	--exclude 'Module.symvers' --exclude '.*.d' \
	"$RZRAM_TOP/Kbuild" "$RZRAM_TOP"/*.rs "$RZRAM_TOP"/*.c "$RZRAM_TOP/glue" "$RZRAM_TOP/rzram_wb" \
	"$out/" >&2
make -C "$kdir" M="$out" "${KMAKE[@]}" -s modules "$@" >&2
echo "$out/rzram.ko"
