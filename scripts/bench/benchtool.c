// SPDX-License-Identifier: GPL-2.0
/*
 * benchtool: small helpers for the rzram benchmark guest (tests/bench_*.sh).
 * Built static on the host by scripts/bench.sh and put in the initramfs as
 * /lib/rzram/benchtool.  The guest has no compiler and no python.
 *
 *   benchtool gen FILE PAGES KIND SEED
 *       write PAGES 4 KiB pages to FILE:
 *       random    xorshift64* words: incompressible
 *       half      each page: 2 KiB of random words, then 2 KiB of zeros
 *                 (about 2:1 with lzo-rle, below zram's huge threshold)
 *       r2, r3    each page: N random bytes, then zeros, N drawn per page
 *                 from 1400-2399 (r2: about 2:1 with lzo-rle) or 900-1799
 *                 (r3: about 3:1): objects of varied sizes, for packing
 *       same      each page one 64-bit value repeated (zram's same-filled
 *                 pages), the value differing from page to page
 *       zero      zeros
 *   benchtool stripe DEV EXPECTED NEWSRC PAGES
 *       overwrite every odd page (1, 3, 5, ...) below PAGES of DEV with
 *       O_DIRECT, taking page i from page i of NEWSRC, and apply the same
 *       change to the file EXPECTED (the expected device content)
 *   benchtool rstripe DEV EXPECTED NEWSRC PAGES SEED
 *       as stripe, but each page below PAGES is overwritten with
 *       probability 1/2 (xorshift from SEED): a random half
 *   benchtool swapper MIB SEED
 *       map MIB MiB of anonymous memory (no THP), fill it with random
 *       words, print "ready", then serve commands on stdin, one a line:
 *       pageout  madvise(MADV_PAGEOUT) the whole mapping: every page still
 *                resident goes out to swap now; print "pageout usec=N"
 *       touch    read every word back and compare it with the generator,
 *                print "touch usec=N pages=N bad=N"
 *       quit   exit (status 1 if any check found a bad word)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif

#define PG 4096UL

static uint64_t xs_state;
static inline uint64_t xs_next(void)
{
	uint64_t x = xs_state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	xs_state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void xs_seed(uint64_t seed)
{
	xs_state = seed * 0x9E3779B97F4A7C15ULL + 0x1234567ULL;
	if (!xs_state)
		xs_state = 1;
}

static void die(const char *what)
{
	fprintf(stderr, "benchtool: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void write_all(int fd, const void *buf, size_t n, off_t off)
{
	const char *p = buf;

	while (n) {
		ssize_t w = off < 0 ? write(fd, p, n) : pwrite(fd, p, n, off);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			die("write");
		}
		p += w;
		n -= w;
		if (off >= 0)
			off += w;
	}
}

static void read_all(int fd, void *buf, size_t n, off_t off)
{
	char *p = buf;

	while (n) {
		ssize_t r = pread(fd, p, n, off);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		if (r == 0) {
			errno = EIO;
			die("short read");
		}
		p += r;
		n -= r;
		off += r;
	}
}

static int cmd_gen(const char *file, unsigned long pages, const char *kind,
		   uint64_t seed)
{
	const unsigned long chunk = 256; /* pages per write */
	uint64_t *buf;
	int fd;

	buf = aligned_alloc(PG, chunk * PG);
	if (!buf)
		die("alloc");
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die(file);
	xs_seed(seed);
	for (unsigned long done = 0; done < pages;) {
		unsigned long n = pages - done < chunk ? pages - done : chunk;

		for (unsigned long p = 0; p < n; p++) {
			uint64_t *w = buf + p * (PG / 8);

			if (!strcmp(kind, "random")) {
				for (unsigned long i = 0; i < PG / 8; i++)
					w[i] = xs_next();
			} else if (!strcmp(kind, "half")) {
				for (unsigned long i = 0; i < PG / 16; i++)
					w[i] = xs_next();
				memset(w + PG / 16, 0, PG / 2);
			} else if (!strcmp(kind, "r2") || !strcmp(kind, "r3")) {
				unsigned long lo = kind[1] == '2' ? 1400 : 900;
				unsigned long n = lo + xs_next() % 1000;

				memset(w, 0, PG);
				for (unsigned long i = 0; i < n; i += 8) {
					uint64_t v = xs_next();

					memcpy((char *)w + i, &v, n - i < 8 ? n - i : 8);
				}
			} else if (!strcmp(kind, "same")) {
				uint64_t v = xs_next() | 1;

				for (unsigned long i = 0; i < PG / 8; i++)
					w[i] = v;
			} else if (!strcmp(kind, "zero")) {
				memset(w, 0, PG);
			} else {
				fprintf(stderr, "benchtool: unknown kind %s\n", kind);
				return 2;
			}
		}
		write_all(fd, buf, n * PG, -1);
		done += n;
	}
	if (close(fd))
		die("close");
	return 0;
}

static int cmd_stripe(const char *dev, const char *expected, const char *newsrc,
		      unsigned long pages, int random, uint64_t seed)
{
	void *buf;
	int dfd, efd, sfd;

	if (posix_memalign(&buf, PG, PG))
		die("alloc");
	dfd = open(dev, O_WRONLY | O_DIRECT);
	if (dfd < 0)
		die(dev);
	efd = open(expected, O_WRONLY);
	if (efd < 0)
		die(expected);
	sfd = open(newsrc, O_RDONLY);
	if (sfd < 0)
		die(newsrc);
	xs_seed(seed);
	for (unsigned long i = random ? 0 : 1; i < pages; i += random ? 1 : 2) {
		if (random && !(xs_next() & 1))
			continue;
		read_all(sfd, buf, PG, i * PG);
		write_all(dfd, buf, PG, i * PG);
		write_all(efd, buf, PG, i * PG);
	}
	if (fsync(dfd) || close(dfd) || close(efd) || close(sfd))
		die("close");
	return 0;
}

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000ULL + ts.tv_nsec / 1000;
}

static int cmd_swapper(unsigned long mib, uint64_t seed)
{
	size_t len = mib << 20, words = len / 8;
	uint64_t *mem;
	char line[64];
	int status = 0;

	mem = mmap(NULL, len, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		die("mmap");
	madvise(mem, len, MADV_NOHUGEPAGE);
	xs_seed(seed);
	for (size_t i = 0; i < words; i++)
		mem[i] = xs_next();
	printf("ready pages=%zu\n", len / PG);
	fflush(stdout);
	while (fgets(line, sizeof(line), stdin)) {
		if (!strncmp(line, "touch", 5)) {
			uint64_t t0 = now_us(), bad = 0;

			xs_seed(seed);
			for (size_t i = 0; i < words; i++)
				bad += mem[i] != xs_next();
			printf("touch usec=%llu pages=%zu bad=%llu\n",
			       (unsigned long long)(now_us() - t0), len / PG,
			       (unsigned long long)bad);
			fflush(stdout);
			if (bad)
				status = 1;
		} else if (!strncmp(line, "pageout", 7)) {
			uint64_t t0 = now_us();

			if (madvise(mem, len, MADV_PAGEOUT))
				die("madvise(MADV_PAGEOUT)");
			printf("pageout usec=%llu\n", (unsigned long long)(now_us() - t0));
			fflush(stdout);
		} else if (!strncmp(line, "quit", 4)) {
			break;
		}
	}
	return status;
}

int main(int argc, char **argv)
{
	if (argc == 6 && !strcmp(argv[1], "gen"))
		return cmd_gen(argv[2], strtoul(argv[3], NULL, 0), argv[4],
			       strtoull(argv[5], NULL, 0));
	if (argc == 6 && !strcmp(argv[1], "stripe"))
		return cmd_stripe(argv[2], argv[3], argv[4],
				  strtoul(argv[5], NULL, 0), 0, 1);
	if (argc == 7 && !strcmp(argv[1], "rstripe"))
		return cmd_stripe(argv[2], argv[3], argv[4], strtoul(argv[5], NULL, 0),
				  1, strtoull(argv[6], NULL, 0));
	if (argc == 4 && !strcmp(argv[1], "swapper"))
		return cmd_swapper(strtoul(argv[2], NULL, 0),
				   strtoull(argv[3], NULL, 0));
	fprintf(stderr, "usage: benchtool gen FILE PAGES KIND SEED | "
			"stripe DEV EXPECTED NEWSRC PAGES | "
			"rstripe DEV EXPECTED NEWSRC PAGES SEED | swapper MIB SEED\n");
	return 2;
}
