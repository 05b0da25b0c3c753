#!/bin/bash
# temporary timing probe (to be deleted)
. "$(dirname "$0")/lib.sh"
ktap_plan 1
S=/sys/block/rzram0
t() { local s=$(date +%s.%N); "$@"; local e=$(date +%s.%N); echo "# TIME $(awk -v a=$s -v b=$e 'BEGIN{printf "%.2f", b-a}')s: $*"; }
modprobe zsmalloc
insmod /lib/rzram/rzram.ko
at_exit "rmmod rzram"
echo /dev/vda > $S/backing_dev
echo 256M > $S/disksize
t dd if=/dev/urandom of=$TMP/r bs=1M count=16 status=none
t sha256sum $TMP/r
t dd if=$TMP/r of=/dev/rzram0 bs=1M oflag=direct status=none
t dd if=/dev/urandom of=/dev/rzram0 bs=1M count=64 seek=16 oflag=direct status=none
t fio --name=x --filename=/dev/rzram0 --rw=write --bs=1M --direct=1 --offset=80M --size=64M --refill_buffers --buffer_compress_percentage=0 --randrepeat=0 --output=/dev/null
cat $S/mm_stat
t sha256 /dev/rzram0 16
t sha256 /dev/rzram0 144
t attr_write huge $S/writeback
cat $S/bd_stat
t sha256 /dev/rzram0 16
t sha256 /dev/rzram0 144
cat $S/bd_stat
t attr_write 1 $S/reset
ktap_ok done
ktap_finish
