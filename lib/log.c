/*
 * log.c - JSON-lines logging on stderr.
 *
 * Each call formats one line in a stack buffer and writes it with a single
 * write(2), so lines from concurrent threads never interleave.  Lines over
 * the buffer are cut and marked "truncated".  Never log secrets or
 * clinical text: callers pass identifiers and codes only.
 *
 * Fields are strings (vr_log's key, value pairs) or typed
 * (vr_log_fields: numbers and booleans unquoted, as JSON has them).
 *
 * Rotation (vr_log_rotation): the bytes written are counted; the write
 * that passes the cap claims the rotation (a compare-and-swap, so one
 * thread does it), renames the file and dup2()s a new one onto fd 2.
 * When stderr is not the file yet (a supervisor's pipe), the file is
 * opened onto fds 1 and 2 first, so every line is written by the process.
 * dup2 swaps the descriptor atomically: a concurrent write lands whole in
 * the old file or in the new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "vr.h"

#define LINE_MAX_BYTES	4096

static const char *const level_names[VR_LOG__MAX] = {
	[VR_LOG_DEBUG] = "debug",
	[VR_LOG_INFO] = "info",
	[VR_LOG_WARN] = "warn",
	[VR_LOG_ERROR] = "error",
};

/* Set once at start, before threads exist. */
static const char *service = "vetred";
static int min_level = VR_LOG_INFO;
static const char *rot_path;
static long long rot_max;
static atomic_llong rot_written;
static atomic_int rot_busy;

void
vr_log_init(const char *name, int level)
{
	service = name;
	min_level = level;
}

int
vr_log_level_parse(const char *s)
{
	int i;

	for (i = 0; i < VR_LOG__MAX; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -1;
}

struct line {
	char	 buf[LINE_MAX_BYTES];
	size_t	 len;
	int	 cut;
};

static void
put(struct line *l, const char *s, size_t n)
{
	/* Keep room for the closing '"}' + newline of a truncated line. */
	if (l->len + n > sizeof(l->buf) - 32) {
		l->cut = 1;
		return;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
}

/* For closing quotes and the line's end: uses the reserved room. */
static void
put_raw(struct line *l, const char *s, size_t n)
{
	if (l->len + n <= sizeof(l->buf)) {
		memcpy(l->buf + l->len, s, n);
		l->len += n;
	}
}

static void
put_str(struct line *l, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0', 0, 0 };
	const unsigned char *p;

	put(l, "\"", 1);
	for (p = (const unsigned char *)(s ? s : ""); *p && !l->cut; p++) {
		if (*p == '"' || *p == '\\') {
			char e[2] = { '\\', (char)*p };
			put(l, e, 2);
		} else if (*p < 0x20) {
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 0xf];
			put(l, esc, 6);
		} else {
			/* A UTF-8 sequence goes in whole or not at all. */
			size_t n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 :
			    *p >= 0xc0 ? 2 : 1;

			n = strnlen((const char *)p, n);
			put(l, (const char *)p, n);
			p += n - 1;
		}
	}
	put_raw(l, "\"", 1);
}

/*
 * The comma, key and colon go in whole or not at all, with room for
 * extra bytes after them (a string's opening quote, a whole number).
 */
static int
put_key(struct line *l, const char *key, size_t extra)
{
	if (l->cut || l->len + 2 * strlen(key) + 8 + extra >
	    sizeof(l->buf) - 32) {
		l->cut = 1;
		return -1;
	}
	put(l, ",", 1);
	put_str(l, key);
	put(l, ":", 1);
	return 0;
}

static void
put_field(struct line *l, const char *key, const char *val)
{
	if (put_key(l, key, 1) == 0)
		put_str(l, val);
}

static void
put_typed(struct line *l, const struct vr_log_field *f)
{
	char num[40];
	int n;

	if (f->type == VR_LFT_STR) {
		put_field(l, f->key, f->s);
		return;
	}
	if (f->type == VR_LFT_INT)
		n = snprintf(num, sizeof(num), "%lld", f->i);
	else if (f->type == VR_LFT_DBL && isfinite(f->d))
		n = snprintf(num, sizeof(num), "%.3f", f->d);
	else if (f->type == VR_LFT_BOOL)
		n = snprintf(num, sizeof(num), "%s", f->i ? "true" : "false");
	else
		n = snprintf(num, sizeof(num), "null");
	/* A huge double may not fit: then it is not a number we log. */
	if (n <= 0 || (size_t)n >= sizeof(num))
		n = snprintf(num, sizeof(num), "null");
	if (put_key(l, f->key, (size_t)n) == 0)
		put(l, num, (size_t)n);
}

/* time, level, service, request_id, msg: the start of every line. */
static void
start_line(struct line *l, int level, const char *request_id,
    const char *msg)
{
	struct timespec ts;
	struct tm tm;
	char when[64];

	l->len = 0;
	l->cut = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	put(l, "{\"time\":", 8);
	put_str(l, when);
	put_field(l, "level", level_names[level]);
	put_field(l, "service", service);
	if (request_id != NULL)
		put_field(l, "request_id", request_id);
	put_field(l, "msg", msg);
}

/* Move the full file aside and point fds 1 and 2 at a new one. */
static void
rotate(void)
{
	char old[4096];
	int fd;

	snprintf(old, sizeof(old), "%s.1", rot_path);
	if (rename(rot_path, old) < 0 && errno != ENOENT)
		return;
	fd = open(rot_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return;
	dup2(fd, STDERR_FILENO);
	dup2(fd, STDOUT_FILENO);
	close(fd);
}

static void
end_line(struct line *l)
{
	int idle = 0;

	if (l->cut)
		put_raw(l, ",\"truncated\":true", 17);
	put_raw(l, "}\n", 2);
	if (write(STDERR_FILENO, l->buf, l->len) < 0 || rot_max <= 0)
		return;
	if (atomic_fetch_add(&rot_written, (long long)l->len) +
	    (long long)l->len < rot_max)
		return;
	if (!atomic_compare_exchange_strong(&rot_busy, &idle, 1))
		return;
	if (atomic_load(&rot_written) >= rot_max) {
		rotate();
		atomic_store(&rot_written, 0);
	}
	atomic_store(&rot_busy, 0);
}

int
vr_log_rotation(const char *path, long long max_bytes)
{
	struct stat st, file;
	int fd;

	rot_path = path;
	rot_max = path != NULL && *path != '\0' ? max_bytes : 0;
	if (rot_max <= 0)
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return VR_EIO;
	/*
	 * stderr is the file, or is made the file: a supervisor's pipe
	 * (supervisord copies what it reads, in Python) would otherwise carry
	 * every request's line, and the first rotation would leave it anyway.
	 */
	if (stat(path, &file) < 0 || file.st_dev != st.st_dev ||
	    file.st_ino != st.st_ino) {
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (fd < 0)
			return VR_EIO;
		dup2(fd, STDERR_FILENO);
		dup2(fd, STDOUT_FILENO);
		close(fd);
		if (fstat(STDERR_FILENO, &st) < 0)
			return VR_EIO;
	}
	/* Continue the count of the file stderr appends to. */
	atomic_store(&rot_written, S_ISREG(st.st_mode) ? (long long)st.st_size :
	    0);
	return 0;
}

void
vr_logv(int level, const char *request_id, const char *msg, va_list ap)
{
	struct line l;
	const char *k, *v;

	if (level < min_level || level < 0 || level >= VR_LOG__MAX)
		return;
	start_line(&l, level, request_id, msg);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		put_field(&l, k, v);
	}
	end_line(&l);
}

void
vr_log(int level, const char *request_id, const char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	vr_logv(level, request_id, msg, ap);
	va_end(ap);
}

void
vr_log_fields(int level, const char *request_id, const char *msg,
    const struct vr_log_field *f, size_t n)
{
	struct line l;
	size_t i;

	if (level < min_level || level < 0 || level >= VR_LOG__MAX)
		return;
	start_line(&l, level, request_id, msg);
	for (i = 0; i < n; i++)
		put_typed(&l, &f[i]);
	end_line(&l);
}
