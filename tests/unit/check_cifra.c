/*
 * check_cifra.c - column encryption (lib/cifra.c): AES-256-GCM sealing
 * with the column bound in (v2: "table.column"; v1: its name, still
 * opened), the one table of sealed columns, key rotation, refusals,
 * search hashes; and the e-mail check the API applies before sealing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "vr.h"
#include "tests.h"

static struct vr_jwt_keys ring;

/* A keyring of n random 32-byte keys named k1..kn (k1 seals). */
static void
ring_of(int n)
{
	int i;

	memset(&ring, 0, sizeof(ring));
	for (i = 0; i < n; i++) {
		snprintf(ring.k[i].kid, sizeof(ring.k[i].kid), "k%d", i + 1);
		ring.k[i].len = 32;
		ck_assert_int_eq(RAND_bytes(ring.k[i].key, 32), 1);
	}
	ring.n = n;
}

START_TEST(seal_and_open)
{
	static const char *const plains[] = { "", "41235678", "+51987654321",
	    "ñandú@correo.pe", "Av. José Gálvez 1234, dpto. 5 — Lima" };
	char *s, *p;
	size_t i;

	ring_of(2);
	for (i = 0; i < sizeof(plains) / sizeof(plains[0]); i++) {
		ck_assert_int_eq(vr_seal(&ring.k[0], "telefono", plains[i], &s),
		    VR_OK);
		ck_assert(vr_is_sealed(s));
		ck_assert_int_eq(strncmp(s, "v1:k1:", 6), 0);
		ck_assert_ptr_null(strstr(s, plains[i][0] ? plains[i] : "\x01"));
		ck_assert_int_eq(vr_unseal(&ring, "telefono", s, &p), VR_OK);
		ck_assert_str_eq(p, plains[i]);
		free(p);
		free(s);
	}
}
END_TEST

/* v2: bound to table.column; another column, of any table, refuses it. */
START_TEST(column_bound)
{
	static const struct vr_sealed_col other_email = { "usuarios", "email",
	    0 };
	const struct vr_sealed_col *email = vr_sealed_col("propietarios",
	    "email");
	char *s, *p = NULL;

	ring_of(2);
	ck_assert_ptr_nonnull(email);
	ck_assert_int_eq(vr_seal_col(&ring.k[0], email, "rosa@correo.pe", &s),
	    VR_OK);
	ck_assert_int_eq(strncmp(s, "v2:k1:", 6), 0);
	ck_assert_int_eq(vr_seal_version(s), 2);
	ck_assert(vr_is_sealed(s));
	ck_assert_int_eq(vr_unseal_col(&ring, email, s, &p), VR_OK);
	ck_assert_str_eq(p, "rosa@correo.pe");
	free(p);
	p = NULL;
	ck_assert_int_eq(vr_unseal_col(&ring, &other_email, s, &p), VR_EAUTH);
	ck_assert_ptr_null(p);
	ck_assert_int_eq(vr_unseal_col(&ring, vr_sealed_col("propietarios",
	    "telefono"), s, &p), VR_EAUTH);
	ck_assert_int_eq(vr_unseal(&ring, "email", s, &p), VR_EAUTH);
	ck_assert_int_eq(vr_unseal(&ring, "propietarios.email", s, &p), VR_OK);
	free(p);
	free(s);
}
END_TEST

/* v1 values, bound to the column's name, still open in that column. */
START_TEST(v1_still_opens)
{
	const struct vr_sealed_col *tel = vr_sealed_col("propietarios",
	    "telefono");
	char *s, *p = NULL;

	ring_of(1);
	ck_assert_int_eq(vr_seal(&ring.k[0], "telefono", "+51987654321", &s),
	    VR_OK);
	ck_assert_int_eq(vr_seal_version(s), 1);
	ck_assert_int_eq(vr_unseal_col(&ring, tel, s, &p), VR_OK);
	ck_assert_str_eq(p, "+51987654321");
	free(p);
	ck_assert_int_eq(vr_unseal_col(&ring, vr_sealed_col("propietarios",
	    "email"), s, &p), VR_EAUTH);
	free(s);
	ck_assert_int_eq(vr_seal_version("v3:k1:a:b"), 0);
	ck_assert_int_eq(vr_seal_version("V2:k1:a:b"), 0);
	ck_assert_int_eq(vr_seal_version(NULL), 0);
	ck_assert(!vr_is_sealed("+51987654321"));
}
END_TEST

/*
 * The table: a column name in one table only (a response member names
 * its column), a table's rows together (vetred-admin groups them), the
 * two searched columns with their hash columns.
 */
START_TEST(sealed_table)
{
	size_t i, j;
	int search = 0;

	ck_assert_uint_gt(vr_sealed_ncols, 0);
	for (i = 0; i < vr_sealed_ncols; i++) {
		search += vr_sealed_cols[i].hash != NULL;
		ck_assert_ptr_eq(vr_sealed_named(vr_sealed_cols[i].column),
		    &vr_sealed_cols[i]);
		ck_assert_ptr_eq(vr_sealed_col(vr_sealed_cols[i].table,
		    vr_sealed_cols[i].column), &vr_sealed_cols[i]);
		for (j = i + 2; j < vr_sealed_ncols; j++)
			ck_assert_msg(strcmp(vr_sealed_cols[i].table,
			    vr_sealed_cols[j].table) != 0 ||
			    strcmp(vr_sealed_cols[j - 1].table,
			    vr_sealed_cols[i].table) == 0,
			    "rows of %s apart", vr_sealed_cols[i].table);
	}
	ck_assert_int_eq(search, 2);
	ck_assert_str_eq(vr_sealed_col("propietarios",
	    "numero_documento")->hash, "documento_hmac");
	ck_assert_str_eq(vr_sealed_col("propietarios", "telefono")->hash,
	    "telefono_hmac");
	ck_assert_ptr_null(vr_sealed_col("pacientes", "email"));
	ck_assert_ptr_null(vr_sealed_named("nombre"));
}
END_TEST

/* Same value twice: two different sealed texts (a fresh nonce each). */
START_TEST(nonce_per_value)
{
	char *a, *b;

	ring_of(1);
	ck_assert_int_eq(vr_seal(&ring.k[0], "email", "a@b.pe", &a), VR_OK);
	ck_assert_int_eq(vr_seal(&ring.k[0], "email", "a@b.pe", &b), VR_OK);
	ck_assert_str_ne(a, b);
	free(a);
	free(b);
}
END_TEST

START_TEST(refusals)
{
	struct vr_jwt_keys other;
	char *s, *p = NULL, *bad;

	ring_of(2);
	ck_assert_int_eq(vr_seal(&ring.k[1], "direccion", "Calle 1", &s), VR_OK);
	/* Another column's value. */
	ck_assert_int_eq(vr_unseal(&ring, "email", s, &p), VR_EAUTH);
	ck_assert_ptr_null(p);
	/* A key the ring does not hold. */
	other = ring;
	other.n = 1;
	ck_assert_int_eq(vr_unseal(&other, "direccion", s, &p), VR_ENOTFOUND);
	/* One character of the ciphertext or of the nonce changed. */
	bad = strdup(s);
	bad[strlen(bad) - 2] = bad[strlen(bad) - 2] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(vr_unseal(&ring, "direccion", bad, &p), VR_EAUTH);
	strcpy(bad, s);
	bad[7] = bad[7] == 'A' ? 'B' : 'A';
	ck_assert_int_eq(vr_unseal(&ring, "direccion", bad, &p), VR_EAUTH);
	free(bad);
	/* Not sealed values. */
	ck_assert_int_eq(vr_unseal(&ring, "x", "41235678", &p), VR_EINVAL);
	ck_assert_int_eq(vr_unseal(&ring, "x", "v1:k1", &p), VR_EINVAL);
	ck_assert_int_eq(vr_unseal(&ring, "x", "v1:k1:abc:def", &p), VR_EINVAL);
	ck_assert_int_eq(vr_unseal(&ring, "x", "v1:k1:a:b:c", &p), VR_EINVAL);
	ck_assert_int_eq(vr_unseal(&ring, "x", "v1:k1:AAAAAAAAAAAAAAAA:AA",
	    &p), VR_EINVAL);
	ck_assert_int_eq(vr_unseal(&ring, "x", "v1:k1:AAAAAAAAAAAAAAAA:!!!!",
	    &p), VR_EINVAL);
	ck_assert(!vr_is_sealed(NULL));
	ck_assert(!vr_is_sealed("v3:k1:a:b"));	/* a format not known */
	free(s);
}
END_TEST

/* Data keys must be 32 bytes. */
START_TEST(data_keys_32_bytes)
{
	char dir[] = "/tmp/vetred-cifra-XXXXXX", path[128], spec[160], err[256];
	struct vr_jwt_keys ks;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/k.key", dir);
	f = fopen(path, "w");
	fprintf(f, "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0\n");
	fclose(f);
	chmod(path, 0600);
	snprintf(spec, sizeof(spec), "k=%s", path);
	ck_assert_int_eq(vr_data_keys_load(&ks, spec, err, sizeof(err)),
	    VR_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "32"));
	f = fopen(path, "w");
	fprintf(f, "a2V5LWRlLXBydWViYS1wYXJhLXJvdGFyLTMyYnl0ZXM=\n");
	fclose(f);
	ck_assert_int_eq(vr_data_keys_load(&ks, spec, err, sizeof(err)), VR_OK);
	ck_assert_int_eq(vr_data_keys_load(&ks, "", err, sizeof(err)),
	    VR_ECONFIG);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* The search hash: one per value and key, hex, deterministic. */
START_TEST(search_hash)
{
	char a[65], b[65], c[65];

	ring_of(2);
	vr_search_hash(&ring.k[0], "41235678", a);
	vr_search_hash(&ring.k[0], "41235678", b);
	vr_search_hash(&ring.k[1], "41235678", c);
	ck_assert_str_eq(a, b);
	ck_assert_str_ne(a, c);
	ck_assert_uint_eq(strlen(a), 64);
	ck_assert_uint_eq(strspn(a, "0123456789abcdef"), 64);
	vr_search_hash(&ring.k[0], "41235679", b);
	ck_assert_str_ne(a, b);
}
END_TEST

START_TEST(email_checks)
{
	static const char *const good[] = { "a@b.pe", "ana.quispe@correo.pe",
	    "x+y@sub.dominio.com.pe" };
	static const char *const bad[] = { "", "@b.pe", "a@", "a@b", "a@.pe",
	    "a@b.", "a b@c.pe", "a@b@c.pe", "a\tb@c.pe", "a\x0b" "b@c.pe",
	    "a\x7f@c.pe" };
	char longest[300];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ck_assert_msg(vr_valid_email(good[i]), "%s", good[i]);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!vr_valid_email(bad[i]), "%s", bad[i]);
	memset(longest, 'a', sizeof(longest));
	memcpy(longest + 250, "@b.pe", 6);
	ck_assert(!vr_valid_email(longest));
}
END_TEST

Suite *
cifra_suite(void)
{
	Suite *s = suite_create("cifra");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, seal_and_open);
	tcase_add_test(tc, column_bound);
	tcase_add_test(tc, v1_still_opens);
	tcase_add_test(tc, sealed_table);
	tcase_add_test(tc, nonce_per_value);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, data_keys_32_bytes);
	tcase_add_test(tc, search_hash);
	tcase_add_test(tc, email_checks);
	suite_add_tcase(s, tc);
	return s;
}
