/* relay: the pipeline for one inbound message.  relay_store records the raw
 * bytes (one transaction, before any parsing); relay_decide parses, routes,
 * and either holds the message or enqueues the regenerated copy for the
 * partner (a second transaction).  Logs one line per decision. */
#ifndef RELAY_H
#define RELAY_H

#include <stdint.h>

#include "conf.h"
#include "mg.h"
#include "store.h"

/* MG_OK with *id the new row; MG_DUPLICATE when this content is stored
 * already (SHA-256 of Message-ID, Delivered-To, From, Date, Subject and the
 * body bytes: a re-delivered copy differs only in trace headers). */
enum mg_status relay_store(struct store *, const char *mailbox, uint32_t uidvalidity,
    uint32_t uid, const char *raw, size_t len, int64_t *id);

/* Decide a stored message in state 'received'. */
enum mg_status relay_decide(struct store *, const struct conf *, int64_t id);

/* A coordinator released held message id: relay it now (body and subject,
 * when not NULL, replace the author's), inside the caller's transaction.
 * MG_DENIED, with why, when it cannot be relayed. */
enum mg_status relay_release(struct store *, const struct conf *, int64_t id, const char *body,
    const char *subject, struct buf *why);

#endif
