/*
 * check_mem.c - lib/mem.c: the x* allocation wrappers (out of memory
 * aborts), the request arena and the growable buffer with its JSON string
 * writer.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vr.h"
#include "tests.h"

/*
 * The out-of-memory policy is abort().  These tests turn SIGABRT into
 * exit(ABORTED) so that Check can tell "aborted as required" from any
 * other death, and so coverage data is still written.
 */
#define ABORTED	134

static void
on_abort(int sig)
{
	(void)sig;
	exit(ABORTED);
}

static void
expect_abort(void)
{
	signal(SIGABRT, on_abort);
}

/* ---- x* wrappers --------------------------------------------------- */

START_TEST(xmalloc_zero_and_sizes)
{
	char *p = vr_xmalloc(0), *q = vr_xmalloc(100);

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(q);
	memset(q, 'x', 100);
	free(p);
	free(q);
}
END_TEST

START_TEST(xcalloc_zeroes)
{
	unsigned char *p = vr_xcalloc(64, 4), *z = vr_xcalloc(0, 0);
	int i;

	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(z);
	for (i = 0; i < 256; i++)
		ck_assert_uint_eq(p[i], 0);
	free(p);
	free(z);
}
END_TEST

START_TEST(xrealloc_keeps_contents)
{
	char *p = vr_xrealloc(NULL, 4);

	memcpy(p, "abc", 4);
	p = vr_xrealloc(p, 100000);
	ck_assert_str_eq(p, "abc");
	p = vr_xrealloc(p, 0);
	ck_assert_ptr_nonnull(p);
	free(p);
}
END_TEST

START_TEST(xstrdup_copies)
{
	const char *s = "VetRed ñ";
	char *d = vr_xstrdup(s), *e = vr_xstrdup("");

	ck_assert_ptr_ne(d, s);
	ck_assert_str_eq(d, s);
	ck_assert_str_eq(e, "");
	free(d);
	free(e);
}
END_TEST

START_TEST(xmalloc_oom_aborts)
{
	expect_abort();
	vr_xmalloc(SIZE_MAX);
	ck_abort_msg("vr_xmalloc(SIZE_MAX) returned");
}
END_TEST

START_TEST(xcalloc_oom_aborts)
{
	expect_abort();
	vr_xcalloc(SIZE_MAX / 2, 4);
	ck_abort_msg("vr_xcalloc(SIZE_MAX / 2, 4) returned");
}
END_TEST

START_TEST(xrealloc_oom_aborts)
{
	static char *p;	/* static: still reachable, not a leak, at exit */

	p = vr_xmalloc(16);
	expect_abort();
	p = vr_xrealloc(p, SIZE_MAX);
	ck_abort_msg("vr_xrealloc(p, SIZE_MAX) returned %p", (void *)p);
}
END_TEST

/* ---- arena --------------------------------------------------------- */

START_TEST(arena_alignment_and_zero)
{
	struct vr_arena a;
	void *p, *q;
	size_t n;

	vr_arena_init(&a);
	for (n = 0; n < 100; n++) {
		p = vr_arena_alloc(&a, n);
		ck_assert_ptr_nonnull(p);
		ck_assert_uint_eq((uintptr_t)p % 16, 0);
	}
	p = vr_arena_alloc(&a, 0);
	q = vr_arena_alloc(&a, 0);
	ck_assert_ptr_ne(p, q);
	vr_arena_free(&a);
}
END_TEST

/* Many blocks over several chunks keep their contents until reset. */
START_TEST(arena_many_chunks_keep_contents)
{
	struct vr_arena a;
	unsigned char *blk[600];
	size_t i, j, n;

	vr_arena_init(&a);
	for (i = 0; i < 600; i++) {
		n = 1 + (i * 37) % 300;
		blk[i] = vr_arena_alloc(&a, n);
		memset(blk[i], (int)(i & 0xff), n);
	}
	for (i = 0; i < 600; i++) {
		n = 1 + (i * 37) % 300;
		for (j = 0; j < n; j++)
			ck_assert_uint_eq(blk[i][j], i & 0xff);
	}
	vr_arena_free(&a);
	ck_assert_ptr_null(a.head);
	ck_assert_ptr_null(a.first);
}
END_TEST

START_TEST(arena_large_block)
{
	struct vr_arena a;
	char *small, *big, *after;

	vr_arena_init(&a);
	small = vr_arena_strdup(&a, "small");
	big = vr_arena_alloc(&a, 100000);
	memset(big, 'b', 100000);
	after = vr_arena_strdup(&a, "after");
	ck_assert_str_eq(small, "small");
	ck_assert_str_eq(after, "after");
	ck_assert_int_eq(big[99999], 'b');
	vr_arena_free(&a);
}
END_TEST

/* Reset frees all chunks but the first, which is reused from its start. */
START_TEST(arena_reset_reuses_first_chunk)
{
	struct vr_arena a;
	void *first, *again;
	int i;

	vr_arena_init(&a);
	vr_arena_reset(&a);		/* on an empty arena: harmless */
	first = vr_arena_alloc(&a, 32);
	for (i = 0; i < 10; i++)
		vr_arena_alloc(&a, 10000);
	ck_assert_ptr_ne(a.head, a.first);
	vr_arena_reset(&a);
	ck_assert_ptr_eq(a.head, a.first);
	again = vr_arena_alloc(&a, 32);
	ck_assert_ptr_eq(first, again);
	vr_arena_reset(&a);
	vr_arena_free(&a);
	vr_arena_free(&a);		/* twice: harmless */
}
END_TEST

/* Cleanups record the order they ran in. */
static int ran[8], nran;

static void
note(void *p)
{
	ran[nran++] = *(int *)p;
}

/* A cleanup that registers another one (note(&late)) on its arena. */
static int late = 9;

static void
note_and_defer(void *a)
{
	ran[nran++] = 8;
	vr_arena_defer(a, note, &late);
}

/*
 * Cleanups run at the next reset, the latest registered first, once each
 * (a pair registered twice runs once), and not again at the next reset;
 * free runs the ones left.
 */
START_TEST(arena_cleanups_run_once_latest_first)
{
	struct vr_arena a;
	int one = 1, two = 2, three = 3;

	nran = 0;
	vr_arena_init(&a);
	vr_arena_defer(&a, note, &one);
	vr_arena_defer(&a, note, &two);
	vr_arena_defer(&a, note, &one);		/* again: once */
	vr_arena_defer(&a, note, NULL);		/* nothing to do */
	vr_arena_alloc(&a, 40000);		/* a second chunk */
	vr_arena_defer(&a, free, vr_xmalloc(10));	/* ASan: no leak */
	ck_assert_int_eq(nran, 0);
	vr_arena_reset(&a);
	ck_assert_int_eq(nran, 2);
	ck_assert_int_eq(ran[0], 2);
	ck_assert_int_eq(ran[1], 1);
	vr_arena_reset(&a);
	ck_assert_int_eq(nran, 2);
	vr_arena_defer(&a, note, &three);
	vr_arena_defer(&a, note_and_defer, &a);
	vr_arena_free(&a);
	ck_assert_int_eq(nran, 5);
	ck_assert_int_eq(ran[2], 8);
	ck_assert_int_eq(ran[3], 9);		/* registered by a cleanup */
	ck_assert_int_eq(ran[4], 3);
	ck_assert_ptr_null(a.cleanups);
}
END_TEST

START_TEST(arena_strings)
{
	struct vr_arena a;
	char *s, *big;
	char want[20001];

	vr_arena_init(&a);
	ck_assert_str_eq(vr_arena_strdup(&a, "hola"), "hola");
	ck_assert_str_eq(vr_arena_strdup(&a, ""), "");
	ck_assert_str_eq(vr_arena_strndup(&a, "abcdef", 3), "abc");
	ck_assert_str_eq(vr_arena_strndup(&a, "abc", 0), "");
	s = vr_arena_printf(&a, "%s-%05d-%c", "LIM", 42, 'x');
	ck_assert_str_eq(s, "LIM-00042-x");
	ck_assert_str_eq(vr_arena_printf(&a, "%s", ""), "");
	memset(want, 'z', 20000);
	want[20000] = '\0';
	big = vr_arena_printf(&a, "%s", want);
	ck_assert_str_eq(big, want);
	vr_arena_free(&a);
}
END_TEST

/*
 * BUG (lib/mem.c:98): the rounding (n + 15) & ~15 wraps for n near
 * SIZE_MAX, so vr_arena_alloc(SIZE_MAX) hands out a 16-byte block instead
 * of applying the out-of-memory policy (and sizeof(chunk) + size can wrap
 * in chunk_new, a heap overflow).  Expected: abort like vr_xmalloc().
 */
START_TEST(arena_alloc_huge_aborts)
{
	struct vr_arena a;
	void *p;

	vr_arena_init(&a);
	expect_abort();
	p = vr_arena_alloc(&a, SIZE_MAX);
	ck_abort_msg("vr_arena_alloc(SIZE_MAX) returned %p instead of "
	    "aborting: size overflow in lib/mem.c:98", p);
}
END_TEST

/* ---- buffer -------------------------------------------------------- */

START_TEST(buf_append_grows_and_terminates)
{
	struct vr_buf b;
	size_t i;

	vr_buf_init(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.len, 0);
	vr_buf_append(&b, "ab", 2);
	ck_assert_str_eq(b.data, "ab");
	ck_assert_uint_eq(b.len, 2);
	for (i = 0; i < 5000; i++)
		vr_buf_append(&b, "0123456789", 10);
	ck_assert_uint_eq(b.len, 50002);
	ck_assert_uint_ge(b.cap, b.len + 1);
	ck_assert_int_eq(b.data[b.len], '\0');
	ck_assert_int_eq(b.data[50001], '9');
	vr_buf_append(&b, "x", 0);
	ck_assert_uint_eq(b.len, 50002);
	vr_buf_free(&b);
	ck_assert_ptr_null(b.data);
	ck_assert_uint_eq(b.cap, 0);
}
END_TEST

START_TEST(buf_binary_bytes)
{
	struct vr_buf b;

	vr_buf_init(&b);
	vr_buf_append(&b, "a\0b", 3);
	ck_assert_uint_eq(b.len, 3);
	ck_assert_mem_eq(b.data, "a\0b\0", 4);
	vr_buf_free(&b);
}
END_TEST

START_TEST(buf_puts_printf_reset)
{
	struct vr_buf b;
	size_t cap;
	char big[3000];

	vr_buf_init(&b);
	vr_buf_reset(&b);		/* on an empty buffer: harmless */
	vr_buf_puts(&b, "n=");
	vr_buf_printf(&b, "%d,%s", 42, "x");
	ck_assert_str_eq(b.data, "n=42,x");
	vr_buf_printf(&b, "%s", "");	/* nothing to add */
	ck_assert_str_eq(b.data, "n=42,x");
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	vr_buf_printf(&b, "[%s]", big);
	ck_assert_uint_eq(b.len, 6 + 2 + sizeof(big) - 1);
	ck_assert_int_eq(b.data[b.len - 1], ']');
	cap = b.cap;
	vr_buf_reset(&b);
	ck_assert_uint_eq(b.len, 0);
	ck_assert_str_eq(b.data, "");
	ck_assert_uint_eq(b.cap, cap);
	vr_buf_puts(&b, "again");
	ck_assert_str_eq(b.data, "again");
	vr_buf_free(&b);
}
END_TEST

static char *
json_string(const char *s)
{
	static char out[4096];
	struct vr_buf b;

	vr_buf_init(&b);
	vr_buf_json_string(&b, s);
	snprintf(out, sizeof(out), "%s", b.data);
	vr_buf_free(&b);
	return out;
}

START_TEST(json_string_escapes)
{
	ck_assert_str_eq(json_string(""), "\"\"");
	ck_assert_str_eq(json_string("abc"), "\"abc\"");
	ck_assert_str_eq(json_string("a\"b"), "\"a\\\"b\"");
	ck_assert_str_eq(json_string("a\\b"), "\"a\\\\b\"");
	ck_assert_str_eq(json_string("\n\r\t"), "\"\\n\\r\\t\"");
	ck_assert_str_eq(json_string("\x01\x1f\b\f"),
	    "\"\\u0001\\u001f\\u0008\\u000c\"");
	ck_assert_str_eq(json_string("\x7f"), "\"\x7f\"");
	ck_assert_str_eq(json_string("ñ€😀"), "\"ñ€😀\"");
	ck_assert_str_eq(json_string("</script>"), "\"</script>\"");
}
END_TEST

/* Every byte 1..255 survives a round trip through a JSON parser. */
START_TEST(json_string_roundtrip)
{
	char in[256], *text;
	struct vr_buf b;
	cJSON *v;
	int i;

	for (i = 1; i < 256; i++)
		in[i - 1] = (char)i;
	in[255] = '\0';
	vr_buf_init(&b);
	vr_buf_json_string(&b, in);
	text = b.data;
	v = cJSON_Parse(text);
	ck_assert_msg(v != NULL, "not JSON: %s", text);
	ck_assert(cJSON_IsString(v));
	ck_assert_str_eq(v->valuestring, in);
	cJSON_Delete(v);
	vr_buf_free(&b);
}
END_TEST

Suite *
mem_suite(void)
{
	Suite *s = suite_create("mem");
	TCase *tc;

	tc = tcase_create("xalloc");
	tcase_add_test(tc, xmalloc_zero_and_sizes);
	tcase_add_test(tc, xcalloc_zeroes);
	tcase_add_test(tc, xrealloc_keeps_contents);
	tcase_add_test(tc, xstrdup_copies);
	tcase_add_exit_test(tc, xmalloc_oom_aborts, ABORTED);
	tcase_add_exit_test(tc, xcalloc_oom_aborts, ABORTED);
	tcase_add_exit_test(tc, xrealloc_oom_aborts, ABORTED);
	suite_add_tcase(s, tc);

	tc = tcase_create("arena");
	tcase_add_test(tc, arena_alignment_and_zero);
	tcase_add_test(tc, arena_many_chunks_keep_contents);
	tcase_add_test(tc, arena_large_block);
	tcase_add_test(tc, arena_reset_reuses_first_chunk);
	tcase_add_test(tc, arena_strings);
	tcase_add_test(tc, arena_cleanups_run_once_latest_first);
	tcase_add_exit_test(tc, arena_alloc_huge_aborts, ABORTED);
	suite_add_tcase(s, tc);

	tc = tcase_create("buf");
	tcase_add_test(tc, buf_append_grows_and_terminates);
	tcase_add_test(tc, buf_binary_bytes);
	tcase_add_test(tc, buf_puts_printf_reset);
	tcase_add_test(tc, json_string_escapes);
	tcase_add_test(tc, json_string_roundtrip);
	suite_add_tcase(s, tc);
	return s;
}
