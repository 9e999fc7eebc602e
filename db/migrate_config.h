/*
 * migrate_config.h - what vetred-migrate reads beside the core every
 * process reads (lib/vr.h, struct vr_config); the README lists both.
 */
#ifndef MIGRATE_CONFIG_H
#define MIGRATE_CONFIG_H

#include "vr.h"

struct migrate_config {
	const char	*migrations_dir;	/* VETRED_MIGRATIONS_DIR */
	const char	*functions_dir;		/* VETRED_FUNCTIONS_DIR */
};

extern const struct vr_cfg_var migrate_vars[];
extern const size_t migrate_nvars;

#endif /* MIGRATE_CONFIG_H */
