/*
 * err.c - error codes: 0 is success, a negative VR_E* is failure.
 */
#include "vr.h"

static const char *const names[] = {
	[0] = "success",
	[-VR_ENOMEM] = "out of memory",
	[-VR_EINVAL] = "invalid input",
	[-VR_ENOTFOUND] = "not found",
	[-VR_ECONFLICT] = "conflict with existing data",
	[-VR_EREF] = "referenced row does not exist",
	[-VR_EDB] = "database error",
	[-VR_EUNAVAIL] = "service unavailable",
	[-VR_ERETRY] = "transaction must be retried",
	[-VR_ETOOBIG] = "input too large",
	[-VR_EIO] = "input/output error",
	[-VR_ECHECKSUM] = "applied migration was modified",
	[-VR_ECONFIG] = "invalid configuration",
	[-VR_ECHECK] = "value refused by a check constraint",
	[-VR_ETIMEOUT] = "timed out",
	[-VR_EAUTH] = "authentication failed",
};

const char *
vr_strerror(int err)
{
	if (err > 0 || err <= VR_E__MIN)
		return "unknown error";
	return names[-err];
}
