/* audit: the append-only, hash-chained event log.  Owns the audit table.
 * Each row carries the SHA-256 of the previous row's hash and its own
 * content, so an edited, deleted or reordered row breaks the chain from
 * there on; triggers refuse UPDATE and DELETE through SQLite itself.  A
 * row about a message also commits to what the message says then (the
 * SHA-256 of its raw bytes, body and new text), so an edited message no
 * longer matches; the head mailed daily tells a shortened, older or
 * swapped database.  Whatever changes a message's raw bytes or texts
 * appends a row about it in the same transaction, after the change. */
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

/* What a verify found: rows in the chain, the row with the head given (0
 * for none), messages whose content was checked. */
struct audit_check {
	int64_t rows, head_row, messages;
};

/* Recompute the chain, find head (a row's hash, or NULL) in it, and check
 * that every message says what the chain last committed to.  MG_OK when
 * all holds; else MG_BADINPUT with the first broken row, the head not
 * found (rows deleted from the end, an older copy, another database), or
 * the messages edited or deleted, in err. */
enum mg_status audit_verify(struct store *, const char *head, struct audit_check *,
    struct buf *err);

/* Mail the chain head (last row and its hash) once a day (UTC) to the
 * safeguarding list, so that a database rolled back or replaced later can
 * be told.  Nothing without a safeguarding list. */
enum mg_status audit_mail_head(struct store *, const struct conf *);

/* The last row's id and hash ("" and 0 for an empty log); caller frees. */
enum mg_status audit_head(struct store *, int64_t *id, char **hash);

#endif
