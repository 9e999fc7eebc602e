/*
 * mem.c - allocation wrappers and the request arena.
 *
 * Out of memory has one policy: log it and abort.  Callers never test for
 * NULL.  The arena hands out 16-byte aligned blocks from chunks; a reset
 * frees all chunks but the first, so a thread serving requests reuses one
 * chunk and rarely calls malloc.  Cleanups tie other memory (a cJSON
 * tree, a PGresult) to the arena, so a request's memory of every kind is
 * released in one place: the reset after its answer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vr.h"

#define ARENA_CHUNK	(16 * 1024)
#define ARENA_ALIGN	16

struct vr_arena_chunk {
	struct vr_arena_chunk	*next;
	size_t			 size;
	size_t			 used;
	_Alignas(16) unsigned char data[];
};

static void
oom(size_t n)
{
	struct vr_log_field f[] = { VR_LF_INT("bytes", n) };

	vr_log_fields(VR_LOG_ERROR, NULL, "out of memory", f, 1);
	abort();
}

void *
vr_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *
vr_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		oom(n * size);
	return p;
}

void *
vr_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n);
	return q;
}

char *
vr_xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(vr_xmalloc(n), s, n);
}

struct vr_arena_cleanup {
	struct vr_arena_cleanup	*next;
	vr_cleanup_fn		*fn;
	void			*p;
};

void
vr_arena_init(struct vr_arena *a)
{
	a->head = a->first = NULL;
	a->cleanups = NULL;
}

static struct vr_arena_chunk *
chunk_new(size_t min)
{
	size_t size = min > ARENA_CHUNK ? min : ARENA_CHUNK;
	struct vr_arena_chunk *c;

	c = vr_xmalloc(sizeof(*c) + size);
	c->next = NULL;
	c->size = size;
	c->used = 0;
	return c;
}

void *
vr_arena_alloc(struct vr_arena *a, size_t n)
{
	struct vr_arena_chunk *c = a->head;
	size_t off;

	if (n > SIZE_MAX / 2)
		oom(n);
	n = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (n == 0)
		n = ARENA_ALIGN;
	if (c == NULL || c->size - c->used < n) {
		c = chunk_new(n);
		if (a->first == NULL)
			a->first = c;
		else
			c->next = a->head;
		a->head = c;
	}
	off = c->used;
	c->used += n;
	return c->data + off;
}

char *
vr_arena_strndup(struct vr_arena *a, const char *s, size_t n)
{
	char *p = vr_arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
vr_arena_strdup(struct vr_arena *a, const char *s)
{
	return vr_arena_strndup(a, s, strlen(s));
}

char *
vr_arena_printf(struct vr_arena *a, const char *fmt, ...)
{
	va_list ap;
	int n;
	char *p;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	p = vr_arena_alloc(a, (size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/*
 * fn(p) runs at the next reset or free of a (p NULL: nothing to do).  The
 * same fn and p registered again are registered once: giving an object to
 * the arena twice does not free it twice.  The record lives in the arena.
 */
void
vr_arena_defer(struct vr_arena *a, vr_cleanup_fn *fn, void *p)
{
	struct vr_arena_cleanup *c;

	if (p == NULL)
		return;
	for (c = a->cleanups; c != NULL; c = c->next)
		if (c->fn == fn && c->p == p)
			return;
	c = vr_arena_alloc(a, sizeof(*c));
	c->fn = fn;
	c->p = p;
	c->next = a->cleanups;
	a->cleanups = c;
}

/* The cleanups, latest first; one registered by a cleanup runs too. */
static void
run_cleanups(struct vr_arena *a)
{
	struct vr_arena_cleanup *c;

	while ((c = a->cleanups) != NULL) {
		a->cleanups = c->next;
		c->fn(c->p);
	}
}

/*
 * Chunks form a list from head to first; first is the oldest and is the
 * one kept on reset.
 */
void
vr_arena_reset(struct vr_arena *a)
{
	struct vr_arena_chunk *c, *next;

	run_cleanups(a);
	for (c = a->head; c != NULL && c != a->first; c = next) {
		next = c->next;
		free(c);
	}
	a->head = a->first;
	if (a->first != NULL)
		a->first->used = 0;
}

void
vr_arena_free(struct vr_arena *a)
{
	vr_arena_reset(a);
	free(a->first);
	a->head = a->first = NULL;
}

void
vr_buf_init(struct vr_buf *b)
{
	b->data = NULL;
	b->len = b->cap = 0;
}

void
vr_buf_free(struct vr_buf *b)
{
	free(b->data);
	vr_buf_init(b);
}

void
vr_buf_reset(struct vr_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static void
buf_grow(struct vr_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 256;
	while (b->cap < need)
		b->cap *= 2;
	b->data = vr_xrealloc(b->data, b->cap);
}

void
vr_buf_append(struct vr_buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
vr_buf_puts(struct vr_buf *b, const char *s)
{
	vr_buf_append(b, s, strlen(s));
}

void
vr_buf_printf(struct vr_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n <= 0)
		return;
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* Append s as a quoted JSON string (control characters escaped). */
void
vr_buf_json_string(struct vr_buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p;
	char esc[6] = { '\\', 'u', '0', '0', 0, 0 };

	vr_buf_append(b, "\"", 1);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			vr_buf_append(b, "\\\"", 2);
			break;
		case '\\':
			vr_buf_append(b, "\\\\", 2);
			break;
		case '\n':
			vr_buf_append(b, "\\n", 2);
			break;
		case '\r':
			vr_buf_append(b, "\\r", 2);
			break;
		case '\t':
			vr_buf_append(b, "\\t", 2);
			break;
		default:
			if (*p < 0x20) {
				esc[4] = hex[*p >> 4];
				esc[5] = hex[*p & 0xf];
				vr_buf_append(b, esc, 6);
			} else
				vr_buf_append(b, p, 1);
		}
	}
	vr_buf_append(b, "\"", 1);
}
