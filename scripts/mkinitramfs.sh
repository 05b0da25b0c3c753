#!/usr/bin/env bash
# Build the busybox initramfs the rzram tests boot in.
#
# usage: mkinitramfs.sh OUT.cpio[.gz|.zst] KDIR [EXTRA_FILES...]
#
#   OUT          the archive to write; compressed with gzip or zstd when
#                its name ends in .gz or .zst
#   KDIR         a kernel build dir from build-kernel.sh; its
#                modinst/lib/modules/<kver>/ is copied in whole
#   EXTRA_FILES  copied to /lib/rzram/ in the guest (e.g. rzram.ko)
#
# The image holds busybox (every applet as a symlink), a few host tools
# with their shared libraries (found with ldd) in /usr/local/bin, which is
# first on the guest's PATH, the tests/ directory as /tests, and an /init
# that mounts the usual filesystems, runs /tests/run_guest.sh and powers
# the machine off.  See tests/README for the guest side.
set -euo pipefail

usage() { echo "usage: $0 OUT.cpio[.gz|.zst] KDIR [EXTRA_FILES...]" >&2; exit 2; }
[ $# -ge 2 ] || usage
out=$1 kdir=$2
shift 2
top=$(cd "$(dirname "$0")/.." && pwd)

modroot=$kdir/modinst/lib/modules
[ -d "$modroot" ] || { echo "mkinitramfs: no $modroot (kernel not built?)" >&2; exit 1; }
busybox=$(command -v busybox) || { echo "mkinitramfs: busybox not found (apt-get install busybox-static)" >&2; exit 1; }

# Host tools the tests use, copied with their libraries.  Busybox provides
# everything else (sh, sed, awk, grep, mount, dd, ...); GNU versions listed
# here win because /usr/local/bin comes first on the guest's PATH.
host_tools=(
	bash
	fio
	mke2fs mkfs.ext4 e2fsck
	mkswap swapon swapoff
	dmsetup
	blkdiscard blockdev
	sha256sum dd timeout stat cmp
	dmesg
	kmod
)
# kmod is one binary behind all module tools
kmod_links=(modprobe insmod rmmod lsmod modinfo depmod)

root=$(mktemp -d "${TMPDIR:-/tmp}/rzram-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,lib,lib64,etc,proc,sys,dev,tmp,run,root,mnt,lib/rzram}
chmod 1777 "$root/tmp"

copy_libs() {
	local bin=$1 lib
	# "libx.so => /path (0x..)" or "/lib64/ld-linux-x86-64.so.2 (0x..)"
	for lib in $(ldd "$bin" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

# 1. busybox and its applets; never overwrite a real file
cp "$busybox" "$root/bin/busybox"
copy_libs "$busybox"   # none for busybox-static
while IFS= read -r applet; do
	[ -e "$root/$applet" ] || [ -L "$root/$applet" ] || ln -s /bin/busybox "$root/$applet"
done < <("$root/bin/busybox" --list-full)

# 2. host tools and the shared objects ldd says they need, at the same paths
for tool in "${host_tools[@]}"; do
	path=$(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin command -v "$tool") ||
		{ echo "mkinitramfs: host tool $tool not found" >&2; exit 1; }
	cp -L "$path" "$root/usr/local/bin/$tool"
	copy_libs "$path"
done
for l in "${kmod_links[@]}"; do ln -sf kmod "$root/usr/local/bin/$l"; done
# scripts use #!/bin/bash
ln -sf /usr/local/bin/bash "$root/bin/bash"

# 3. minimal /etc
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
disk:x:6:
EOF
ln -s /proc/mounts "$root/etc/mtab"
[ -f /etc/mke2fs.conf ] && cp /etc/mke2fs.conf "$root/etc/"

# 4. kernel modules (modules_install output, depmod already run)
mkdir -p "$root/lib/modules"
cp -a "$modroot"/. "$root/lib/modules/"

# 5. tests and extra files
cp -a "$top/tests" "$root/tests"
# test helpers in C (the guest has no compiler): static binaries next to
# their source, tests/helpers/NAME.c -> /tests/helpers/NAME
for src in "$top"/tests/helpers/*.c; do
	[ -e "$src" ] || continue
	cc -O2 -Wall -static -o "$root/tests/helpers/$(basename "$src" .c)" "$src" ||
		{ echo "mkinitramfs: cannot build $src" >&2; exit 1; }
done
for f in "$@"; do
	[ -f "$f" ] || { echo "mkinitramfs: extra file $f not found" >&2; exit 1; }
	cp -L "$f" "$root/lib/rzram/"
done

# 6. /init (PID 1).  Whatever happens, it ends with poweroff so QEMU exits.
cat >"$root/init" <<'EOF'
#!/bin/sh
# PID 1 of the rzram test guest.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C LC_ALL=C TERM=dumb
# dmsetup: there is no udev in the guest
export DM_DISABLE_UDEV=1

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
hostname rzram-guest
# module tools look under /lib/modules/$(uname -r)
[ -d "/lib/modules/$(uname -r)" ] || echo "init: warning: no /lib/modules/$(uname -r)"

# Results go to the second serial port (nothing but us writes there), so
# kernel messages on the console cannot break a KTAP line.  Fall back to
# the console when there is no second port.
results=/dev/ttyS1
if [ -c "$results" ] && stty -F "$results" raw -echo 2>/dev/null; then :; else
	results=/dev/console
fi
export RZRAM_RESULTS=$results

if [ -x /bin/bash ]; then
	/bin/bash /tests/run_guest.sh
else
	echo "init: /bin/bash is missing or broken" | tee "$results"
fi
sync
poweroff -f
# not reached; if poweroff failed, panic=-1 plus QEMU's -no-reboot ends it
exit 1
EOF
chmod 755 "$root/init"

# 7. the archive (paths relative to the root, newc format, owned by root)
mkdir -p "$(dirname "$out")"
tmp_out=$out.tmp.$$
case $out in
*.gz)  compress=(gzip -1) ;;
*.zst) compress=(zstd -q -3 -T0) ;;
*)     compress=(cat) ;;
esac
(cd "$root" && find . -print0 | LC_ALL=C sort -z |
	cpio --null -o -H newc -R 0:0 --quiet | "${compress[@]}") >"$tmp_out"
mv "$tmp_out" "$out"
echo "mkinitramfs: wrote $out ($(du -h "$out" | cut -f1))" >&2
