/*
 * b64.c - base64url without padding (RFC 4648 section 5), as JWTs and our
 * opaque tokens use it, and standard base64 decoding for key files.
 */
#include <string.h>

#include "vr.h"

static const char url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * out must hold VR_B64URL_LEN(n) bytes; it is NUL-terminated.  Returns
 * the length written (without the NUL).
 */
size_t
vr_b64url_encode(const void *in, size_t n, char *out)
{
	const unsigned char *p = in;
	size_t i, o = 0;
	unsigned long v;

	for (i = 0; i + 2 < n; i += 3) {
		v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8 |
		    p[i + 2];
		out[o++] = url_alphabet[v >> 18 & 63];
		out[o++] = url_alphabet[v >> 12 & 63];
		out[o++] = url_alphabet[v >> 6 & 63];
		out[o++] = url_alphabet[v & 63];
	}
	if (n - i == 1) {
		v = (unsigned long)p[i] << 16;
		out[o++] = url_alphabet[v >> 18 & 63];
		out[o++] = url_alphabet[v >> 12 & 63];
	} else if (n - i == 2) {
		v = (unsigned long)p[i] << 16 | (unsigned long)p[i + 1] << 8;
		out[o++] = url_alphabet[v >> 18 & 63];
		out[o++] = url_alphabet[v >> 12 & 63];
		out[o++] = url_alphabet[v >> 6 & 63];
	}
	out[o] = '\0';
	return o;
}

static int
sextet(int c, int url)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == (url ? '-' : '+'))
		return 62;
	if (c == (url ? '_' : '/'))
		return 63;
	return -1;
}

/*
 * Strict decoding: only the alphabet, no padding for base64url ('=' only
 * at the end for standard base64), and the unused low bits of the last
 * character must be zero, so each byte string has exactly one encoding
 * (a token cannot be altered without changing its bytes).  out must hold
 * VR_B64_DECODED_MAX(n) bytes.  VR_OK or VR_EINVAL.
 */
static int
decode(const char *in, size_t n, unsigned char *out, size_t *outlen, int url)
{
	size_t i, o = 0, rem;
	unsigned long v = 0;
	int s, bits = 0;

	if (!url)
		while (n > 0 && in[n - 1] == '=')
			n--;
	if (n % 4 == 1)
		return VR_EINVAL;
	for (i = 0; i < n; i++) {
		if ((s = sextet((unsigned char)in[i], url)) < 0)
			return VR_EINVAL;
		v = (v << 6 | (unsigned long)s) & 0xffffff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(v >> bits);
		}
	}
	rem = n % 4;
	if (rem != 0 && (v & ((1UL << bits) - 1)) != 0)
		return VR_EINVAL;
	*outlen = o;
	return VR_OK;
}

int
vr_b64url_decode(const char *in, size_t n, unsigned char *out,
    size_t *outlen)
{
	return decode(in, n, out, outlen, 1);
}

int
vr_b64_decode(const char *in, size_t n, unsigned char *out, size_t *outlen)
{
	return decode(in, n, out, outlen, 0);
}
