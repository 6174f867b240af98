/* export: a pair's whole record for safeguarding staff, read-only: every
 * message (raw original, extracted text, flags, hold and decision, the
 * copies we sent) in conversation order, then the audit rows with their
 * hashes.  Formats: txt, mbox (the originals and our copies as mail, then
 * the record as a last message) and html (one self-contained page). */
#ifndef EXPORT_H
#define EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "mg.h"
#include "store.h"

enum export_format { EXPORT_TXT, EXPORT_MBOX, EXPORT_HTML };

/* "txt", "mbox", "html" -> format; -1 for anything else. */
int export_format(const char *name);

/* Write pair's record to out and append an "exported" audit row (actor:
 * who asked) in one transaction.  MG_NOTFOUND for no such pair. */
enum mg_status export_pair(struct store *, int64_t pair, enum export_format, const char *actor,
    FILE *out);

/* Mail to LOCAL+audit@DOMAIN: "export PAIR_ID [txt|mbox|html]" on the
 * first line from a safeguarding address gets the export back attached.
 * Anyone else gets nothing.  Records the request.  (The sender is
 * authenticated before, like every command by mail: relay.c.) */
struct conf;
struct mime_msg;
enum mg_status export_reply(struct store *, const struct conf *, int64_t message,
    const struct mime_msg *);

#endif
