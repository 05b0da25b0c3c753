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
 *   hostile batch [-R ZSCRIPT,RSCRIPT] [-a DIR]
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
 *	-a DIR: each write is done by a server child process, which
 *	    answers through a pipe and also stores each result in DIR/ID.z
 *	    or DIR/ID.r (written to a temporary name, then renamed); the
 *	    parent waits for the answer, or until the server has been in
 *	    state D (uninterruptible sleep) for 300 ms without a break or has
 *	    not answered for 3 s: then it prints "blocked", abandons that
 *	    server (it finishes the write and exits) and starts a new one
 *	    for the next write (the caller collects DIR/ID.* later).  The
 *	    server has /dev/null as stdin, stdout and stderr, so a blocked
 *	    write holds none of the caller's pipes.  For writes that
 *	    may wait for something the caller releases afterwards (a
 *	    suspended backing device).
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
 * Async writes go to a server child, which does one write per request
 * and answers through a pipe; it also leaves each result in DIR/ID.SIDE.
 * When a write blocks (the server in state D for 300 ms without a break,
 * or no answer for 3 s), the server is abandoned (it finishes that write,
 * stores its result, sees its request pipe closed and exits) and the next
 * write gets a new server.  So a fork only per blocked write.
 */
struct request {
	char fin[PATH_MAX];
	char path[PATH_MAX];
	size_t len;
};

static pid_t srv_pid;
static int srv_req = -1, srv_res = -1;

static int read_full(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n <= 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static void server(int req, int res)
{
	static struct request rq;
	static char val[16384];
	int null = open("/dev/null", O_RDWR);

	/* a blocked write must hold none of the caller's stdio pipes */
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
		if (null > 2)
			close(null);
	}
	signal(SIGPIPE, SIG_IGN);
	while (!read_full(req, &rq, sizeof(rq))) {
		char r[64], tmp[PATH_MAX + 8];
		FILE *f;

		if (rq.len > sizeof(val) || read_full(req, val, rq.len))
			break;
		do_write(rq.path, val, rq.len, r, sizeof(r));
		strcpy(tmp, rq.fin);
		strcat(tmp, ".tmp");
		f = fopen(tmp, "w");
		if (f) {
			fprintf(f, "%s\n", r);
			if (!fclose(f))
				rename(tmp, rq.fin);
		}
		strcat(r, "\n");
		if (write_full(res, r, strlen(r)))
			break;
	}
	_exit(0);
}

static int start_server(void)
{
	int q[2], a[2];

	if (pipe(q))
		return -1;
	if (pipe(a)) {
		close(q[0]);
		close(q[1]);
		return -1;
	}
	fflush(stdout);
	srv_pid = fork();
	if (srv_pid < 0)
		return -1;
	if (srv_pid == 0) {
		close(q[1]);
		close(a[0]);
		server(q[0], a[1]);
	}
	close(q[0]);
	close(a[1]);
	srv_req = q[1];
	srv_res = a[0];
	return 0;
}

static void drop_server(void)
{
	close(srv_req);
	close(srv_res);
	srv_req = srv_res = -1;
	srv_pid = 0;
}

static void do_write_async(const char *dir, const char *id, char side,
			   const char *path, const char *val, size_t len,
			   char *res, size_t rlen)
{
	static struct request rq;
	long d_since = -1, start;
	size_t got = 0;

	memset(&rq, 0, sizeof(rq));
	if (strlen(dir) + strlen(id) + 8 > sizeof(rq.fin) ||
	    strlen(path) >= sizeof(rq.path)) {
		snprintf(res, rlen, "longname");
		return;
	}
	strcpy(rq.fin, dir);
	strcat(rq.fin, "/");
	strcat(rq.fin, id);
	strcat(rq.fin, side == 'z' ? ".z" : ".r");
	strcpy(rq.path, path);
	rq.len = len;
	if (srv_req < 0 && start_server()) {
		snprintf(res, rlen, "fork:%s", errname(errno));
		return;
	}
	if (write_full(srv_req, &rq, sizeof(rq)) || write_full(srv_req, val, len)) {
		snprintf(res, rlen, "lost");
		drop_server();
		return;
	}
	start = now_ms();
	for (;;) {
		struct pollfd pfd = { .fd = srv_res, .events = POLLIN };

		if (poll(&pfd, 1, 20) > 0) {
			ssize_t n = read(srv_res, res + got, rlen - 1 - got);

			if (n <= 0) {
				snprintf(res, rlen, "lost");
				drop_server();
				return;
			}
			got += n;
			res[got] = 0;
			if (strchr(res, '\n')) {
				res[strcspn(res, "\n")] = 0;
				return;
			}
			continue;
		}
		if (proc_state(srv_pid) == 'D') {
			if (d_since < 0)
				d_since = now_ms();
			else if (now_ms() - d_since >= 300)
				break;
		} else {
			d_since = -1;
		}
		/* waiting in another state (S: interruptible): after 3 s */
		if (now_ms() - start >= 3000)
			break;
	}
	drop_server();
	snprintf(res, rlen, "blocked");
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

static int batch(int argc, char **argv)
{
	const char *dir = NULL;
	char *script[2] = { NULL, NULL };
	int opt;
	static char line[16384], val[16384];

	optind = 2;
	while ((opt = getopt(argc, argv, "R:a:")) != -1) {
		if (opt == 'R') {
			char *c = strchr(optarg, ',');

			if (!c)
				return 2;
			*c = 0;
			script[0] = strcmp(optarg, "-") ? optarg : NULL;
			script[1] = strcmp(c + 1, "-") ? c + 1 : NULL;
		} else if (opt == 'a') {
			dir = optarg;
		} else {
			return 2;
		}
	}
	while (fgets(line, sizeof(line), stdin)) {
		char *id, *zp, *rp, *esc;
		char res[2][64], rest[2][32];
		size_t len;
		int i;

		line[strcspn(line, "\n")] = 0;
		/* "ID ZPATH RPATH VALUE": single spaces; VALUE may be empty */
		id = line;
		zp = strchr(id, ' ');
		rp = zp ? strchr(zp + 1, ' ') : NULL;
		if (!zp || !rp) {
			fprintf(stderr, "hostile: bad case line\n");
			return 2;
		}
		*zp++ = 0;
		*rp++ = 0;
		esc = strchr(rp, ' ');
		if (esc)
			*esc++ = 0;
		else
			esc = "";
		len = decode(esc, val);
		for (i = 0; i < 2; i++) {
			const char *p = i ? rp : zp;

			strcpy(res[i], "-");
			strcpy(rest[i], "-");
			if (!strcmp(p, "-"))
				continue;
			if (dir)
				do_write_async(dir, id, i ? 'r' : 'z', p, val, len,
					       res[i], sizeof(res[i]));
			else
				do_write(p, val, len, res[i], sizeof(res[i]));
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
		fprintf(stderr, "usage: hostile PATH ESCAPED | hostile batch [-R ZS,RS] [-a DIR]\n");
		return 2;
	}
	if (strlen(argv[2]) >= sizeof(val))
		return 2;
	len = decode(argv[2], val);
	do_write(argv[1], val, len, res, sizeof(res));
	printf("%s\n", res);
	return 0;
}
