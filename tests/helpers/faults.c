// SPDX-License-Identifier: GPL-2.0
/*
 * faults: the fail-nth sweeps of rzram_fault_mem.sh, without a fork per
 * step (the guest is slow).  Built statically by scripts/mkinitramfs.sh
 * into /tests/helpers/faults.
 *
 * Each sweep makes, for N = 1, 2, ..., MAXN, the Nth fault-injection point
 * (failslab or fail_page_alloc, as the test configured them) of one system
 * call of this thread fail (/proc/self/task/TID/fail-nth, as rbhelper's
 * failnth), checks the state afterwards and stops at the first N that was
 * never reached (the call made fewer than N allocations).  Needs
 * ignore-gfp-wait=N and verbose=0 (rb.sh fi_on 0).  One line per N:
 *
 *	n=N ret=ok|ERRNO-NAME ok=1|0 why=TEXT
 *
 * ok=0 names the first broken rule in why=.  Then "end n=N" (the first N
 * not reached, with the check of that call, which ran with no failure) or
 * "end n=none" (MAXN reached), and
 *
 *	summary injected=I failed=F absorbed=A not_injected=S bad=B
 *
 * (F calls failed, A succeeded despite the failure, S points skipped, B
 * steps broke a rule).
 *
 * Points whose failure the kernel itself reports with a stack dump are not
 * injected: inside kmem_cache_create ("kmem_cache_create(NAME) failed with
 * error -12" and dump_stack) except in its alias lookup (sysfs_slab_alias:
 * a failure there is silent, the cache is created afresh), and inside
 * vmalloc (warn_alloc) except in the bulk page allocator (silent: vmalloc
 * falls back to single pages).  Before the sweep the call is made twice
 * without injection while the kprobe events of the tracefs instance
 * "faults" are armed (set up by the test): faults_fi at should_fail_ex
 * (one event per point, with its fault_attr and size) and entry/return
 * pairs faults_kc/kcr (__kmem_cache_create_args), faults_al/alr
 * (sysfs_slab_alias), faults_vm/vmr (__vmalloc_node_range_noprof) and
 * faults_bk/bkr (alloc_pages_bulk_noprof); only the events between the
 * marks "faults-begin" and "faults-end" (trace_marker) count, not those of
 * the writes that arm and disarm the kprobes.  A point is noisy if it falls
 * in such a region; the sweep skips every N within MARGIN (env
 * FAULTS_MARGIN, default 4) of a noisy point of either profile (the
 * sequences differ a little from one call to the next).  With CAP > 0 at
 * most CAP of the other points are injected, every k-th.  The profiles
 * print "profileK points=P in_kmem_cache_create=K in_vmalloc=V rejected=R"
 * (R: see FAULTS_KC_REJECTED below).  With
 * CAP < 0 only the points before the first skipped one are injected
 * (prefix mode; last line "end prefix n=K").
 *
 *   faults disksize SYSDIR DEV BACKING|none MAXN CAP
 *	The call: writing "1M" to SYSDIR/disksize (with BACKING written to
 *	SYSDIR/backing_dev first, unless "none").  Rules: a failure is ENOMEM
 *	and leaves initstate 0 and disksize 0; then a write without injection
 *	succeeds; either way the device then stores and reads back two pages
 *	(random, compressible) and, with BACKING, writes page 0 back
 *	(bd_count 1) and reads it back; reset leaves initstate 0.
 *
 *   faults backing SYSDIR DEV BACKING MAXN CAP
 *	The call: writing BACKING to SYSDIR/backing_dev.  Rules: a failure is
 *	ENOMEM and leaves backing_dev "none", and a write without injection
 *	succeeds (the device was not left held); backing_dev then reads
 *	BACKING; reset leaves it "none".  Without injection (the profiles, the
 *	last call) also: disksize 1M, one page written back (bd_count 1) and
 *	read back.
 *
 *   faults hotadd CTLDIR PREFIX MAXN CAP
 *	The call: reading CTLDIR/hot_add.  Rules: a failure is ENOMEM and
 *	leaves no new /sys/block/PREFIX<id>, and a read without injection then
 *	returns the lowest free id; the new device takes disksize 1M, stores
 *	and reads back two pages, resets; hot_remove removes it.
 *
 *   faults write DEV SYSDIR random|compressible MAXN CAP [allfail]
 *	DEV (initialised, at least 64 pages) is filled with 64 pages (kinds
 *	by page % 4: random, same-filled, zero, random); for each N page 5
 *	becomes a same-filled page (freeing its object, so its size class
 *	may become empty), and the call is one 4 KiB O_DIRECT pwrite of a new
 *	page of the given kind (different each time) at page 5.  Rules: a
 *	failure is EIO or ENOMEM; afterwards all 64 pages read back as
 *	expected (page 5: the new page if the write succeeded, the old one if
 *	it failed); io_stat's failed_writes counts the failed writes exactly;
 *	after a failure the write succeeds without injection and all 64 pages
 *	read back.  "verified=P failed_writes=F": pages compared.
 *	With "allfail": no sweep; MAXN such writes with /proc/self/make-it-fail
 *	set around the pwrite (the test sets probability 100 and task-filter,
 *	so every allocation of the write fails); each must fail.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define PAGE 4096
#define MAXPTS 4096
#define TRACE "/sys/kernel/tracing/instances/"
#define EVENT "events/kprobes/faults_fi/"

static void die(const char *what)
{
	fprintf(stderr, "faults: %s: %s\n", what, strerror(errno));
	exit(1);
}

static const char *ename(int e) { return e ? strerrorname_np(e) : "ok"; }

/* ---- small file helpers ------------------------------------------------ */

/* write TEXT to PATH; 0 or the errno */
static int put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);

	if (fd < 0)
		return errno;
	ssize_t r = write(fd, text, strlen(text));
	int e = r < 0 ? errno : 0;

	close(fd);
	return e;
}

static int putf(const char *dir, const char *name, const char *text)
{
	char p[512];

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return put(p, text);
}

/* read PATH into BUF (NUL-terminated, trailing newline cut); 0 or errno */
static int get(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return errno;
	ssize_t n = read(fd, buf, len - 1);
	int e = n < 0 ? errno : 0;

	close(fd);
	if (n < 0)
		n = 0;
	buf[n] = 0;
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	return e;
}

static long getfield(const char *dir, const char *name, int field)
{
	char p[512], buf[512], *s = buf, *end;
	long v = -1;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	if (get(p, buf, sizeof(buf)))
		return -1;
	for (int i = 1; i <= field; i++) {
		v = strtol(s, &end, 10);
		if (end == s)
			return -1;
		s = end;
	}
	return v;
}

/* ---- fail-nth and the traces ------------------------------------------- */

static int fn_fd = -1;
static long tid;

static void fn_init(void)
{
	char p[64];

	tid = syscall(SYS_gettid);
	snprintf(p, sizeof(p), "/proc/self/task/%ld/fail-nth", tid);
	fn_fd = open(p, O_RDWR);
	if (fn_fd < 0)
		die(p);
	/* the filters of both instances: this thread only */
	char f[64];

	snprintf(f, sizeof(f), "common_pid == %ld", tid);
	if (put(TRACE "faults/events/kprobes/filter", f)) {
		errno = EIO;
		die("set the trace filters");
	}
}

static void fn_arm(long n)
{
	char b[32];

	snprintf(b, sizeof(b), "%ld", n);
	if (pwrite(fn_fd, b, strlen(b), 0) != (ssize_t)strlen(b))
		die("arm fail-nth");
}

/* disarm; 1 if the injection was reached */
static int fn_disarm(void)
{
	char b[32];
	ssize_t m = pread(fn_fd, b, sizeof(b) - 1, 0);

	if (m <= 0)
		die("read fail-nth");
	b[m] = 0;
	if (pwrite(fn_fd, "0", 1, 0) != 1)
		die("disarm fail-nth");
	return atoi(b) == 0;
}

struct point {
	unsigned long attr, size;
	char noisy;		/* 'k' kmem_cache_create, 'v' vmalloc, 0 */
	char site[120];
};

struct trace {
	int n;
	int rejected;	/* points left out (FAULTS_KC_REJECTED) */
	struct point p[MAXPTS];
};

static struct trace profile;

/* The kprobe events (set up by the test, group "kprobes", in the tracefs
 * instance "faults"): faults_fi at should_fail_ex (one per point), and a
 * pair (entry, return) for each region whose points are noisy or not:
 * faults_kc/faults_kcr __kmem_cache_create_args, faults_al/faults_alr
 * sysfs_slab_alias, faults_vm/faults_vmr __vmalloc_node_range_noprof,
 * faults_bk/faults_bkr alloc_pages_bulk_noprof.  They are armed only while
 * a profile is taken (an armed kprobe traps on every allocation). */
static void trace_on(void)
{
	int fd = open(TRACE "faults/trace", O_WRONLY | O_TRUNC);

	if (fd < 0)
		die("clear the trace");
	close(fd);
	if (put(TRACE "faults/events/kprobes/enable", "1")) {
		errno = EIO;
		die("enable the kprobes");
	}
}

/* marks in the trace around the call: the writes that arm and disarm
 * the kprobes allocate too, and those points are not the call's */
static void trace_mark(const char *m)
{
	if (put(TRACE "faults/trace_marker", m)) {
		errno = EIO;
		die("write trace_marker");
	}
}

static void trace_off(void)
{
	if (put(TRACE "faults/events/kprobes/enable", "0")) {
		errno = EIO;
		die("disable the kprobes");
	}
}

/*
 * FAULTS_KC_REJECTED=1: the test set failslab's stack-trace filter
 * (reject-start/reject-end, CONFIG_FAULT_INJECTION_STACKTRACE_FILTER) to
 * __kmem_cache_create_args, so the kernel neither fails nor counts (for
 * fail-nth) a point inside kmem_cache_create: those points are left out of
 * the profiles, and the points around them need no margin, because no N
 * can land inside.
 */
static int kc_rejected;

/* read back the trace: this thread's in-task points, in order */
static void trace_read(struct trace *t)
{
	char line[1024];
	FILE *f = fopen(TRACE "faults/trace", "r");
	int kc = 0, al = 0, vm = 0, bk = 0, in_call = 0;

	if (!f)
		die("read the trace");
	t->n = 0;
	t->rejected = 0;
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		if (strstr(line, "tracing_mark_write: faults-begin"))
			in_call = 1;
		if (strstr(line, "tracing_mark_write: faults-end"))
			in_call = 0;
		char *ev = strstr(line, ": faults_");

		if (!ev || !in_call)
			continue;
		ev += 9;
		/* the flags: the token after "] "; in_task() is false in hard
		 * and soft interrupts (h, H, s, z in the third column).  The
		 * kprobe is an int3, whose handler runs as an NMI: its events
		 * show 'Z' (NMI) where the task was not in an interrupt, 'z'
		 * in a hard interrupt (a soft interrupt is not shown then). */
		char *br = strstr(line, "] ");
		int task = br && br[2] && br[3] && br[4] &&
			   (br[4] == '.' || br[4] == 'b' || br[4] == 'Z');

		if (!task)
			continue;
		if (!strncmp(ev, "kc:", 3)) kc++;
		else if (!strncmp(ev, "kcr:", 4)) kc -= kc > 0;
		else if (!strncmp(ev, "al:", 3)) al++;
		else if (!strncmp(ev, "alr:", 4)) al -= al > 0;
		else if (!strncmp(ev, "vm:", 3)) vm++;
		else if (!strncmp(ev, "vmr:", 4)) vm -= vm > 0;
		else if (!strncmp(ev, "bk:", 3)) bk++;
		else if (!strncmp(ev, "bkr:", 4)) bk -= bk > 0;
		else if (!strncmp(ev, "fi:", 3) && kc && kc_rejected) {
			/* the kernel's filter does not count it (above) */
			t->rejected++;
			continue;
		} else if (!strncmp(ev, "fi:", 3) && t->n < MAXPTS) {
			struct point *cur = &t->p[t->n++];
			char *a = strstr(ev, "attr="), *z = strstr(ev, "size=");

			memset(cur, 0, sizeof(*cur));
			cur->attr = a ? strtoul(a + 5, NULL, 0) : 0;
			cur->size = z ? strtoul(z + 5, NULL, 0) : 0;
			if (kc && !al)
				cur->noisy = 'k';
			else if (vm && !bk)
				cur->noisy = 'v';
			strcpy(cur->site, kc ? (al ? "kmem_cache_create/alias" : "kmem_cache_create") :
					  vm ? (bk ? "vmalloc/bulk" : "vmalloc") : "-");
		}
	}
	fclose(f);
}

/* ---- the sweep skeleton ------------------------------------------------ */

/* an operation: prepare() before each call (state for the call), call()
 * the system call (0 or errno; armed around it), check() the state after
 * it (NULL or what broke) */
struct op {
	void (*prepare)(void);
	int (*call)(void);
	const char *(*check)(int err, int injected);
	void (*summary)(void);
};

static int stat_injected, stat_failed, stat_skipped, stat_bad, stat_absorbed;
static struct trace prof2;
static char skip[MAXPTS + 1];

static void take_profile(const struct op *op, struct trace *t, const char *name)
{
	op->prepare();
	trace_on();
	trace_mark("faults-begin");
	int e = op->call();

	trace_mark("faults-end");
	trace_off();
	trace_read(t);
	const char *why = op->check(e, 0);
	int k = 0, v = 0;

	for (int i = 0; i < t->n; i++) {
		k += t->p[i].noisy == 'k';
		v += t->p[i].noisy == 'v';
	}
	printf("%s points=%d in_kmem_cache_create=%d in_vmalloc=%d rejected=%d ret=%s check=%s\n",
	       name, t->n, k, v, t->rejected, ename(e), why ? why : "ok");
	if (why)
		stat_bad++;
}

/* MAXN: the bound; CAP: at most this many injections (0: no cap), spread
 * evenly over the profile's points; MARGIN: points this close to a noisy
 * one (in either profile) are not injected either (the sequence of points
 * is not exactly the same from one call to the next) */
static void sweep(const struct op *op, long maxn, long cap, int margin)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	fn_init();
	take_profile(op, &profile, "profile1");
	take_profile(op, &prof2, "profile2");
	int diff = profile.n != prof2.n;

	for (int i = 0; !diff && i < profile.n; i++)
		diff = profile.p[i].attr != prof2.p[i].attr || profile.p[i].size != prof2.p[i].size;
	int npts = profile.n > prof2.n ? profile.n : prof2.n, eligible = 0;

	for (int i = 1; i <= npts; i++) {
		skip[i] = 0;
		for (int j = i - margin; j <= i + margin; j++) {
			if (j < 1)
				continue;
			if ((j <= profile.n && profile.p[j - 1].noisy) ||
			    (j <= prof2.n && prof2.p[j - 1].noisy))
				skip[i] = 1;
		}
		eligible += !skip[i];
	}
	long stride = cap > 0 && eligible > cap ? (eligible + cap - 1) / cap : 1;
	long first_noisy = 0;

	for (int i = 1; i <= npts && !first_noisy; i++)
		if (skip[i])
			first_noisy = i;
	if (cap < 0) {
		/* prefix mode: only the points before the first noisy one */
		maxn = first_noisy ? first_noisy - 1 : maxn;
		printf("prefix: points 1..%ld (the first noisy point, less the margin, is %ld)\n",
		       maxn, first_noisy);
	}

	printf("profiles %s; points %d, not injected (noisy or within %d of one) %d, "
	       "eligible %d, injecting every %ld%s\n",
	       diff ? "differ" : "equal", npts, margin, npts - eligible, eligible, stride,
	       stride > 1 ? " (capped)" : "");
	long nth = 0;

	for (long n = 1; n <= maxn; n++) {
		if (n <= npts && skip[n]) {
			stat_skipped++;
			continue;
		}
		if (nth++ % stride)
			continue;
		op->prepare();
		fn_arm(n);
		int e = op->call();
		int reached = fn_disarm();
		const char *why;

		if (!reached) {
			why = op->check(e, 0);
			printf("end n=%ld ret=%s check=%s\n", n, ename(e), why ? why : "ok");
			if (why)
				stat_bad++;
			goto out;
		}
		stat_injected++;
		if (e)
			stat_failed++;
		else
			stat_absorbed++;
		why = op->check(e, 1);
		if (why)
			stat_bad++;
		printf("n=%ld ret=%s ok=%d why=%s\n", n, ename(e), !why, why ? why : "-");
	}
	printf(cap < 0 ? "end prefix n=%ld\n" : "end n=none\n", maxn);
out:
	if (op->summary)
		op->summary();
	printf("summary injected=%d failed=%d absorbed=%d not_injected=%d bad=%d\n",
	       stat_injected, stat_failed, stat_absorbed, stat_skipped, stat_bad);
}

/* ---- page contents ------------------------------------------------------ */

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* kind 0 random, 1 compressible (32 random words then a pattern),
 * 2 same-filled, 3 zero */
static void fill(void *pg, int kind, uint64_t seed)
{
	uint64_t *w = pg;

	for (int i = 0; i < PAGE / 8; i++)
		switch (kind) {
		case 0: w[i] = mix(seed * 1000003 + i); break;
		case 1: w[i] = i < 32 ? mix(seed * 1000003 + i) : (seed << 16) ^ (i & 7); break;
		case 2: w[i] = mix(seed) | 1; break;
		default: w[i] = 0;
		}
}

static char *iobuf(size_t len)
{
	void *p;

	if (posix_memalign(&p, PAGE, len))
		die("memory");
	return p;
}

/* write a page of KIND (SEED) at page IDX of fd; read it back; 0 if it
 * matches */
static int page_rw(int fd, long idx, int kind, uint64_t seed)
{
	static char *a, *b;

	if (!a) {
		a = iobuf(PAGE);
		b = iobuf(PAGE);
	}
	fill(a, kind, seed);
	if (pwrite(fd, a, PAGE, idx * PAGE) != PAGE)
		return 1;
	if (pread(fd, b, PAGE, idx * PAGE) != PAGE)
		return 2;
	return memcmp(a, b, PAGE) ? 3 : 0;
}

static int page_is(int fd, long idx, int kind, uint64_t seed)
{
	static char *a, *b;

	if (!a) {
		a = iobuf(PAGE);
		b = iobuf(PAGE);
	}
	fill(a, kind, seed);
	if (pread(fd, b, PAGE, idx * PAGE) != PAGE)
		return 0;
	return !memcmp(a, b, PAGE);
}

/* ---- disksize and backing_dev ------------------------------------------- */

static const char *g_sys, *g_dev, *g_backing;
static int g_fd = -1;
static char g_path[512];
static uint64_t g_seed = 1;

/* the device works: two pages stored and read back; with a backing
 * device, page 0 written back and read back */
static const char *works(void)
{
	int fd = open(g_dev, O_RDWR | O_DIRECT);
	const char *why = NULL;

	if (fd < 0)
		return "open the device";
	g_seed++;
	if (page_rw(fd, 0, 0, g_seed) || page_rw(fd, 1, 1, g_seed))
		why = "pages do not read back";
	else if (g_backing) {
		int e = putf(g_sys, "writeback", "page_index=0");

		if (e)
			why = "writeback page_index=0 failed";
		else if (getfield(g_sys, "bd_stat", 1) != 1)
			why = "bd_count is not 1 after writing back one page";
		else if (!page_is(fd, 0, 0, g_seed))
			why = "the written-back page does not read back";
	}
	close(fd);
	return why;
}

static const char *reset_dev(void)
{
	char b[64];

	if (putf(g_sys, "reset", "1"))
		return "reset failed";
	snprintf(g_path, sizeof(g_path), "%s/initstate", g_sys);
	if (get(g_path, b, sizeof(b)) || strcmp(b, "0"))
		return "initstate is not 0 after reset";
	return NULL;
}

static void ds_prepare(void)
{
	if (g_backing && putf(g_sys, "backing_dev", g_backing)) {
		fprintf(stderr, "faults: cannot set backing_dev %s\n", g_backing);
		exit(1);
	}
	snprintf(g_path, sizeof(g_path), "%s/disksize", g_sys);
	g_fd = open(g_path, O_WRONLY);
	if (g_fd < 0)
		die(g_path);
}

static int ds_call(void)
{
	ssize_t r = write(g_fd, "1M", 2);
	int e = r < 0 ? errno : 0;

	close(g_fd);
	return e;
}

static const char *ds_check(int err, int injected)
{
	char b[64];
	const char *why;

	snprintf(g_path, sizeof(g_path), "%s/initstate", g_sys);
	get(g_path, b, sizeof(b));
	if (strcmp(b, err ? "0" : "1"))
		return err ? "initstate is not 0 after a failed disksize" :
			     "initstate is not 1 after disksize succeeded";
	if (err) {
		snprintf(g_path, sizeof(g_path), "%s/disksize", g_sys);
		get(g_path, b, sizeof(b));
		if (strcmp(b, "0"))
			return "disksize is not 0 after a failed write";
		if (err != ENOMEM)
			return "a failed disksize is not ENOMEM";
		if (putf(g_sys, "disksize", "1M"))
			return "disksize without injection failed after a failed one";
	}
	why = works();
	const char *r = reset_dev();

	return why ? why : r;
}

static void bk_prepare(void)
{
	snprintf(g_path, sizeof(g_path), "%s/backing_dev", g_sys);
	g_fd = open(g_path, O_WRONLY);
	if (g_fd < 0)
		die(g_path);
}

static int bk_call(void)
{
	ssize_t r = write(g_fd, g_backing, strlen(g_backing));
	int e = r < 0 ? errno : 0;

	close(g_fd);
	return e;
}

static const char *bk_check(int err, int injected)
{
	char b[512];
	const char *why;

	snprintf(g_path, sizeof(g_path), "%s/backing_dev", g_sys);
	get(g_path, b, sizeof(b));
	if (err) {
		if (strcmp(b, "none"))
			return "backing_dev is not none after a failed write";
		if (err != ENOMEM)
			return "a failed backing_dev is not ENOMEM";
		int e = putf(g_sys, "backing_dev", g_backing);

		if (e)
			return e == EBUSY ? "backing_dev without injection: EBUSY (device left held)" :
					    "backing_dev without injection failed after a failed one";
		get(g_path, b, sizeof(b));
	}
	if (strcmp(b, g_backing))
		return "backing_dev does not read back the device";
	if (injected) {
		/* released by reset (both drivers), then usable again */
		why = reset_dev();
		snprintf(g_path, sizeof(g_path), "%s/backing_dev", g_sys);
		get(g_path, b, sizeof(b));
		if (!why && strcmp(b, "none"))
			why = "backing_dev is not none after reset";
		return why;
	}
	/* not injected (the profiles, the last call): the device works */
	if (putf(g_sys, "disksize", "1M"))
		return "disksize failed after backing_dev";
	why = works();
	const char *r = reset_dev();

	return why ? why : r;
}

/* ---- hot_add ------------------------------------------------------------ */

static const char *g_ctl, *g_prefix;
static int g_hotadd_ok = 0;

static int dev_exists(long id)
{
	char p[256];
	struct stat st;

	snprintf(p, sizeof(p), "/sys/block/%s%ld", g_prefix, id);
	return stat(p, &st) == 0;
}

static long lowest_free(void)
{
	long id = 0;

	while (dev_exists(id))
		id++;
	return id;
}

static long g_expect, g_id;
static char g_out[64];

static void ha_prepare(void)
{
	g_expect = lowest_free();
	snprintf(g_path, sizeof(g_path), "%s/hot_add", g_ctl);
	g_fd = open(g_path, O_RDONLY);
	if (g_fd < 0)
		die(g_path);
}

static int ha_call(void)
{
	ssize_t r = read(g_fd, g_out, sizeof(g_out) - 1);
	int e = r < 0 ? errno : 0;

	close(g_fd);
	g_out[r > 0 ? r : 0] = 0;
	return e;
}

static const char *hot_remove(long id)
{
	char b[32];

	snprintf(b, sizeof(b), "%ld", id);
	if (putf(g_ctl, "hot_remove", b))
		return "hot_remove failed";
	if (dev_exists(id))
		return "the device is still there after hot_remove";
	return NULL;
}

/*
 * A failed hot_add is ENOMEM, except at one point: 6.12's device_add_disk
 * (block/genhd.c) ignores the failure of dev_set_name(ddev, ...), and
 * device_add then fails with EINVAL for the device without a name (zram's
 * hot_add returns that EINVAL too).  So EINVAL at most once a sweep.
 */
static int ha_einval;

static const char *ha_check(int err, int injected)
{
	static char sys[128], dev[128];
	const char *why;

	(void)injected;
	if (err) {
		if (err == EINVAL && ha_einval++)
			return "a failed hot_add is EINVAL more than once (one dev_set_name)";
		if (err != ENOMEM && err != EINVAL)
			return "a failed hot_add is not ENOMEM";
		if (dev_exists(g_expect))
			return "a failed hot_add left a device";
		ha_prepare();
		if (ha_call())
			return "hot_add without injection failed after a failed one";
	}
	g_id = strtol(g_out, NULL, 10);
	if (g_id != g_expect)
		return "hot_add did not return the lowest free id";
	if (!dev_exists(g_id))
		return "no /sys/block entry for the new device";
	snprintf(sys, sizeof(sys), "/sys/block/%s%ld", g_prefix, g_id);
	snprintf(dev, sizeof(dev), "/dev/%s%ld", g_prefix, g_id);
	g_sys = sys;
	g_dev = dev;
	g_backing = NULL;
	if (putf(sys, "disksize", "1M"))
		why = "disksize of the new device failed";
	else
		why = works();
	const char *r = reset_dev();

	if (!why)
		why = r;
	r = hot_remove(g_id);
	g_hotadd_ok++;
	return why ? why : r;
}

/* ---- the front-end write path ------------------------------------------- */

#define NPG 64
#define TARGET 5

static int w_kind;
static int w_fd = -1;
static char *w_img, *w_new, *w_rd;
static long w_failed, w_verified, w_fw0;
static uint64_t w_seed = 100;

static int img_kind(int i) { return (int[]){ 0, 2, 3, 0 }[i % 4]; }

static const char *verify_all(void)
{
	if (pread(w_fd, w_rd, NPG * PAGE, 0) != NPG * PAGE)
		return "reading the device back failed";
	w_verified += NPG;
	for (int i = 0; i < NPG; i++)
		if (memcmp(w_rd + i * PAGE, w_img + i * PAGE, PAGE))
			return i == TARGET ? "the page written reads back wrong" :
					     "another page changed";
	return NULL;
}

static void w_prepare(void)
{
	/* the target becomes same-filled: its old object is freed */
	fill(w_img + TARGET * PAGE, 2, ++w_seed);
	if (pwrite(w_fd, w_img + TARGET * PAGE, PAGE, TARGET * PAGE) != PAGE)
		die("prepare write");
	fill(w_new, w_kind, ++w_seed);
}

static int w_call(void)
{
	ssize_t r = pwrite(w_fd, w_new, PAGE, TARGET * PAGE);

	return r == PAGE ? 0 : r < 0 ? errno : EIO;
}

static const char *w_check(int err, int injected)
{
	const char *why;

	(void)injected;
	if (err) {
		w_failed++;
		if (err != EIO && err != ENOMEM)
			return "a failed write is not EIO or ENOMEM";
	} else {
		memcpy(w_img + TARGET * PAGE, w_new, PAGE);
	}
	why = verify_all();
	if (why)
		return why;
	if (getfield(g_sys, "io_stat", 2) != w_fw0 + w_failed)
		return "io_stat failed_writes is not the number of failed writes";
	if (err) {
		if (w_call())
			return "the write without injection failed after a failed one";
		memcpy(w_img + TARGET * PAGE, w_new, PAGE);
		why = verify_all();
	}
	return why;
}

/* make-it-fail through an fd opened beforehand (as rbhelper.c) */
static int mif_fd = -1;

static void make_it_fail(int on)
{
	if (mif_fd < 0) {
		mif_fd = open("/proc/self/make-it-fail", O_WRONLY);
		if (mif_fd < 0)
			die("open /proc/self/make-it-fail");
	}
	for (int i = 0; i < 1000; i++)
		if (pwrite(mif_fd, on ? "1" : "0", 1, 0) == 1)
			return;
	die("write /proc/self/make-it-fail");
}

/* ALL calls with every allocation failing (make-it-fail; the test sets
 * probability 100 with task-filter) */
static void w_allfail(int all)
{
	for (int i = 0; i < all; i++) {
		w_prepare();
		make_it_fail(1);
		int e = w_call();

		make_it_fail(0);
		const char *why = w_check(e, 1);

		if (!e)
			why = why ? why : "the write succeeded with every allocation failing";
		if (why)
			stat_bad++;
		printf("allfail %d ret=%s ok=%d why=%s\n", i + 1, ename(e), !why, why ? why : "-");
	}
}

static void w_summary(void)
{
	printf("verified=%ld failed_writes=%ld\n", w_verified,
	       getfield(g_sys, "io_stat", 2) - w_fw0);
}

int main(int argc, char **argv)
{
	const char *m = getenv("FAULTS_MARGIN"), *r = getenv("FAULTS_KC_REJECTED");
	int margin = m ? atoi(m) : 4;

	kc_rejected = r && !strcmp(r, "1");

	if (argc >= 7 && !strcmp(argv[1], "disksize")) {
		g_sys = argv[2];
		g_dev = argv[3];
		g_backing = strcmp(argv[4], "none") ? argv[4] : NULL;
		sweep(&(struct op){ ds_prepare, ds_call, ds_check, NULL }, atol(argv[5]),
		      atol(argv[6]), margin);
		return 0;
	}
	if (argc >= 7 && !strcmp(argv[1], "backing")) {
		g_sys = argv[2];
		g_dev = argv[3];
		g_backing = argv[4];
		sweep(&(struct op){ bk_prepare, bk_call, bk_check, NULL }, atol(argv[5]),
		      atol(argv[6]), margin);
		return 0;
	}
	if (argc >= 6 && !strcmp(argv[1], "hotadd")) {
		g_ctl = argv[2];
		g_prefix = argv[3];
		sweep(&(struct op){ ha_prepare, ha_call, ha_check, NULL }, atol(argv[4]),
		      atol(argv[5]), margin);
		return 0;
	}
	if (argc >= 7 && !strcmp(argv[1], "write")) {
		g_dev = argv[2];
		g_sys = argv[3];
		w_kind = !strcmp(argv[4], "random") ? 0 : 1;
		w_fd = open(g_dev, O_RDWR | O_DIRECT);
		if (w_fd < 0)
			die(g_dev);
		w_img = iobuf(NPG * PAGE);
		w_new = iobuf(PAGE);
		w_rd = iobuf(NPG * PAGE);
		for (int i = 0; i < NPG; i++)
			fill(w_img + i * PAGE, img_kind(i), i + 1);
		if (pwrite(w_fd, w_img, NPG * PAGE, 0) != NPG * PAGE)
			die("fill");
		w_fw0 = getfield(g_sys, "io_stat", 2);
		if (argc >= 8 && !strcmp(argv[7], "allfail")) {
			setvbuf(stdout, NULL, _IOLBF, 0);
			w_allfail(atoi(argv[5]));
			w_summary();
			printf("summary bad=%d\n", stat_bad);
			return 0;
		}
		sweep(&(struct op){ w_prepare, w_call, w_check, w_summary }, atol(argv[5]),
		      atol(argv[6]), margin);
		return 0;
	}
	fprintf(stderr, "usage: see the comment at the top of faults.c\n");
	return 2;
}
