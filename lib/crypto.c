/*
 * crypto.c - hashing helpers over OpenSSL 3.
 */
#include <stdio.h>

#include <openssl/evp.h>

#include "vr.h"

/* hex: 64 lowercase hex digits and a NUL. */
void
vr_sha256_hex(const void *data, size_t len, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	unsigned int mdlen = 0;
	int i;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[64] = '\0';
}
