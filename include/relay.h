/* relay: the pipeline for one inbound message.  relay_store records the raw
 * bytes (one transaction); relay_decide parses, routes, and either holds the
 * message or enqueues the regenerated copy for the partner (a second
 * transaction).  While ingesting, the reading may be done ahead on the
 * reader's thread (relay_read), and only the deciding after the store.
 * Logs one line per decision. */
#ifndef RELAY_H
#define RELAY_H

#include <stdint.h>

#include "conf.h"
#include "mg.h"
#include "store.h"

/* MG_OK with *id the new row; MG_DUPLICATE when this content is stored
 * already (SHA-256 of Message-ID, Delivered-To, From, Date, Subject and the
 * body bytes: a re-delivered copy differs only in trace headers).  The
 * caller records the mailbox's last stored UID (store_sync_set). */
enum mg_status relay_store(struct store *, const char *mailbox, uint32_t uidvalidity,
    uint32_t uid, const char *raw, size_t len, int64_t *id);

/* Decide a stored message in state 'received'. */
enum mg_status relay_decide(struct store *, const struct conf *, int64_t id);

/* The same in two steps, so that the reading may be done on another
 * thread: relay_read takes raw (a NUL-terminated malloc'd copy) and, if
 * ahead, reads it: parses, classifies, extracts the new text and screens
 * it, touching no database.  relay_store_msg and relay_decide_msg (which
 * decides it as stored message id and frees it) read what was not. */
struct relay_msg;
struct relay_msg *relay_read(const struct conf *, char *raw, size_t len, int ahead);
const char *relay_msg_raw(const struct relay_msg *, size_t *len);
/* A stand-in for a message over max_message_size, not fetched: its size,
 * which relay_msg_size_over gives back (0 for one read). */
struct relay_msg *relay_msg_oversized(uint32_t size);
uint32_t relay_msg_size_over(const struct relay_msg *);
/* relay_store for a message read: what identifies it was read with it. */
enum mg_status relay_store_msg(struct store *, const char *mailbox, uint32_t uidvalidity,
    uint32_t uid, struct relay_msg *, int64_t *id);
enum mg_status relay_decide_msg(struct store *, int64_t id, struct relay_msg *);
void relay_msg_free(struct relay_msg *);

/* A message the IMAP server failed to deliver in fails passes in a row
 * (error: its last words): a note of it stored in its place (UID uid),
 * held for a coordinator, so that it is handled like the rest. */
enum mg_status relay_unreadable(struct store *, const struct conf *, uint32_t uidvalidity,
    uint32_t uid, int fails, const char *error, int64_t *id);
/* Likewise a message over max_message_size, never fetched. */
enum mg_status relay_oversized(struct store *, const struct conf *, uint32_t uidvalidity,
    uint32_t uid, uint32_t size, int64_t *id);

/* The hold reason of a message kept back because relay to an address (the
 * argument) is paused. */
#define RELAY_PAUSED "relay to %s is paused: their address bounces"

/* A coordinator released held message id: relay it now (body and subject,
 * when not NULL, replace the author's), inside the caller's transaction.
 * MG_DENIED, with why, when it cannot be relayed. */
enum mg_status relay_release(struct store *, const struct conf *, int64_t id, const char *body,
    const char *subject, struct buf *why);

#endif
