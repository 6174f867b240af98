/* notice: mail the gateway writes itself (to coordinators, or a kind word to
 * a participant), built and enqueued in the caller's transaction.  Every
 * notice carries Auto-Submitted: auto-generated so that responders stay
 * quiet, and is never about another notice. */
#ifndef NOTICE_H
#define NOTICE_H

#include <stdint.h>

#include "conf.h"
#include "mg.h"
#include "store.h"

struct notice {
	const char *key;		/* outbox dedupe key: the same key is sent once */
	const char *to_name;		/* or NULL */
	const char *to_addr;
	int64_t recipient_id;		/* participant, or 0 */
	int64_t message;		/* the inbound message it is about, or 0 */
	const char *subject;		/* UTF-8; CR/LF refused */
	const char *body;		/* UTF-8 text */
	const char *reply_to;		/* where answers go, or NULL (the relay address) */
	const char *attach_name, *attach_type, *attach_data;	/* or NULL */
	size_t attach_len;
	const char *html;		/* an HTML alternative, or NULL */
};

/* MG_OK also when the key was enqueued before. */
enum mg_status notice_enqueue(struct store *, const struct conf *, const struct notice *);

/* An automatic answer to mail from n->to_addr (help, receipts, "not
 * understood", "too late", a confirmation request): not sent (MG_OK all
 * the same) when that address has had NOTICE_ANSWERS_A_DAY answers in the
 * last day, or when n->message repeats a text the same address sent in
 * the last day (a responder answering us: a loop). */
#define NOTICE_ANSWERS_A_DAY 5
enum mg_status notice_answer(struct store *, const struct conf *, const struct notice *);

/* The same text to every configured coordinator (key suffixed ":ADDR"). */
enum mg_status notice_coordinators(struct store *, const struct conf *, const char *key,
    int64_t message, const char *subject, const char *body, const char *reply_to);

#endif
