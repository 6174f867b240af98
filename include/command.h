/* command: run a helper (password_command, oauth2_token_command) under
 * sh and take what it prints, within a time limit: a helper that hangs
 * (a token endpoint gone silent) must not hang the daemon. */
#ifndef COMMAND_H
#define COMMAND_H

#include <stdint.h>

#include "mg.h"

#define COMMAND_TIMEOUT_MS 30000	/* the limit the daemon gives its helpers */
#define COMMAND_MAX_OUTPUT (1u << 20)	/* a password or a token, not a download */

/* Everything command prints on stdout (its stdin is /dev/null, its stderr
 * the daemon's).  MG_TEMPFAIL, with err saying why, when it exits non-zero,
 * prints nothing or more than COMMAND_MAX_OUTPUT, outlives timeout_ms, or a
 * stop is requested (SIGTERM); the helper and its process group are then
 * killed.  Caller frees (and should zero) *out. */
enum mg_status command_run(const char *command, int64_t timeout_ms, char **out,
    struct buf *err);

#endif
