/*
 * migrate_config.c - vetred-migrate's configuration table, parsed by
 * lib/'s vr_config_parse().
 */
#include "migrate_config.h"

const struct vr_cfg_var migrate_vars[] = {
	VR_CFG_S("VETRED_MIGRATIONS_DIR", "db/migrations",
	    struct migrate_config, migrations_dir,
	    "the numbered migrations vetred-migrate applies"),
	VR_CFG_S("VETRED_FUNCTIONS_DIR", "db/functions",
	    struct migrate_config, functions_dir,
	    "the function files, run again when one changed"),
};

const size_t migrate_nvars = sizeof(migrate_vars) / sizeof(migrate_vars[0]);
