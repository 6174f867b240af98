/* audit: the append-only, hash-chained event log.  Owns the audit table.
 * Each row carries the SHA-256 of the previous row's hash and its own
 * content, so an edited, deleted or reordered row breaks the chain from
 * there on; triggers refuse UPDATE and DELETE through SQLite itself. */
#ifndef AUDIT_H
#define AUDIT_H

#include <stdint.h>

#include "conf.h"
#include "mg.h"
#include "store.h"

/* Events: received, flagged, held, ignored, decided, relayed, sent, failed,
 * bounced, paused, resumed, escalated, acknowledged, exported, erased,
 * scheduled. */

/* Append one row inside the caller's transaction.  message and pair may be
 * 0; actor ("daemon", an address, "shell:USER") and detail may be NULL. */
enum mg_status audit_append(struct store *, const char *event, int64_t message, int64_t pair,
    const char *actor, const char *detail);

/* Recompute the chain.  MG_OK when whole (*rows = rows checked); else
 * MG_BADINPUT with the first broken row and why in err. */
enum mg_status audit_verify(struct store *, int64_t *rows, struct buf *err);

/* Mail the chain head (last row and its hash) once a day (UTC) to the
 * safeguarding list, so that a database rolled back or replaced later can
 * be told.  Nothing without a safeguarding list. */
enum mg_status audit_mail_head(struct store *, const struct conf *);

/* The last row's id and hash ("" and 0 for an empty log); caller frees. */
enum mg_status audit_head(struct store *, int64_t *id, char **hash);

#endif
