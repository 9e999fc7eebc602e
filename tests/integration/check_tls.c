/*
 * check_tls.c - nginx's HTTPS: TLS 1.3 only, the stack's certificate,
 * and the security headers on every response (HTTPS and loopback HTTP).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "itest.h"

static size_t
keep(char *p, size_t size, size_t n, void *arg)
{
	struct http_resp *r = arg;
	size_t len = size * n;
	char *h = realloc(r->headers, r->hlen + len + 1);

	ck_assert_ptr_nonnull(h);
	memcpy(h + r->hlen, p, len);
	r->hlen += len;
	h[r->hlen] = '\0';
	r->headers = h;
	return len;
}

static size_t
discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

/* GET over HTTPS with the TLS versions [min, max]; the curl result. */
static CURLcode
https_get(const char *path, long versions, struct http_resp *r)
{
	const char *base = getenv("VETRED_HTTPS_URL"), *ca = getenv("VETRED_TLS_CA");
	char url[512];
	CURLcode rc;
	CURL *c;

	ck_assert_msg(base && ca, "VETRED_HTTPS_URL and VETRED_TLS_CA are set "
	    "by ci/stack.sh");
	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "%s%s", base, path);
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, ca);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, versions);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, keep);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_cleanup(c);
	return rc;
}

static void
assert_security_headers(struct http_resp *r)
{
	static const char *const want[] = {
		"Strict-Transport-Security", "X-Content-Type-Options",
		"X-Frame-Options", "Referrer-Policy", "Content-Security-Policy",
		"Cross-Origin-Opener-Policy", "X-Request-Id",
	};
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(http_header(r, want[i], buf, sizeof(buf)) != NULL,
		    "no %s in:\n%s", want[i], r->headers);
	http_header(r, "Strict-Transport-Security", buf, sizeof(buf));
	ck_assert_ptr_nonnull(strstr(buf, "max-age=63072000"));
}

START_TEST(https_solo_tls13)
{
	struct http_resp r;
	CURLcode rc;

	rc = https_get("/health", CURL_SSLVERSION_TLSv1_3, &r);
	ck_assert_msg(rc == CURLE_OK, "TLS 1.3: %s", curl_easy_strerror(rc));
	ck_assert_int_eq(r.status, 200);
	assert_security_headers(&r);
	free(r.headers);

	/* TLS 1.2 and older: no handshake. */
	rc = https_get("/health", CURL_SSLVERSION_TLSv1_2 |
	    CURL_SSLVERSION_MAX_TLSv1_2, &r);
	ck_assert_msg(rc != CURLE_OK, "a TLS 1.2 handshake succeeded");
	free(r.headers);
	rc = https_get("/health", CURL_SSLVERSION_TLSv1_0 |
	    CURL_SSLVERSION_MAX_TLSv1_1, &r);
	ck_assert_msg(rc != CURLE_OK, "a TLS 1.0/1.1 handshake succeeded");
	free(r.headers);

	/* The API behind it: a protected route still wants its token. */
	rc = https_get("/api/v1/sedes", CURL_SSLVERSION_TLSv1_3, &r);
	ck_assert_int_eq(rc, CURLE_OK);
	ck_assert_int_eq(r.status, 401);
	assert_security_headers(&r);
	free(r.headers);
}
END_TEST

/* The loopback HTTP answers carry the same headers, errors included. */
START_TEST(cabeceras_en_toda_respuesta)
{
	static const char *const paths[] = { "/", "/health", "/no-existe",
	    "/api/v1/no-existe", "/docs/" };
	struct http_resp r;
	size_t i;

	for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		http_get(paths[i], &r);
		assert_security_headers(&r);
		http_free(&r);
	}
}
END_TEST

Suite *
tls_suite(void)
{
	Suite *s = suite_create("tls");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, https_solo_tls13);
	tcase_add_test(tc, cabeceras_en_toda_respuesta);
	suite_add_tcase(s, tc);
	return s;
}
