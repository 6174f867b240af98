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

/* MG_OK with *id the new row; MG_DUPLICATE when this UID or this content
 * (Message-ID, delivery address and body hash) is stored already. */
enum mg_status relay_store(struct store *, const struct conf *, const char *mailbox,
    uint32_t uidvalidity, uint32_t uid, const char *raw, size_t len, int64_t *id);

/* Decide a stored message in state 'received'. */
enum mg_status relay_decide(struct store *, const struct conf *, int64_t id);

/* The dedupe hash of a raw message: SHA-256 hex of its Message-ID,
 * Delivered-To, From, Date, Subject and body bytes.  out: 65 bytes. */
void relay_dedupe(const char *raw, size_t len, char out[65]);

#endif
