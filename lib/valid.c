/*
 * valid.c - validators of Peruvian and domain formats, as pure functions.
 * Each returns 1 when the value is valid, 0 otherwise.
 */
#include <ctype.h>
#include <string.h>

#include "vr.h"

/*
 * +51, then a mobile number (9 digits starting with 9) or a landline
 * (8 digits: area code 1 for Lima or 41-84 elsewhere, then the number).
 */
int
vr_valid_phone_pe(const char *s)
{
	size_t n = strlen(s), i;

	if (strncmp(s, "+51", 3) != 0)
		return 0;
	if (!(n == 12 && s[3] == '9') && !(n == 11 && s[3] >= '1' &&
	    s[3] <= '8'))
		return 0;
	for (i = 3; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/* A site code: three capital letters, '-', two or three digits (LIM-01). */
int
vr_valid_site_code(const char *s)
{
	size_t n = strlen(s), i;

	if (n != 6 && n != 7)
		return 0;
	for (i = 0; i < 3; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			return 0;
	if (s[3] != '-')
		return 0;
	for (i = 4; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return 0;
	return 1;
}

/*
 * An e-mail address as the API accepts it: local@domain.tld, at most 254
 * bytes, one '@', no whitespace or control characters (the database
 * stores it sealed and cannot check it any more).
 */
int
vr_valid_email(const char *s)
{
	const char *at = strchr(s, '@'), *dot, *p;

	if (at == NULL || at == s || strchr(at + 1, '@') != NULL ||
	    strlen(s) > 254)
		return 0;
	for (p = s; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return 0;
	dot = strrchr(at, '.');
	return dot != NULL && dot > at + 1 && dot[1] != '\0';
}
