/*
 * check_b64.c - lib/b64.c: the RFC 4648 test vectors, the url alphabet,
 * round trips of every byte value and of many lengths, and the strict
 * decoder: one encoding per byte string, so a token cannot be altered
 * without changing its bytes.
 *
 * Buffers are allocated at exactly the sizes the macros of vr.h give, so
 * AddressSanitizer sees any write past them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vr.h"
#include "tests.h"

/* RFC 4648 section 10, without and with padding. */
static const struct {
	const char	*plain;
	const char	*url;
	const char	*std;
} rfc[] = {
	{ "", "", "" },
	{ "f", "Zg", "Zg==" },
	{ "fo", "Zm8", "Zm8=" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

#define NRFC	(sizeof(rfc) / sizeof(rfc[0]))

/* Encode n bytes into a buffer of exactly VR_B64URL_LEN(n); caller frees. */
static char *
encode(const void *in, size_t n)
{
	char *out = vr_xmalloc(VR_B64URL_LEN(n));
	size_t len;

	len = vr_b64url_encode(in, n, out);
	ck_assert_uint_eq(len + 1, VR_B64URL_LEN(n));
	ck_assert_uint_eq(strlen(out), len);
	return out;
}

/*
 * Decode s (url or standard) into a buffer of exactly
 * VR_B64_DECODED_MAX(strlen(s)); returns the decoder's code.
 */
static int
decode(const char *s, int url, unsigned char **out, size_t *outlen)
{
	size_t n = strlen(s);
	int rc;

	*out = vr_xmalloc(VR_B64_DECODED_MAX(n));
	*outlen = (size_t)-1;
	rc = url ? vr_b64url_decode(s, n, *out, outlen) :
	    vr_b64_decode(s, n, *out, outlen);
	return rc;
}

static void
refused(const char *s, int url)
{
	unsigned char *buf;
	size_t len;

	ck_assert_msg(decode(s, url, &buf, &len) == VR_EINVAL,
	    "\"%s\" accepted by the %s decoder", s, url ? "url" : "standard");
	free(buf);
}

static void
decodes_to(const char *s, int url, const char *plain)
{
	unsigned char *buf;
	size_t len;

	ck_assert_msg(decode(s, url, &buf, &len) == VR_OK,
	    "\"%s\" refused by the %s decoder", s, url ? "url" : "standard");
	ck_assert_uint_eq(len, strlen(plain));
	ck_assert_msg(memcmp(buf, plain, len) == 0, "\"%s\" decoded wrongly",
	    s);
	free(buf);
}

START_TEST(length_macros)
{
	ck_assert_uint_eq(VR_B64URL_LEN(0), 1);
	ck_assert_uint_eq(VR_B64URL_LEN(1), 3);
	ck_assert_uint_eq(VR_B64URL_LEN(2), 4);
	ck_assert_uint_eq(VR_B64URL_LEN(3), 5);
	ck_assert_uint_eq(VR_B64URL_LEN(32), 44);	/* an HS256 MAC */
	ck_assert_uint_eq(VR_B64_DECODED_MAX(0), 3);
	ck_assert_uint_ge(VR_B64_DECODED_MAX(2), 1);
	ck_assert_uint_ge(VR_B64_DECODED_MAX(3), 2);
	ck_assert_uint_ge(VR_B64_DECODED_MAX(43), 32);
	ck_assert_uint_ge(VR_B64_DECODED_MAX(44), 33);
}
END_TEST

START_TEST(rfc4648_encode)
{
	size_t i;
	char *s;

	for (i = 0; i < NRFC; i++) {
		s = encode(rfc[i].plain, strlen(rfc[i].plain));
		ck_assert_str_eq(s, rfc[i].url);
		free(s);
	}
}
END_TEST

START_TEST(rfc4648_decode_url)
{
	size_t i;

	for (i = 0; i < NRFC; i++)
		decodes_to(rfc[i].url, 1, rfc[i].plain);
}
END_TEST

/* Key files hold standard base64: padded or not, both are read. */
START_TEST(rfc4648_decode_standard)
{
	size_t i;

	for (i = 0; i < NRFC; i++) {
		decodes_to(rfc[i].std, 0, rfc[i].plain);
		decodes_to(rfc[i].url, 0, rfc[i].plain);
	}
}
END_TEST

/* The decoder reads n characters, not up to a NUL. */
START_TEST(decode_reads_n_only)
{
	unsigned char out[VR_B64_DECODED_MAX(8)];
	size_t len;

	ck_assert_int_eq(vr_b64url_decode("Zm9vYmFy!!!", 8, out, &len),
	    VR_OK);
	ck_assert_uint_eq(len, 6);
	ck_assert(memcmp(out, "foobar", 6) == 0);
	ck_assert_int_eq(vr_b64url_decode("Zm9v", 0, out, &len), VR_OK);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(vr_b64_decode("Zm8=Zm8=", 4, out, &len), VR_OK);
	ck_assert_uint_eq(len, 2);
}
END_TEST

/* 0xfb 0xff 0xbf is 62 63 62 63: the two characters the alphabets differ in. */
START_TEST(url_alphabet)
{
	static const unsigned char b[] = { 0xfb, 0xff, 0xbf, 0xfb, 0xff };
	unsigned char *out;
	size_t len;
	char *s;

	s = encode(b, 3);
	ck_assert_str_eq(s, "-_-_");
	free(s);
	s = encode(b, 2);
	ck_assert_str_eq(s, "-_8");
	free(s);
	s = encode(b, 5);
	ck_assert_str_eq(s, "-_-_-_8");
	ck_assert_int_eq(decode(s, 1, &out, &len), VR_OK);
	ck_assert_uint_eq(len, 5);
	ck_assert(memcmp(out, b, 5) == 0);
	free(out);
	free(s);
	ck_assert_int_eq(decode("+/+/", 0, &out, &len), VR_OK);
	ck_assert_uint_eq(len, 3);
	ck_assert(memcmp(out, b, 3) == 0);
	free(out);
}
END_TEST

START_TEST(round_trip_each_byte)
{
	unsigned char in, *out;
	size_t len;
	char *s;
	int c;

	for (c = 0; c < 256; c++) {
		in = (unsigned char)c;
		s = encode(&in, 1);
		ck_assert_int_eq(decode(s, 1, &out, &len), VR_OK);
		ck_assert_uint_eq(len, 1);
		ck_assert_int_eq(out[0], c);
		free(out);
		free(s);
	}
}
END_TEST

START_TEST(round_trip_all_bytes)
{
	unsigned char in[256], *out;
	size_t i, len;
	char *s;

	for (i = 0; i < sizeof(in); i++)
		in[i] = (unsigned char)i;
	s = encode(in, sizeof(in));
	ck_assert_uint_eq(strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789-_"), strlen(s));
	ck_assert_int_eq(decode(s, 1, &out, &len), VR_OK);
	ck_assert_uint_eq(len, sizeof(in));
	ck_assert(memcmp(out, in, sizeof(in)) == 0);
	free(out);
	free(s);
}
END_TEST

/* xorshift32: the same "random" bytes on every run. */
static uint32_t
next_rand(uint32_t *state)
{
	uint32_t x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

START_TEST(round_trip_lengths)
{
	uint32_t state = 0x9e3779b9;
	unsigned char *in, *out;
	size_t n, i, len;
	char *s;
	int round;

	for (round = 0; round < 4; round++)
		for (n = 0; n <= 100; n++) {
			in = vr_xmalloc(n + 1);
			for (i = 0; i < n; i++)
				in[i] = (unsigned char)next_rand(&state);
			s = encode(in, n);
			ck_assert_uint_ne(strlen(s) % 4, 1);
			ck_assert_ptr_null(strchr(s, '='));
			ck_assert_int_eq(decode(s, 1, &out, &len), VR_OK);
			ck_assert_uint_eq(len, n);
			ck_assert_msg(memcmp(out, in, n) == 0,
			    "length %zu does not round-trip", n);
			free(out);
			free(s);
			free(in);
		}
}
END_TEST

START_TEST(url_refuses_padding)
{
	static const char *const bad[] = { "Zg==", "Zg=", "Zm8=", "Zm9v=",
	    "=", "====", "Zm9vYg==", "Z=g", "Zg==Zg" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i], 1);
}
END_TEST

START_TEST(url_refuses_standard_alphabet)
{
	static const char *const bad[] = { "+/8", "+_-_", "-_-/", "Zm+v",
	    "Zm9/" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i], 1);
}
END_TEST

START_TEST(standard_refuses_url_alphabet)
{
	static const char *const bad[] = { "-_8", "-_-_", "+/-/", "Zm-v",
	    "Zm9_", "Zm9_Yg==" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i], 0);
}
END_TEST

/* One character left over holds 6 bits: never a whole byte. */
START_TEST(refuses_length_mod_4_is_1)
{
	static const char *const bad[] = { "Z", "A", "Zm9vY", "Zm9vYmFyZ",
	    "AAAAAAAAA" };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		refused(bad[i], 1);
		refused(bad[i], 0);
	}
	refused("Z===", 0);
	refused("Zm9vY===", 0);
}
END_TEST

START_TEST(refuses_invalid_characters)
{
	static const char *const bad[] = { " Zg", "Zg ", "Zm 9v", "Zm9v\n",
	    "Zm9v\r\n", "\tZm9v", "Zm9v.", "Zm9v*", "Zm9v:", "Zm9v@", "Zm9v[",
	    "Zm9v`", "Zm9v{", "Zm9v~", "Zm9v\"", "Zm9v\\", "Zm9v\x7f",
	    "Zm9v\x80", "Zm9v\xff", "Zm9vñ", "Zm9v=Zm9v", "Zm=v" };
	unsigned char out[16];
	size_t i, len;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		refused(bad[i], 1);
		refused(bad[i], 0);
	}
	/* A NUL within the n characters is not the end of the input. */
	ck_assert_int_eq(vr_b64url_decode("Zm9v\0Zm9", 8, out, &len),
	    VR_EINVAL);
	ck_assert_int_eq(vr_b64_decode("Zg\0\0", 4, out, &len), VR_EINVAL);
}
END_TEST

/*
 * The low bits of the last character that fall outside the last byte
 * must be zero: "Zg" is "f", "Zh".."Zv" would decode to "f" too.
 */
START_TEST(refuses_noncanonical_bits)
{
	static const char *const bad[] = { "Zh", "Zi", "Zj", "Zv",
	    "Z_", "Zm9", "Zm-", "Zm_", "Zm9vYh", "Zm9vYmF" };
	static const char *const bad_std[] = { "Zh==", "Zv==", "Zm9=", "Zm/=",
	    "Zm9vYh==", "Zm9vYmF=" };
	size_t i;

	decodes_to("Zg", 1, "f");
	decodes_to("Zm8", 1, "fo");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		refused(bad[i], 1);
	for (i = 0; i < sizeof(bad_std) / sizeof(bad_std[0]); i++)
		refused(bad_std[i], 0);
}
END_TEST

/* Every 43-character MAC encoding decodes to 32 bytes or is refused. */
START_TEST(mac_length)
{
	unsigned char mac[32], *out;
	size_t len;
	char *s;

	memset(mac, 0xa5, sizeof(mac));
	s = encode(mac, sizeof(mac));
	ck_assert_uint_eq(strlen(s), 43);
	ck_assert_int_eq(decode(s, 1, &out, &len), VR_OK);
	ck_assert_uint_eq(len, 32);
	ck_assert(memcmp(out, mac, 32) == 0);
	free(out);
	free(s);
}
END_TEST

Suite *
b64_suite(void)
{
	Suite *s = suite_create("b64");
	TCase *tc;

	tc = tcase_create("encode");
	tcase_add_test(tc, length_macros);
	tcase_add_test(tc, rfc4648_encode);
	tcase_add_test(tc, url_alphabet);
	tcase_add_test(tc, round_trip_each_byte);
	tcase_add_test(tc, round_trip_all_bytes);
	tcase_add_test(tc, round_trip_lengths);
	tcase_add_test(tc, mac_length);
	suite_add_tcase(s, tc);

	tc = tcase_create("decode");
	tcase_add_test(tc, rfc4648_decode_url);
	tcase_add_test(tc, rfc4648_decode_standard);
	tcase_add_test(tc, decode_reads_n_only);
	tcase_add_test(tc, url_refuses_padding);
	tcase_add_test(tc, url_refuses_standard_alphabet);
	tcase_add_test(tc, standard_refuses_url_alphabet);
	tcase_add_test(tc, refuses_length_mod_4_is_1);
	tcase_add_test(tc, refuses_invalid_characters);
	tcase_add_test(tc, refuses_noncanonical_bits);
	suite_add_tcase(s, tc);
	return s;
}
