// SPDX-License-Identifier: GPL-2.0
/*
 * stress: the content checkers of rzram_stress.sh.  Built statically by
 * scripts/mkinitramfs.sh into /tests/helpers/stress.
 *
 * Every page a checker writes is stamped: page I of generation G (G > 0;
 * generation 0 is a zero page: never written, or discarded) is, by a hash
 * of (SEED, I, G), one of
 *	random        a header (magic, I, G, SEED) then random words: stored
 *	              raw by the driver (huge)
 *	compressible  the header, 12 random words, then one repeated word
 *	same-filled   one nonzero word repeated (no header)
 *	zero          all zero (no header)
 * so a page read back is compared word for word with what the checker
 * last wrote there, and a wrong page with a header says which page and
 * generation it really is (stale data, another page's block, ...).
 *
 *   stress check DEV FIRST PAGES PROCS SECS SEED STATE
 *	PROCS processes each own PAGES/PROCS consecutive pages of DEV from
 *	page FIRST on.  Each writes all its pages once, then for SECS
 *	seconds, at random, with O_DIRECT: writes a run of 1..32 pages with
 *	a new generation (one pwrite; every other time read back at once),
 *	reads a run of 1..64 pages (one pread) and checks it, discards a
 *	run of 1..16 pages (BLKDISCARD) and checks that it reads back as
 *	zeroes, or (one time in 200) reads and checks all its pages.  At the end each
 *	process writes what it knows (the generation of each page) to
 *	STATE.N and prints
 *	  checker N: pages=P writes=W reads=R discards=D passes=F verified=V bad=B
 *	then the parent prints the sums as
 *	  total: writes=W reads=R discards=D verified=V bad=B
 *	(V counts pages read and compared).  Each wrong page is described on
 *	stderr (at most 20 per process).  Exit 0 only if no page was wrong
 *	and no I/O failed.
 *
 *   stress verify DEV FIRST PAGES PROCS SEED STATE
 *	Reads the pages of a "check" run (O_DIRECT, 64 pages per pread) and
 *	compares each with what STATE.N says it holds:
 *	  verified=N bad=B first_bad=I     (I: device page, -1 if none)
 *
 *   stress cycle SYSDIR TOKEN DEV1 IMG1 DEV2 IMG2
 *	One cycle's I/O for rzram_dev_cycles.sh, in one process (a process
 *	costs about a second in the debug guest): writes file IMG1 to DEV1
 *	and IMG2 to DEV2 (one O_DIRECT pwrite each), writes TOKEN to
 *	SYSDIR/writeback (SYSDIR: DEV1's sysfs directory), reads SYSDIR's
 *	bd_stat, reads both devices back (one O_DIRECT pread each), compares
 *	them with the files and reads bd_stat again.  Prints
 *	  wb=RESULT bd=C R W content=ok|bad bd=C R W
 *	(RESULT: ok or the errno name of the writeback; content: bad names
 *	the first device and byte that differ).
 *
 *   stress mem PAGES SEED
 *	Maps PAGES anonymous pages and fills page I with generation 1 (the
 *	generation table itself is mlocked), prints "filled pages=PAGES",
 *	then reads commands on stdin, one a line, and answers each on
 *	stdout:
 *	  pageout    MADV_PAGEOUT the whole mapping:
 *	             "swap_kib=N rss_kib=M" (VmSwap, VmRSS)
 *	  loop SECS  passes over all pages until SECS seconds have gone by
 *	             (at least one pass): each page is compared with what it
 *	             should hold, and one page in 8 (a different eighth each
 *	             pass) is then rewritten with a new generation:
 *	             "passes=P verified=V rewritten=W bad=B first_bad=I"
 *	  verify     compare every page: "verified=N bad=B first_bad=I"
 *	  quit       exit 0
 *	SIGBUS (a failed swap-in) or any other fatal signal ends it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL
#define WORDS (PAGE / 8)
#define MAGIC 0x727a72616d535452ULL /* "rzramSTR" */
#define MAX_RUN 64
#define MAX_REPORTS 20

enum kind { RANDOM, COMPRESSIBLE, SAME, ZERO };
static const char *const kind_name[] = { "random", "compressible", "same-filled", "zero" };

static void die(const char *what)
{
	fprintf(stderr, "stress: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t page_base(uint64_t seed, uint64_t idx, uint64_t gen)
{
	return mix(mix(seed ^ (idx << 1)) ^ gen);
}

static enum kind page_kind(uint64_t seed, uint64_t idx, uint64_t gen)
{
	if (gen == 0)
		return ZERO;
	switch (page_base(seed, idx, gen) % 8) {
	case 0: case 1: case 2: case 3:
		return RANDOM;
	case 4: case 5:
		return COMPRESSIBLE;
	case 6:
		return SAME;
	default:
		return ZERO;
	}
}

/* fill p with page idx of generation gen */
static void fill(uint64_t *p, uint64_t seed, uint64_t idx, uint64_t gen)
{
	uint64_t base = page_base(seed, idx, gen);
	enum kind k = page_kind(seed, idx, gen);

	if (k == ZERO) {
		memset(p, 0, PAGE);
		return;
	}
	if (k == SAME) {
		for (size_t w = 0; w < WORDS; w++)
			p[w] = mix(base) | 1;
		return;
	}
	p[0] = MAGIC;
	p[1] = idx;
	p[2] = gen;
	p[3] = seed;
	for (size_t w = 4; w < WORDS; w++)
		p[w] = (k == RANDOM || w < 16) ? mix(base ^ w) : (idx << 32 | (gen & 0xffffffff));
}

/* 1 if p is page idx of generation gen, else 0 (described on stderr) */
static int page_ok(const uint64_t *p, uint64_t seed, uint64_t idx, uint64_t gen,
		   const char *who, int *reports)
{
	static uint64_t want[WORDS];
	size_t w;

	fill(want, seed, idx, gen);
	if (!memcmp(p, want, PAGE))
		return 1;
	if (*reports < MAX_REPORTS) {
		for (w = 0; w < WORDS && p[w] == want[w]; w++)
			;
		fprintf(stderr, "%s: page %" PRIu64 " should be generation %" PRIu64
			" (%s); word %zu is %016" PRIx64 " not %016" PRIx64,
			who, idx, gen, kind_name[page_kind(seed, idx, gen)], w, p[w], want[w]);
		if (p[0] == MAGIC)
			fprintf(stderr, "; it holds page %" PRIu64 " generation %" PRIu64
				" of seed %" PRIu64, p[1], p[2], p[3]);
		else
			fprintf(stderr, "; first words %016" PRIx64 " %016" PRIx64, p[0], p[1]);
		fputc('\n', stderr);
		(*reports)++;
	}
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t rnd_state;
static uint64_t rnd(void)
{
	rnd_state = mix(rnd_state);
	return rnd_state;
}

/* ---- check / verify -------------------------------------------------- */

struct region {
	int fd;
	uint64_t seed;
	uint64_t first;		/* device page of gen[0] */
	uint64_t pages;
	uint32_t *gen;
	uint64_t *buf;		/* MAX_RUN pages, aligned */
	char who[32];
	int reports;
	uint64_t verified, bad, first_bad;
};

/* read pages [start, start + n) of the region and check them */
static int read_check(struct region *r, uint64_t start, uint64_t n)
{
	ssize_t len = n * PAGE;
	ssize_t got = pread(r->fd, r->buf, len, (r->first + start) * PAGE);

	if (got != len) {
		fprintf(stderr, "%s: read of pages %" PRIu64 "..%" PRIu64 ": %s\n", r->who,
			r->first + start, r->first + start + n - 1,
			got < 0 ? strerror(errno) : "short read");
		return -1;
	}
	for (uint64_t i = 0; i < n; i++) {
		uint64_t idx = r->first + start + i;

		r->verified++;
		if (!page_ok(r->buf + i * WORDS, r->seed, idx, r->gen[start + i], r->who,
			     &r->reports)) {
			if (!r->bad)
				r->first_bad = idx;
			r->bad++;
		}
	}
	return 0;
}

static int write_run(struct region *r, uint64_t start, uint64_t n, uint32_t gen)
{
	ssize_t len = n * PAGE;

	for (uint64_t i = 0; i < n; i++)
		fill(r->buf + i * WORDS, r->seed, r->first + start + i, gen);
	ssize_t put = pwrite(r->fd, r->buf, len, (r->first + start) * PAGE);

	if (put != len) {
		fprintf(stderr, "%s: write of pages %" PRIu64 "..%" PRIu64 ": %s\n", r->who,
			r->first + start, r->first + start + n - 1,
			put < 0 ? strerror(errno) : "short write");
		return -1;
	}
	for (uint64_t i = 0; i < n; i++)
		r->gen[start + i] = gen;
	return 0;
}

static int discard_run(struct region *r, uint64_t start, uint64_t n)
{
	uint64_t range[2] = { (r->first + start) * PAGE, n * PAGE };

	if (ioctl(r->fd, BLKDISCARD, range)) {
		fprintf(stderr, "%s: BLKDISCARD of pages %" PRIu64 "..%" PRIu64 ": %s\n",
			r->who, r->first + start, r->first + start + n - 1, strerror(errno));
		return -1;
	}
	for (uint64_t i = 0; i < n; i++)
		r->gen[start + i] = 0;
	return 0;
}

static int full_pass(struct region *r)
{
	for (uint64_t s = 0; s < r->pages; s += MAX_RUN)
		if (read_check(r, s, r->pages - s < MAX_RUN ? r->pages - s : MAX_RUN))
			return -1;
	return 0;
}

static void region_init(struct region *r, const char *dev, uint64_t first,
			uint64_t pages, uint64_t seed, int rw)
{
	memset(r, 0, sizeof(*r));
	r->fd = open(dev, (rw ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (r->fd < 0)
		die(dev);
	r->seed = seed;
	r->first = first;
	r->pages = pages;
	r->gen = calloc(pages, sizeof(*r->gen));
	if (!r->gen || posix_memalign((void **)&r->buf, PAGE, MAX_RUN * PAGE))
		die("memory");
	r->first_bad = (uint64_t)-1;
}

static void state_name(char *buf, size_t len, const char *state, int n)
{
	snprintf(buf, len, "%s.%d", state, n);
}

static int checker(const char *dev, uint64_t first, uint64_t pages, int n, double end,
		   uint64_t seed, const char *state)
{
	struct region r;
	uint64_t writes = 0, reads = 0, discards = 0, passes = 0;
	uint32_t gen = 0;
	int err = 0;
	char path[256];

	region_init(&r, dev, first, pages, seed, 1);
	snprintf(r.who, sizeof(r.who), "checker %d", n);
	rnd_state = seed ^ ((uint64_t)n << 48);
	for (uint64_t s = 0; s < pages && !err; s += 32, writes++)
		err = write_run(&r, s, pages - s < 32 ? pages - s : 32, ++gen);
	while (!err && now() < end) {
		uint64_t op = rnd() % 1000, start = rnd() % pages, len;

		if (op < 400) {
			len = 1 + rnd() % 32;
			if (len > pages - start)
				len = pages - start;
			err = write_run(&r, start, len, ++gen);
			writes++;
			if (!err && (rnd() & 1)) {
				err = read_check(&r, start, len);
				reads++;
			}
		} else if (op < 880) {
			len = 1 + rnd() % MAX_RUN;
			if (len > pages - start)
				len = pages - start;
			err = read_check(&r, start, len);
			reads++;
		} else if (op < 995) {
			len = 1 + rnd() % 16;
			if (len > pages - start)
				len = pages - start;
			err = discard_run(&r, start, len);
			if (!err)
				err = read_check(&r, start, len);
			discards++;
		} else {
			err = full_pass(&r);
			passes++;
		}
	}
	state_name(path, sizeof(path), state, n);
	FILE *f = fopen(path, "w");

	if (!f || fwrite(r.gen, sizeof(*r.gen), pages, f) != pages || fclose(f))
		die(path);
	printf("checker %d: pages=%" PRIu64 " writes=%" PRIu64 " reads=%" PRIu64
	       " discards=%" PRIu64 " passes=%" PRIu64 " verified=%" PRIu64 " bad=%" PRIu64 "%s\n",
	       n, pages, writes, reads, discards, passes, r.verified, r.bad,
	       err ? " (stopped by an I/O error)" : "");
	fflush(stdout);
	return err || r.bad ? 1 : 0;
}

static int cmd_check(int argc, char **argv)
{
	if (argc < 9)
		return 2;
	const char *dev = argv[2], *state = argv[8];
	uint64_t first = strtoull(argv[3], NULL, 0), pages = strtoull(argv[4], NULL, 0);
	int procs = atoi(argv[5]);
	double end = now() + atof(argv[6]);
	uint64_t seed = strtoull(argv[7], NULL, 0);
	int rc = 0, st, fds[64][2];
	pid_t pid[64];
	uint64_t per;

	if (procs < 1 || procs > 64 || pages < (uint64_t)procs)
		return 2;
	per = pages / procs;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int p = 0; p < procs; p++) {
		if (pipe(fds[p]))
			die("pipe");
		fflush(stdout);
		pid[p] = fork();
		if (pid[p] < 0)
			die("fork");
		if (pid[p] == 0) {
			close(fds[p][0]);
			dup2(fds[p][1], 1);
			_exit(checker(dev, first + p * per, per, p, end, seed, state));
		}
		close(fds[p][1]);
	}
	uint64_t sum[5] = { 0 };	/* writes reads discards verified bad */
	for (int p = 0; p < procs; p++) {
		char line[512];
		FILE *f = fdopen(fds[p][0], "r");
		int seen = 0;

		while (f && fgets(line, sizeof(line), f)) {
			uint64_t w, rd, d, pg, ps, v, b;

			fputs(line, stdout);
			if (sscanf(line, "checker %*d: pages=%" SCNu64 " writes=%" SCNu64
				   " reads=%" SCNu64 " discards=%" SCNu64 " passes=%" SCNu64
				   " verified=%" SCNu64 " bad=%" SCNu64,
				   &pg, &w, &rd, &d, &ps, &v, &b) == 7) {
				sum[0] += w; sum[1] += rd; sum[2] += d; sum[3] += v; sum[4] += b;
				seen = 1;
			}
		}
		if (waitpid(pid[p], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) || !seen)
			rc = 1;
	}
	printf("total: writes=%" PRIu64 " reads=%" PRIu64 " discards=%" PRIu64
	       " verified=%" PRIu64 " bad=%" PRIu64 "\n", sum[0], sum[1], sum[2], sum[3], sum[4]);
	return rc;
}

static int cmd_verify(int argc, char **argv)
{
	if (argc < 8)
		return 2;
	const char *dev = argv[2], *state = argv[7];
	uint64_t first = strtoull(argv[3], NULL, 0), pages = strtoull(argv[4], NULL, 0);
	int procs = atoi(argv[5]), err = 0;
	uint64_t seed = strtoull(argv[6], NULL, 0), verified = 0, bad = 0;
	uint64_t first_bad = (uint64_t)-1;
	char path[256];

	if (procs < 1 || procs > 64 || pages < (uint64_t)procs)
		return 2;
	uint64_t per = pages / procs;

	for (int p = 0; p < procs && !err; p++) {
		struct region r;

		region_init(&r, dev, first + p * per, per, seed, 0);
		snprintf(r.who, sizeof(r.who), "verify");
		state_name(path, sizeof(path), state, p);
		FILE *f = fopen(path, "r");

		if (!f || fread(r.gen, sizeof(*r.gen), per, f) != per)
			die(path);
		fclose(f);
		err = full_pass(&r);
		verified += r.verified;
		if (r.bad && first_bad == (uint64_t)-1)
			first_bad = r.first_bad;
		bad += r.bad;
		close(r.fd);
	}
	printf("verified=%" PRIu64 " bad=%" PRIu64 " first_bad=%" PRId64 "%s\n", verified, bad,
	       (int64_t)first_bad, err ? " (stopped by a read error)" : "");
	return err || bad ? 1 : 0;
}

/* ---- cycle ----------------------------------------------------------- */

static void *slurp(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY);
	off_t n = fd < 0 ? -1 : lseek(fd, 0, SEEK_END);
	void *buf;

	if (n <= 0 || n % PAGE || posix_memalign(&buf, PAGE, n) || pread(fd, buf, n, 0) != n)
		die(path);
	close(fd);
	*len = n;
	return buf;
}

static void bd_stat(const char *dir, char *out, size_t len)
{
	char path[256], buf[128];
	long c = -1, r = -1, w = -1;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/bd_stat", dir);
	fd = open(path, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	if (n > 0) {
		buf[n] = 0;
		sscanf(buf, "%ld %ld %ld", &c, &r, &w);
	}
	snprintf(out, len, "%ld %ld %ld", c, r, w);
}

static int cmd_cycle(int argc, char **argv)
{
	if (argc < 8)
		return 2;
	const char *dir = argv[2], *token = argv[3];
	const char *dev[2] = { argv[4], argv[6] }, *img[2] = { argv[5], argv[7] };
	void *want[2], *got;
	size_t len[2];
	int fd[2];
	char path[256], bd1[64], bd2[64], content[128] = "ok";
	const char *wb = "ok";

	for (int d = 0; d < 2; d++) {
		want[d] = slurp(img[d], &len[d]);
		fd[d] = open(dev[d], O_RDWR | O_DIRECT);
		if (fd[d] < 0)
			die(dev[d]);
		if (pwrite(fd[d], want[d], len[d], 0) != (ssize_t)len[d])
			die("write");
	}
	snprintf(path, sizeof(path), "%s/writeback", dir);
	int wfd = open(path, O_WRONLY);

	if (wfd < 0)
		die(path);
	if (write(wfd, token, strlen(token)) < 0)
		wb = strerrorname_np(errno);
	close(wfd);
	bd_stat(dir, bd1, sizeof(bd1));
	for (int d = 0; d < 2; d++) {
		if (posix_memalign(&got, PAGE, len[d]))
			die("memory");
		memset(got, 0xa5, len[d]);
		if (pread(fd[d], got, len[d], 0) != (ssize_t)len[d])
			die("read");
		if (memcmp(got, want[d], len[d]) && !strcmp(content, "ok")) {
			size_t i = 0;

			while (((char *)got)[i] == ((char *)want[d])[i])
				i++;
			snprintf(content, sizeof(content), "bad(%s byte %zu)", dev[d], i);
		}
		free(got);
		close(fd[d]);
	}
	bd_stat(dir, bd2, sizeof(bd2));
	printf("wb=%s bd=%s content=%s bd=%s\n", wb, bd1, content, bd2);
	return 0;
}

/* ---- mem ------------------------------------------------------------- */

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

static int cmd_mem(int argc, char **argv)
{
	if (argc < 4)
		return 2;
	uint64_t pages = strtoull(argv[2], NULL, 0), seed = strtoull(argv[3], NULL, 0);
	uint64_t *mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint32_t *gen = mmap(NULL, pages * sizeof(*gen), PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char cmd[64];
	int reports = 0;

	if (mem == MAP_FAILED || gen == MAP_FAILED)
		die("mmap");
	if (mlock(gen, pages * sizeof(*gen)))
		die("mlock");
	for (uint64_t i = 0; i < pages; i++) {
		gen[i] = 1;
		fill(mem + i * WORDS, seed, i, 1);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("filled pages=%" PRIu64 "\n", pages);
	while (fgets(cmd, sizeof(cmd), stdin)) {
		cmd[strcspn(cmd, "\n")] = 0;
		if (!strcmp(cmd, "pageout")) {
			if (madvise(mem, pages * PAGE, MADV_PAGEOUT))
				die("madvise(MADV_PAGEOUT)");
			printf("swap_kib=%ld rss_kib=%ld\n", status_kib("VmSwap"),
			       status_kib("VmRSS"));
		} else if (!strncmp(cmd, "loop ", 5) || !strcmp(cmd, "verify")) {
			int loop = cmd[0] == 'l';
			double end = loop ? now() + atof(cmd + 5) : 0;
			uint64_t passes = 0, verified = 0, rewritten = 0, bad = 0;
			int64_t first_bad = -1;

			do {
				for (uint64_t i = 0; i < pages; i++) {
					verified++;
					if (!page_ok(mem + i * WORDS, seed, i, gen[i], "mem",
						     &reports)) {
						if (first_bad < 0)
							first_bad = i;
						bad++;
					}
					if (loop && (i + passes) % 8 == 0) {
						gen[i]++;
						fill(mem + i * WORDS, seed, i, gen[i]);
						rewritten++;
					}
				}
				passes++;
			} while (loop && now() < end);
			if (loop)
				printf("passes=%" PRIu64 " verified=%" PRIu64 " rewritten=%" PRIu64
				       " bad=%" PRIu64 " first_bad=%" PRId64 "\n",
				       passes, verified, rewritten, bad, first_bad);
			else
				printf("verified=%" PRIu64 " bad=%" PRIu64 " first_bad=%" PRId64 "\n",
				       verified, bad, first_bad);
		} else if (!strcmp(cmd, "quit")) {
			return 0;
		} else {
			printf("unknown command '%s'\n", cmd);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 2;

	if (argc >= 2) {
		if (!strcmp(argv[1], "check"))
			rc = cmd_check(argc, argv);
		else if (!strcmp(argv[1], "verify"))
			rc = cmd_verify(argc, argv);
		else if (!strcmp(argv[1], "cycle"))
			rc = cmd_cycle(argc, argv);
		else if (!strcmp(argv[1], "mem"))
			rc = cmd_mem(argc, argv);
	}
	if (rc == 2)
		fprintf(stderr, "usage: see the comment at the top of stress.c\n");
	return rc;
}
