// SPDX-License-Identifier: GPL-2.0
/*
 * hostile: exact single write(2) calls of arbitrary bytes to sysfs
 * attributes, for tests/rzram_dev_hostile.sh.  Built statically by
 * scripts/mkinitramfs.sh into /tests/helpers/hostile.
 *
 * A value is given in an escaped form, decoded here: \n \t \r \\ \0 (one
 * NUL byte, never an octal escape) and \xHH (one byte); every other byte
 * stands for itself.  Each write is one open(O_WRONLY), one write(2) of
 * all the decoded bytes, one close(); its result is "ok" (the write
 * returned the full length), "short:N" (it returned N), or the errno name
 * of the failed open ("open:ENAME") or write ("ENAME").
 *
 *   hostile PATH ESCAPED
 *	One write; prints the result.
 *
 *   hostile batch [-R ZSCRIPT,RSCRIPT] [-a DIR [-P]]
 *	Reads cases from stdin, one a line: "ID ZPATH RPATH ESCAPED" (the
 *	value is the rest of the line after the third space, so it may hold
 *	spaces; a path "-" skips that side).  For each case it writes the
 *	value to ZPATH, then to RPATH, and prints "ID ZRESULT RRESULT ZREST
 *	RREST".
 *	-R: restore scripts for the two sides ("-": none).  When a side
 *	    accepts a non-empty value ("ok"), its script is run right away,
 *	    before the next write (so zram's accepting a value cannot change
 *	    what rzram's write of it meets); REST is then "R", or "Rfail:N"
 *	    if its line N failed; else "-".  A script has one action a line:
 *	      w PATH ESCAPED   one write of the value to PATH, must succeed
 *	      r PATH           read PATH (e.g. hot_add), must succeed
 *	      c FILE DEV       copy FILE onto the start of DEV (O_DIRECT)
 *	-a DIR: each write is done by a child process of its own, which
 *	    stores its result in DIR/ID.z or DIR/ID.r (written to a
 *	    temporary name, then renamed); the parent waits until the child
 *	    exits, or until it has been in state D (uninterruptible sleep)
 *	    for 300 ms without a break, or for 3 s: then the result is
 *	    "blocked", and the child is left to finish its write (the caller
 *	    collects DIR/ID.* later).  The child has /dev/null as stdin,
 *	    stdout and stderr, so a blocked write holds none of the caller's
 *	    pipes.  For writes that may wait for something the caller
 *	    releases afterwards (a suspended backing device).
 *	-P (with -a, without -R): every case is started at once, then all
 *	    are waited for together (so one wait in all, not one a blocked
 *	    write); the results are printed in the order of the cases.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

static const char *errname(int e)
{
	static char buf[16];

	switch (e) {
#define E(x) case x: return #x
	E(EPERM); E(ENOENT); E(ESRCH); E(EINTR); E(EIO); E(ENXIO); E(E2BIG);
	E(ENOEXEC); E(EBADF); E(ECHILD); E(EAGAIN); E(ENOMEM); E(EACCES);
	E(EFAULT); E(ENOTBLK); E(EBUSY); E(EEXIST); E(EXDEV); E(ENODEV);
	E(ENOTDIR); E(EISDIR); E(EINVAL); E(ENFILE); E(EMFILE); E(ENOTTY);
	E(ETXTBSY); E(EFBIG); E(ENOSPC); E(ESPIPE); E(EROFS); E(EMLINK);
	E(EPIPE); E(EDOM); E(ERANGE); E(EDEADLK); E(ENAMETOOLONG); E(ENOLCK);
	E(ENOSYS); E(ENOTEMPTY); E(ELOOP); E(ENODATA); E(EOVERFLOW);
	E(EILSEQ); E(EOPNOTSUPP); E(ETIMEDOUT); E(EALREADY); E(ECANCELED);
#undef E
	}
	snprintf(buf, sizeof(buf), "E%d", e);
	return buf;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* decode the escaped form of src into out; returns the length */
static size_t decode(const char *src, char *out)
{
	size_t n = 0;

	while (*src) {
		if (*src != '\\') {
			out[n++] = *src++;
			continue;
		}
		src++;
		switch (*src) {
		case 'n': out[n++] = '\n'; src++; break;
		case 't': out[n++] = '\t'; src++; break;
		case 'r': out[n++] = '\r'; src++; break;
		case '0': out[n++] = '\0'; src++; break;
		case '\\': out[n++] = '\\'; src++; break;
		case 'x':
			if (hexval(src[1]) >= 0 && hexval(src[2]) >= 0) {
				out[n++] = hexval(src[1]) << 4 | hexval(src[2]);
				src += 3;
				break;
			}
			/* fall through */
		default:
			fprintf(stderr, "hostile: bad escape \\%c\n", *src);
			exit(2);
		}
	}
	return n;
}

/* one open + write(2) + close; the result text in res */
static void do_write(const char *path, const char *val, size_t len, char *res,
		     size_t rlen)
{
	int fd = open(path, O_WRONLY);
	ssize_t r;

	if (fd < 0) {
		snprintf(res, rlen, "open:%s", errname(errno));
		return;
	}
	r = write(fd, val, len);
	if (r < 0)
		snprintf(res, rlen, "%s", errname(errno));
	else if ((size_t)r != len)
		snprintf(res, rlen, "short:%zd", r);
	else
		snprintf(res, rlen, "ok");
	close(fd);
}

static char proc_state(pid_t pid)
{
	char path[64], buf[512], *p;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	return p && p[1] == ' ' ? p[2] : 0;
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/*
 * Async writes (-a DIR): each write is done by a child of its own, which
 * stores its result in DIR/ID.SIDE (a temporary name, then renamed) and
 * exits.  A job is settled when its child has exited (its result is then
 * read from that file), or it is "blocked": its child has been in state D
 * for 300 ms without a break, or 3 s have passed (waiting in another
 * state).  A blocked child is left to finish its write; the caller
 * collects DIR/ID.SIDE later.
 */
struct job {
	pid_t pid;
	long d_since;
	int done;
	char fin[PATH_MAX];
	char res[64];
};

static void job_child(const char *fin, const char *path, const char *val,
		      size_t len)
{
	char r[64], tmp[PATH_MAX + 8];
	int null = open("/dev/null", O_RDWR);
	FILE *f;

	/* a blocked write must hold none of the caller's stdio pipes */
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	do_write(path, val, len, r, sizeof(r));
	snprintf(tmp, sizeof(tmp), "%s.tmp", fin);
	f = fopen(tmp, "w");
	if (f) {
		fprintf(f, "%s\n", r);
		if (!fclose(f))
			rename(tmp, fin);
	}
	_exit(0);
}

static void start_job(struct job *j, const char *dir, const char *id,
		      char side, const char *path, const char *val, size_t len)
{
	j->done = 0;
	j->d_since = -1;
	if (snprintf(j->fin, sizeof(j->fin), "%s/%s.%c", dir, id, side) >=
	    (int)sizeof(j->fin)) {
		snprintf(j->res, sizeof(j->res), "longname");
		j->done = 1;
		return;
	}
	fflush(stdout);
	j->pid = fork();
	if (j->pid < 0) {
		snprintf(j->res, sizeof(j->res), "fork:%s", errname(errno));
		j->done = 1;
	} else if (j->pid == 0) {
		job_child(j->fin, path, val, len);
	}
}

static void read_result(struct job *j)
{
	FILE *f = fopen(j->fin, "r");

	if (!f || !fgets(j->res, sizeof(j->res), f))
		snprintf(j->res, sizeof(j->res), "lost");
	j->res[strcspn(j->res, "\n")] = 0;
	if (f)
		fclose(f);
}

/* settle jobs[0..n): each one exited (its result read) or "blocked" */
static void settle(struct job *jobs, int n)
{
	long start = now_ms();
	int i, left = 0;

	for (i = 0; i < n; i++)
		left += !jobs[i].done;
	while (left) {
		for (i = 0; i < n; i++) {
			struct job *j = &jobs[i];
			int st;

			if (j->done)
				continue;
			if (waitpid(j->pid, &st, WNOHANG) == j->pid) {
				read_result(j);
			} else if (proc_state(j->pid) != 'D') {
				j->d_since = -1;
				continue;
			} else if (j->d_since < 0) {
				j->d_since = now_ms();
				continue;
			} else if (now_ms() - j->d_since < 300) {
				continue;
			} else {
				snprintf(j->res, sizeof(j->res), "blocked");
			}
			j->done = 1;
			left--;
		}
		if (left && now_ms() - start >= 3000) {
			for (i = 0; i < n; i++)
				if (!jobs[i].done)
					snprintf(jobs[i].res, sizeof(jobs[i].res), "blocked");
			return;
		}
		if (left)
			usleep(20000);
	}
}

/* c FILE DEV: copy FILE onto DEV with O_DIRECT, 1 MiB at a time */
static int copy_direct(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_DIRECT);
	void *buf = NULL;
	ssize_t n;
	int ret = -1;

	if (in < 0 || out < 0 || posix_memalign(&buf, 4096, 1 << 20))
		goto out;
	while ((n = read(in, buf, 1 << 20)) > 0)
		if (write(out, buf, n) != n)
			goto out;
	ret = n < 0 ? -1 : 0;
out:
	free(buf);
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	return ret;
}

/* run restore script FILE; 0 or the number of the line that failed */
static int run_script(const char *file)
{
	static char line[16384], val[16384];
	FILE *f = fopen(file, "r");
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *a, *b, res[64];

		n++;
		line[strcspn(line, "\n")] = 0;
		a = strchr(line, ' ');
		if (!a)
			goto fail;
		*a++ = 0;
		b = strchr(a, ' ');
		if (b)
			*b++ = 0;
		if (!strcmp(line, "w") && b) {
			size_t len = decode(b, val);

			do_write(a, val, len, res, sizeof(res));
			if (strcmp(res, "ok"))
				goto fail;
		} else if (!strcmp(line, "r")) {
			int fd = open(a, O_RDONLY);
			ssize_t r = fd < 0 ? -1 : read(fd, val, sizeof(val));

			if (fd >= 0)
				close(fd);
			if (r < 0)
				goto fail;
		} else if (!strcmp(line, "c") && b) {
			if (copy_direct(a, b))
				goto fail;
		} else {
			goto fail;
		}
	}
	fclose(f);
	return 0;
fail:
	fclose(f);
	return n;
}

/* one case line "ID ZPATH RPATH VALUE" (single spaces; VALUE may be empty) */
static int parse_case(char *line, char **id, char *path[2], char **esc)
{
	line[strcspn(line, "\n")] = 0;
	*id = line;
	path[0] = strchr(line, ' ');
	path[1] = path[0] ? strchr(path[0] + 1, ' ') : NULL;
	if (!path[0] || !path[1]) {
		fprintf(stderr, "hostile: bad case line\n");
		return -1;
	}
	*path[0]++ = 0;
	*path[1]++ = 0;
	*esc = strchr(path[1], ' ');
	if (*esc)
		*(*esc)++ = 0;
	else
		*esc = "";
	return 0;
}

/* -P: every case started at once, then all settled; no restore scripts */
static int batch_parallel(const char *dir)
{
	static char line[16384], val[16384];
	struct job *jobs = NULL;
	char (*ids)[32] = NULL;
	int n = 0, cap = 0, i;

	while (fgets(line, sizeof(line), stdin)) {
		char *id, *path[2], *esc;
		size_t len;

		if (parse_case(line, &id, path, &esc) || strlen(id) >= sizeof(*ids))
			return 2;
		if (n == cap) {
			cap = cap ? 2 * cap : 64;
			jobs = realloc(jobs, cap * 2 * sizeof(*jobs));
			ids = realloc(ids, cap * sizeof(*ids));
			if (!jobs || !ids)
				return 2;
		}
		strcpy(ids[n], id);
		len = decode(esc, val);
		for (i = 0; i < 2; i++) {
			struct job *j = &jobs[2 * n + i];

			if (strcmp(path[i], "-")) {
				start_job(j, dir, id, i ? 'r' : 'z', path[i], val, len);
			} else {
				j->done = 1;
				strcpy(j->res, "-");
			}
		}
		n++;
	}
	settle(jobs, 2 * n);
	for (i = 0; i < n; i++)
		printf("%s %s %s - -\n", ids[i], jobs[2 * i].res, jobs[2 * i + 1].res);
	fflush(stdout);
	free(jobs);
	free(ids);
	return 0;
}

static int batch(int argc, char **argv)
{
	const char *dir = NULL;
	char *script[2] = { NULL, NULL };
	int opt, parallel = 0;
	static char line[16384], val[16384];

	optind = 2;
	while ((opt = getopt(argc, argv, "R:a:P")) != -1) {
		if (opt == 'R') {
			char *c = strchr(optarg, ',');

			if (!c)
				return 2;
			*c = 0;
			script[0] = strcmp(optarg, "-") ? optarg : NULL;
			script[1] = strcmp(c + 1, "-") ? c + 1 : NULL;
		} else if (opt == 'a') {
			dir = optarg;
		} else if (opt == 'P') {
			parallel = 1;
		} else {
			return 2;
		}
	}
	if (parallel)
		return dir && !script[0] && !script[1] ? batch_parallel(dir) : 2;
	while (fgets(line, sizeof(line), stdin)) {
		char *id, *path[2], *esc;
		char res[2][64], rest[2][32];
		size_t len;
		int i;

		if (parse_case(line, &id, path, &esc))
			return 2;
		len = decode(esc, val);
		for (i = 0; i < 2; i++) {
			struct job j;

			strcpy(res[i], "-");
			strcpy(rest[i], "-");
			if (!strcmp(path[i], "-"))
				continue;
			if (dir) {
				start_job(&j, dir, id, i ? 'r' : 'z', path[i], val, len);
				settle(&j, 1);
				strcpy(res[i], j.res);
			} else {
				do_write(path[i], val, len, res[i], sizeof(res[i]));
			}
			if (script[i] && len && !strcmp(res[i], "ok")) {
				int f = run_script(script[i]);

				if (f)
					snprintf(rest[i], sizeof(rest[i]), "Rfail:%d", f);
				else
					strcpy(rest[i], "R");
			}
		}
		printf("%s %s %s %s %s\n", id, res[0], res[1], rest[0], rest[1]);
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char val[16384];
	char res[64];
	size_t len;

	if (argc >= 2 && !strcmp(argv[1], "batch"))
		return batch(argc, argv);
	if (argc != 3) {
		fprintf(stderr, "usage: hostile PATH ESCAPED | hostile batch [-R ZS,RS] [-a DIR [-P]]\n");
		return 2;
	}
	if (strlen(argv[2]) >= sizeof(val))
		return 2;
	len = decode(argv[2], val);
	do_write(argv[1], val, len, res, sizeof(res));
	printf("%s\n", res);
	return 0;
}
