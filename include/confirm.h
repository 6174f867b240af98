/* confirm: commands by mail that decide (a moderation decision, an
 * escalation ack) where our server stamps no Authentication-Results
 * (no authserv_id).  The configured address the command claims to come
 * from is mailed a single-use address, LOCAL+confirm-TOKEN@DOMAIN, and the
 * command is carried out only when YES comes back to it from that address
 * within CONFIRM_DAYS.  A forger, who does not read that mailbox, never
 * learns the token.  Owns the confirmations table. */
#ifndef CONFIRM_H
#define CONFIRM_H

#include <stdint.h>

#include "conf.h"
#include "mg.h"
#include "store.h"

#define CONFIRM_DAYS 7

struct mime_msg;

/* Ask addr (a configured address, lower case) to confirm the command in
 * message, which came to the reserved token command ("mod-...",
 * "esc-..."); what: what it would do (its first line is the request's
 * subject).  Records message as awaiting confirmation and
 * enqueues the request, in one transaction; at most CONFIRM_A_DAY requests
 * go to one address a day (past that the command is recorded, not asked). */
#define CONFIRM_A_DAY 20
enum mg_status confirm_ask(struct store *, const struct conf *, int64_t message,
    const char *command, const char *addr, const char *what, const struct mime_msg *);

/* Mail to LOCAL+confirm-TOKEN: MG_OK, *orig (the command's message) and
 * *command (its token; caller frees) when the request is open and recent,
 * m comes from the address asked and its first line says yes.
 * MG_DENIED (*why says why) otherwise; MG_NOTFOUND for an unknown token. */
enum mg_status confirm_check(struct store *, const char *token, const struct mime_msg *m,
    int64_t *orig, char **command, const char **why);

/* The command was carried out: close the request and record the reply
 * message with outcome, in one transaction. */
enum mg_status confirm_close(struct store *, int64_t message, const char *token,
    const struct mime_msg *m, const char *outcome);

#endif
