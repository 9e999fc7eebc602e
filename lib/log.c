/*
 * log.c - JSON-lines logging on stderr.
 *
 * Each call formats one line in a stack buffer and writes it with a single
 * write(2), so lines from concurrent threads never interleave.  Lines over
 * the buffer are cut and marked "truncated".  Never log secrets or
 * clinical text: callers pass identifiers and codes only.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
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

static void
put_field(struct line *l, const char *key, const char *val)
{
	/* The comma, key, colon and opening quote go in whole or not at all. */
	if (l->cut || l->len + 2 * strlen(key) + 8 > sizeof(l->buf) - 32) {
		l->cut = 1;
		return;
	}
	put(l, ",", 1);
	put_str(l, key);
	put(l, ":", 1);
	put_str(l, val);
}

void
vr_logv(int level, const char *request_id, const char *msg, va_list ap)
{
	struct line l;
	struct timespec ts;
	struct tm tm;
	char when[64];
	const char *k, *v;

	if (level < min_level || level < 0 || level >= VR_LOG__MAX)
		return;
	l.len = 0;
	l.cut = 0;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(when, sizeof(when), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000);
	put(&l, "{\"time\":", 8);
	put_str(&l, when);
	put_field(&l, "level", level_names[level]);
	put_field(&l, "service", service);
	if (request_id != NULL)
		put_field(&l, "request_id", request_id);
	put_field(&l, "msg", msg);
	while ((k = va_arg(ap, const char *)) != NULL) {
		v = va_arg(ap, const char *);
		put_field(&l, k, v);
	}
	if (l.cut)
		put_raw(&l, ",\"truncated\":true", 17);
	put_raw(&l, "}\n", 2);
	if (write(STDERR_FILENO, l.buf, l.len) < 0)
		return;
}

void
vr_log(int level, const char *request_id, const char *msg, ...)
{
	va_list ap;

	va_start(ap, msg);
	vr_logv(level, request_id, msg, ap);
	va_end(ap);
}
