// SPDX-License-Identifier: GPL-2.0
/*
 * rbhelper: what the rzram_rb_* tests need and the guest's busybox, bash
 * and fio cannot do.  Built statically by scripts/mkinitramfs.sh into
 * /tests/helpers/rbhelper.
 *
 *   rbhelper read DEV OFF LEN SEG MIS [direct|buffered] [fail]
 *	Reads LEN bytes at byte OFF of DEV with one preadv() into segments
 *	of SEG bytes, each starting MIS bytes into its own page (so a SEG of
 *	4096 with MIS 512 straddles two pages, and a SEG of 512 makes the
 *	bio a list of 512-byte pieces), and writes the data to stdout.
 *	"direct" (default) uses O_DIRECT; "buffered" drops DEV's page cache
 *	first (POSIX_FADV_DONTNEED) so the read reaches the driver.  "fail":
 *	the read runs with /proc/self/make-it-fail set (fault injection
 *	with task-filter hits this read only).
 *
 *   rbhelper hold PAGES SEED
 *	Maps PAGES anonymous pages, fills page i with a pattern of (SEED, i)
 *	(kinds by i % 4: random, random, compressible, same-filled), then
 *	reads commands on stdin, one a line, and answers each on stdout:
 *	  pageout      MADV_PAGEOUT the whole mapping, answer
 *	               "swap_kib=N rss_kib=M" (VmSwap, VmRSS)
 *	  verify       compare every page with its pattern:
 *	               "verified=N bad=M first_bad=I"
 *	  verify-fail  the same with /proc/self/make-it-fail set while the
 *	               pages are touched (swap-ins under fault injection)
 *	  quit         exit 0
 *	SIGBUS or any other fatal signal ends it (the shell sees the signal).
 *
 *   rbhelper balloon MIB
 *	Takes MIB MiB of memory out of play (mlocked anonymous pages, so
 *	neither reclaim nor swap can have them), prints "ballooned MIB" and
 *	sleeps until killed.
 *
 *   rbhelper gen PAGES SEED
 *	Writes the pages "hold" fills to stdout (an image for a device).
 *
 *   rbhelper failnth N FILE TEXT
 *	Opens FILE for writing, then makes the Nth fault-injection point of
 *	this thread fail (/proc/self/task/TID/fail-nth) and writes TEXT to
 *	FILE in one write().  Prints "injected=0|1 ret=ok|ERRNO-NAME".
 *	Needs failslab / fail_page_alloc with ignore-gfp-wait=N (and
 *	verbose=0, or each failure dumps a stack into the kernel log).
 *
 *   rbhelper wbsweep DEV SYSDIR IMG MAXN
 *	The fail-nth sweep of rzram_rb_wbfail.sh, without a fork per step:
 *	IMG (a file) is on DEV, all of it resident, writeback_limit 1000.
 *	For N = 1 .. MAXN: fail the Nth fault-injection point of a write of
 *	"huge" to SYSDIR/writeback (as failnth); stop at the first N not
 *	reached.  Else print one line
 *	  n=N ret=R bd=C lim=L hp=H ret2=R2 bd2=C2 lim2=L2 hp2=H2 content=ok|bad rel=C3
 *	with bd_stat's bd_count, writeback_limit and mm_stat's huge_pages
 *	after that writeback (C L H), after a second one without failure
 *	(R2 C2 L2 H2), whether DEV then reads back as IMG, and bd_count
 *	after IMG is written over DEV again (C3); then writeback_limit is
 *	set to 1000 again.  Last line: "end n=N" (N: first not reached).
 *
 *   rbhelper readrm DEV PAGES PROCS RESET MODULE
 *	PROCS processes read PAGES pages of DEV (4 KiB O_DIRECT each,
 *	interleaved); as soon as the last one is done, writes 1 to RESET and
 *	calls delete_module(MODULE) with no exec in between.  Exit 0 only if
 *	every read, the reset and the removal succeeded.
 *
 *   rbhelper hex BYTES SEED
 *	Writes BYTES pseudo-random hexadecimal digits (splitmix64 from SEED)
 *	to stdout: 4 bits of entropy a byte, with no repeats for an LZ
 *	compressor without entropy coding to find.
 *
 *   rbhelper part PAGES RAND SEED
 *	Writes PAGES pages to stdout, each RAND pseudo-random bytes
 *	(splitmix64 from SEED) then zeros: a page that compresses to a
 *	little over RAND bytes, so a test knows how many share a block.
 *
 *   rbhelper splice DST SRC EVERY PHASE
 *	Copies page k of file SRC over page k * EVERY + PHASE of file DST,
 *	for every k while both exist (one process instead of a dd a page).
 *
 *   rbhelper discard DEV FIRST END STEP
 *	Discards (BLKDISCARD) pages FIRST, FIRST + STEP, ... below END of
 *	DEV, one ioctl a page.
 *
 *   rbhelper rwrite DEV FILE FIRST END CHUNK
 *	Writes pages FIRST to END-1 of FILE over the same pages of DEV, with
 *	O_DIRECT, CHUNK pages per pwrite(), from the last chunk to the first
 *	(so a writer crosses a scan that walks the pages upwards).
 *
 *   rbhelper zerotails DEV NBLOCKS TAIL
 *	Reads the first NBLOCKS 4 KiB blocks of DEV (O_DIRECT) and prints how
 *	many of them end with TAIL zero bytes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#define PAGE 4096UL

static void die(const char *what)
{
	fprintf(stderr, "rbhelper: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= n;
	}
	return 0;
}

/* make-it-fail through an fd opened beforehand: the write does not allocate */
static int mif_fd = -1;

static void make_it_fail(int on)
{
	const char *v = on ? "1" : "0";

	if (mif_fd < 0) {
		mif_fd = open("/proc/self/make-it-fail", O_WRONLY);
		if (mif_fd < 0)
			die("open /proc/self/make-it-fail");
	}
	/* a failed allocation does not stop this write, but retry anyway */
	for (int i = 0; i < 1000; i++)
		if (pwrite(mif_fd, v, 1, 0) == 1)
			return;
	die("write /proc/self/make-it-fail");
}

/* ---- read ------------------------------------------------------------ */

static int cmd_read(int argc, char **argv)
{
	if (argc < 7)
		return 2;
	const char *dev = argv[2];
	off_t off = strtoll(argv[3], NULL, 0);
	size_t len = strtoull(argv[4], NULL, 0);
	size_t seg = strtoull(argv[5], NULL, 0);
	size_t mis = strtoull(argv[6], NULL, 0);
	int direct = !(argc > 7 && !strcmp(argv[7], "buffered"));
	int fail = argc > 8 && !strcmp(argv[8], "fail");

	if (!seg || !len || len % seg || mis >= PAGE)
		return 2;
	size_t nseg = len / seg;
	size_t stride = (mis + seg + PAGE - 1) / PAGE * PAGE;
	char *buf = mmap(NULL, nseg * stride, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	struct iovec *iov = calloc(nseg, sizeof(*iov));

	if (buf == MAP_FAILED || !iov)
		die("memory");
	memset(buf, 0xa5, nseg * stride);
	for (size_t i = 0; i < nseg; i++) {
		iov[i].iov_base = buf + i * stride + mis;
		iov[i].iov_len = seg;
	}
	int fd = open(dev, O_RDONLY | (direct ? O_DIRECT : 0));

	if (fd < 0)
		die(dev);
	if (!direct)
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	size_t done = 0;
	int iovcnt_max = 1024; /* IOV_MAX */
	size_t first = 0;

	if (fail)
		make_it_fail(1);
	while (done < len) {
		/* skip the iovecs already filled */
		size_t cnt = nseg - first;

		if (cnt > (size_t)iovcnt_max)
			cnt = iovcnt_max;
		ssize_t n = preadv(fd, iov + first, cnt, off + done);

		if (n < 0) {
			int e = errno;

			if (fail)
				make_it_fail(0);
			errno = e;
			die("preadv");
		}
		if (n == 0) {
			if (fail)
				make_it_fail(0);
			fprintf(stderr, "rbhelper: short read at %zu\n", done);
			return 1;
		}
		done += n;
		/* advance the iovecs */
		while (n > 0 && first < nseg) {
			if ((size_t)n >= iov[first].iov_len) {
				n -= iov[first].iov_len;
				iov[first].iov_len = 0;
				first++;
			} else {
				iov[first].iov_base = (char *)iov[first].iov_base + n;
				iov[first].iov_len -= n;
				n = 0;
			}
		}
	}
	if (fail)
		make_it_fail(0);
	for (size_t i = 0; i < nseg; i++)
		if (write_all(1, buf + i * stride + mis, seg))
			die("write stdout");
	return 0;
}

/* ---- hold ------------------------------------------------------------ */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* word w of page i */
static uint64_t pattern(uint64_t seed, uint64_t i, uint64_t w)
{
	switch (i % 4) {
	case 0:
	case 1: /* random: stored raw (huge) */
		return mix(seed ^ (i << 20) ^ w);
	case 2: /* compressible: 32 random words, then the page number */
		return w < 32 ? mix(seed ^ (i << 20) ^ w) : (seed << 32) ^ i;
	default: /* same-filled: one value per page */
		return mix(seed ^ (i << 20)) | 1;
	}
}

static long status_kib(const char *key)
{
	char line[256];
	long v = -1;
	size_t k = strlen(key);
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, k) && line[k] == ':')
			v = strtol(line + k + 1, NULL, 10);
	fclose(f);
	return v;
}

static int cmd_hold(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	size_t pages = strtoull(argv[2], NULL, 0);
	uint64_t seed = strtoull(argv[3], NULL, 0);
	size_t words = PAGE / 8;
	uint64_t *mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char cmd[64];

	if (mem == MAP_FAILED)
		die("mmap");
	for (size_t i = 0; i < pages; i++)
		for (size_t w = 0; w < words; w++)
			mem[i * words + w] = pattern(seed, i, w);
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* open it now: opening allocates, and that must not fail later */
	mif_fd = open("/proc/self/make-it-fail", O_WRONLY);
	printf("filled pages=%zu\n", pages);
	while (fgets(cmd, sizeof(cmd), stdin)) {
		cmd[strcspn(cmd, "\n")] = 0;
		if (!strcmp(cmd, "pageout")) {
			if (madvise(mem, pages * PAGE, MADV_PAGEOUT))
				die("madvise(MADV_PAGEOUT)");
			printf("swap_kib=%ld rss_kib=%ld\n", status_kib("VmSwap"),
			       status_kib("VmRSS"));
		} else if (!strcmp(cmd, "verify") || !strcmp(cmd, "verify-fail")) {
			int fail = !strcmp(cmd, "verify-fail");
			size_t bad = 0, first_bad = (size_t)-1;

			if (fail)
				make_it_fail(1);
			for (size_t i = 0; i < pages; i++) {
				const uint64_t *p = mem + i * words;
				int ok = 1;

				for (size_t w = 0; w < words; w++)
					if (p[w] != pattern(seed, i, w)) {
						ok = 0;
						break;
					}
				if (!ok) {
					bad++;
					if (first_bad == (size_t)-1)
						first_bad = i;
				}
			}
			if (fail)
				make_it_fail(0);
			printf("verified=%zu bad=%zu first_bad=%zd\n", pages, bad,
			       (ssize_t)first_bad);
		} else if (!strcmp(cmd, "quit")) {
			return 0;
		} else {
			printf("unknown command '%s'\n", cmd);
		}
	}
	return 0;
}

static int cmd_gen(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	size_t pages = strtoull(argv[2], NULL, 0);
	uint64_t seed = strtoull(argv[3], NULL, 0);
	uint64_t page[PAGE / 8];

	for (size_t i = 0; i < pages; i++) {
		for (size_t w = 0; w < PAGE / 8; w++)
			page[w] = pattern(seed, i, w);
		if (write_all(1, page, PAGE))
			die("write stdout");
	}
	return 0;
}

static int cmd_balloon(int argc, char **argv)
{
	if (argc < 3)
		return 2;
	size_t len = strtoull(argv[2], NULL, 0) << 20;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (m == MAP_FAILED)
		die("mmap");
	if (mlock(m, len))
		die("mlock");
	for (size_t i = 0; i < len; i += PAGE)
		m[i] = 1;
	printf("ballooned %zu\n", len >> 20);
	fflush(stdout);
	for (;;)
		pause();
}

/* ---- failnth --------------------------------------------------------- */

static int cmd_failnth(int argc, char **argv)
{
	if (argc < 5)
		return 2;
	const char *n = argv[2], *file = argv[3], *text = argv[4];
	char path[64], buf[32];
	int fd = open(file, O_WRONLY);

	if (fd < 0)
		die(file);
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	int fn = open(path, O_RDWR);

	if (fn < 0)
		die(path);
	if (write(fn, n, strlen(n)) != (ssize_t)strlen(n))
		die("write fail-nth");
	ssize_t r = write(fd, text, strlen(text));
	int err = errno;
	ssize_t m = pread(fn, buf, sizeof(buf) - 1, 0);
	/* disarm: an injection not reached would hit a later call */
	if (write(fn, "0", 1) != 1)
		die("disarm fail-nth");
	if (m <= 0)
		die("read fail-nth");
	buf[m] = 0;
	printf("injected=%d ret=%s\n", atoi(buf) == 0,
	       r >= 0 ? "ok" : strerrorname_np(err));
	return 0;
}

/* ---- wbsweep -------------------------------------------------------- */

static long attr_field(const char *dir, const char *name, int field)
{
	char path[256], buf[512], *p = buf, *end;
	long v = -1;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	for (int i = 1; i <= field; i++) {
		v = strtol(p, &end, 10);
		if (end == p)
			return -1;
		p = end;
	}
	return v;
}

static const char *attr_write(const char *dir, const char *name, const char *val)
{
	char path[256];
	int fd;
	ssize_t r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return strerrorname_np(errno);
	r = write(fd, val, strlen(val));
	if (r < 0) {
		int e = errno;

		close(fd);
		return strerrorname_np(e);
	}
	close(fd);
	return "ok";
}

static int cmd_wbsweep(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	const char *dev = argv[2], *dir = argv[3], *imgf = argv[4];
	long maxn = strtol(argv[5], NULL, 0);
	char path[256], wbpath[256], nbuf[32], buf[32];
	int img = open(imgf, O_RDONLY);
	off_t size = img < 0 ? -1 : lseek(img, 0, SEEK_END);
	void *want, *got;

	if (size <= 0 || size % PAGE || posix_memalign(&want, PAGE, size) ||
	    posix_memalign(&got, PAGE, size) || pread(img, want, size, 0) != size)
		die(imgf);
	int fd = open(dev, O_RDWR | O_DIRECT);

	if (fd < 0)
		die(dev);
	snprintf(path, sizeof(path), "/proc/self/task/%ld/fail-nth",
		 (long)syscall(SYS_gettid));
	int fn = open(path, O_RDWR);

	if (fn < 0)
		die(path);
	snprintf(wbpath, sizeof(wbpath), "%s/writeback", dir);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (long n = 1; n <= maxn; n++) {
		int wb = open(wbpath, O_WRONLY);

		if (wb < 0)
			die(wbpath);
		snprintf(nbuf, sizeof(nbuf), "%ld", n);
		if (write(fn, nbuf, strlen(nbuf)) != (ssize_t)strlen(nbuf))
			die("write fail-nth");
		ssize_t r = write(wb, "huge", 4);
		int err = errno;
		ssize_t m = pread(fn, buf, sizeof(buf) - 1, 0);

		if (write(fn, "0", 1) != 1)
			die("disarm fail-nth");
		close(wb);
		if (m <= 0)
			die("read fail-nth");
		buf[m] = 0;
		if (atoi(buf) != 0) {
			printf("end n=%ld\n", n);
			return 0;
		}
		long bd = attr_field(dir, "bd_stat", 1);
		long lim = attr_field(dir, "writeback_limit", 1);
		long hp = attr_field(dir, "mm_stat", 8);
		const char *ret2 = attr_write(dir, "writeback", "huge");
		long bd2 = attr_field(dir, "bd_stat", 1);
		long lim2 = attr_field(dir, "writeback_limit", 1);
		long hp2 = attr_field(dir, "mm_stat", 8);
		int ok = pread(fd, got, size, 0) == size && !memcmp(got, want, size);

		if (pwrite(fd, want, size, 0) != size)
			die("rewrite");
		long rel = attr_field(dir, "bd_stat", 1);

		printf("n=%ld ret=%s bd=%ld lim=%ld hp=%ld ret2=%s bd2=%ld lim2=%ld hp2=%ld content=%s rel=%ld\n",
		       n, r >= 0 ? "ok" : strerrorname_np(err), bd, lim, hp, ret2,
		       bd2, lim2, hp2, ok ? "ok" : "bad", rel);
		attr_write(dir, "writeback_limit", "1000");
	}
	printf("end n=none\n");
	return 0;
}

/* ---- readrm ---------------------------------------------------------- */

static int read_pages(const char *dev, size_t pages, size_t start, size_t step)
{
	void *buf;
	int fd = open(dev, O_RDONLY | O_DIRECT);

	if (fd < 0 || posix_memalign(&buf, PAGE, PAGE))
		return 1;
	for (size_t i = start; i < pages; i += step)
		if (pread(fd, buf, PAGE, i * PAGE) != (ssize_t)PAGE) {
			fprintf(stderr, "rbhelper: read of page %zu: %s\n", i,
				strerror(errno));
			return 1;
		}
	close(fd);
	return 0;
}

static int cmd_readrm(int argc, char **argv)
{
	if (argc < 7)
		return 2;
	const char *dev = argv[2], *reset = argv[5], *mod = argv[6];
	size_t pages = strtoull(argv[3], NULL, 0);
	size_t procs = strtoull(argv[4], NULL, 0);
	int rc = 0, st;
	pid_t pid[64];

	if (procs < 1 || procs > 64)
		return 2;
	for (size_t p = 1; p < procs; p++) {
		pid[p] = fork();
		if (pid[p] < 0)
			die("fork");
		if (pid[p] == 0)
			_exit(read_pages(dev, pages, p, procs));
	}
	rc |= read_pages(dev, pages, 0, procs);
	for (size_t p = 1; p < procs; p++)
		if (waitpid(pid[p], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st))
			rc = 1;
	int fd = open(reset, O_WRONLY);

	if (fd < 0 || write(fd, "1", 1) != 1) {
		fprintf(stderr, "rbhelper: reset: %s\n", strerror(errno));
		return 1;
	}
	close(fd);
	if (syscall(SYS_delete_module, mod, O_NONBLOCK)) {
		fprintf(stderr, "rbhelper: delete_module(%s): %s\n", mod,
			strerror(errno));
		return 1;
	}
	return rc;
}

/* ---- hex, rwrite -------------------------------------------------------- */

static int cmd_hex(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	size_t left = strtoull(argv[2], NULL, 0);
	uint64_t x = strtoull(argv[3], NULL, 0);
	static const char digits[] = "0123456789abcdef";
	char buf[65536];

	while (left) {
		size_t n = left < sizeof(buf) ? left : sizeof(buf);

		for (size_t i = 0; i < n; i += 16) {
			uint64_t z = (x += 0x9e3779b97f4a7c15ULL);

			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
			z ^= z >> 31;
			for (size_t j = 0; j < 16 && i + j < n; j++)
				buf[i + j] = digits[(z >> (4 * j)) & 15];
		}
		if (write_all(1, buf, n))
			die("write");
		left -= n;
	}
	return 0;
}

static int cmd_part(int argc, char **argv)
{
	if (argc < 5)
		return 2;
	long pages = strtol(argv[2], NULL, 0), rand = strtol(argv[3], NULL, 0);
	uint64_t x = strtoull(argv[4], NULL, 0);
	unsigned char buf[PAGE];

	if (pages < 0 || rand < 0 || rand > (long)PAGE)
		die("part: arguments");
	for (long p = 0; p < pages; p++) {
		memset(buf, 0, sizeof(buf));
		for (long i = 0; i < rand; i += 8) {
			uint64_t z = (x += 0x9e3779b97f4a7c15ULL);

			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
			z ^= z >> 31;
			memcpy(buf + i, &z, rand - i < 8 ? rand - i : 8);
		}
		if (write_all(1, buf, PAGE))
			die("write");
	}
	return 0;
}

static int cmd_splice(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	long every = strtol(argv[4], NULL, 0), phase = strtol(argv[5], NULL, 0);
	int dst = open(argv[2], O_RDWR), src = open(argv[3], O_RDONLY);
	struct stat ds;
	char buf[PAGE];

	if (dst < 0 || src < 0 || every < 1 || phase < 0 || fstat(dst, &ds))
		die("splice: open or arguments");
	for (long k = 0; (k * every + phase + 1) * (long)PAGE <= ds.st_size; k++) {
		if (pread(src, buf, PAGE, k * PAGE) != (ssize_t)PAGE)
			break;
		if (pwrite(dst, buf, PAGE, (k * every + phase) * PAGE) != (ssize_t)PAGE)
			die("splice: write");
	}
	return close(dst) ? 1 : 0;
}

static int cmd_discard(int argc, char **argv)
{
	if (argc < 6)
		return 2;
	long first = strtol(argv[3], NULL, 0), end = strtol(argv[4], NULL, 0);
	long step = strtol(argv[5], NULL, 0);
	int fd = open(argv[2], O_WRONLY);

	if (fd < 0 || first < 0 || step < 1)
		die("discard: open or arguments");
	for (long p = first; p < end; p += step) {
		uint64_t r[2] = { p * PAGE, PAGE };

		if (ioctl(fd, BLKDISCARD, r))
			die("discard: BLKDISCARD");
	}
	return 0;
}

static int cmd_rwrite(int argc, char **argv)
{
	if (argc < 7)
		return 2;
	long first = strtol(argv[4], NULL, 0), end = strtol(argv[5], NULL, 0);
	long chunk = strtol(argv[6], NULL, 0);
	int dev = open(argv[2], O_WRONLY | O_DIRECT);
	int src = open(argv[3], O_RDONLY);
	void *buf;

	if (dev < 0 || src < 0 || chunk < 1 || first < 0 || end < first)
		die("rwrite: open or arguments");
	if (posix_memalign(&buf, PAGE, chunk * PAGE))
		die("posix_memalign");
	for (long c = end; c > first;) {
		long n = c - first < chunk ? c - first : chunk;

		c -= n;
		if (pread(src, buf, n * PAGE, c * PAGE) != (ssize_t)(n * PAGE))
			die("rwrite: read FILE");
		if (pwrite(dev, buf, n * PAGE, c * PAGE) != (ssize_t)(n * PAGE))
			die("rwrite: write DEV");
	}
	return 0;
}

static int cmd_zerotails(int argc, char **argv)
{
	if (argc < 5)
		return 2;
	long n = strtol(argv[3], NULL, 0), tail = strtol(argv[4], NULL, 0);
	int fd = open(argv[2], O_RDONLY | O_DIRECT);
	unsigned char *buf;
	long zero = 0;

	if (fd < 0 || n < 0 || tail < 1 || tail > (long)PAGE)
		die("zerotails: open or arguments");
	if (posix_memalign((void **)&buf, PAGE, PAGE))
		die("posix_memalign");
	for (long b = 0; b < n; b++) {
		long i;

		if (pread(fd, buf, PAGE, b * PAGE) != (ssize_t)PAGE)
			die("zerotails: read");
		for (i = PAGE - tail; i < (long)PAGE && !buf[i]; i++)
			;
		zero += i == (long)PAGE;
	}
	printf("%ld\n", zero);
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 2;

	if (argc >= 2) {
		if (!strcmp(argv[1], "read"))
			rc = cmd_read(argc, argv);
		else if (!strcmp(argv[1], "hold"))
			rc = cmd_hold(argc, argv);
		else if (!strcmp(argv[1], "balloon"))
			rc = cmd_balloon(argc, argv);
		else if (!strcmp(argv[1], "gen"))
			rc = cmd_gen(argc, argv);
		else if (!strcmp(argv[1], "failnth"))
			rc = cmd_failnth(argc, argv);
		else if (!strcmp(argv[1], "wbsweep"))
			rc = cmd_wbsweep(argc, argv);
		else if (!strcmp(argv[1], "readrm"))
			rc = cmd_readrm(argc, argv);
		else if (!strcmp(argv[1], "hex"))
			rc = cmd_hex(argc, argv);
		else if (!strcmp(argv[1], "part"))
			rc = cmd_part(argc, argv);
		else if (!strcmp(argv[1], "splice"))
			rc = cmd_splice(argc, argv);
		else if (!strcmp(argv[1], "discard"))
			rc = cmd_discard(argc, argv);
		else if (!strcmp(argv[1], "rwrite"))
			rc = cmd_rwrite(argc, argv);
		else if (!strcmp(argv[1], "zerotails"))
			rc = cmd_zerotails(argc, argv);
	}
	if (rc == 2)
		fprintf(stderr, "usage: see the comment at the top of rbhelper.c\n");
	return rc;
}
