/* oauth: XOAUTH2 bearer tokens from an oauth2_token_command, cached until
 * the expiry the command states, dropped when a server refuses them. */
#ifndef OAUTH_H
#define OAUTH_H

#include <stdint.h>

#include "mg.h"

/* The token for command: the cached one while it has more than a minute
 * left, otherwise the command's fresh output.  Caller frees (and should
 * zero) *token. */
enum mg_status oauth_token(const char *command, char **token, struct buf *err);

/* The server refused the token: the next oauth_token runs the command. */
void oauth_reject(const char *command);

/* Read a command's output: either a token endpoint's JSON answer
 * ({"access_token": "...", "expires_in": 3599, ...}) or plain lines, the
 * token first and optionally the seconds it stays valid on the second.
 * *expires_in is -1 when not stated (then nothing is cached).
 * MG_BADINPUT when no token is found. */
enum mg_status oauth_parse(const char *output, char **token, int64_t *expires_in);

#endif
