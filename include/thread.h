/* thread: group a pair's messages into conversations, by In-Reply-To and
 * References (through the Message-ID map), else by subject. */
#ifndef THREAD_H
#define THREAD_H

#include <stdint.h>

#include "mg.h"
#include "mime.h"
#include "store.h"

/* The subject as a conversation topic: Re:/Fwd:/AW:/SV:... prefixes (also
 * "Re[2]:"), [tags] and "(fwd)" removed, spaces collapsed, lower case.
 * Caller frees; "" for an empty subject. */
char *thread_topic(const char *subject);

/* The conversation message id (in pair) belongs to: that of the newest
 * message it references, else of the newest one with the same non-empty
 * topic, else its own id. */
enum mg_status thread_assign(struct store *, int64_t pair, int64_t id,
    const struct mime_msg *m, const char *topic, int64_t *thread);

#endif
