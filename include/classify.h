/* classify: is a raw message a delivery failure report, an automatic reply,
 * or a message a person wrote?  Pure: no I/O, no logging. */
#ifndef CLASSIFY_H
#define CLASSIFY_H

#include <stddef.h>

enum classify_kind {
	CLASS_MESSAGE,
	CLASS_AUTOREPLY,	/* vacation, auto-responder, challenge, bulk */
	CLASS_BOUNCE		/* delivery status notification */
};

struct classify {
	enum classify_kind kind;
	int permanent;		/* bounce: some recipient failed for good */
	char **rcpts;		/* bounce: failed (or delayed) recipients, lower case */
	size_t nrcpts;
	const char *why;	/* static: what gave it away */
};

/* Classify raw (len bytes).  Never fails; free with classify_clear. */
void classify_message(const char *raw, size_t len, struct classify *out);
/* The same for a message already parsed (m from mime_parse of raw). */
struct mime_msg;
void classify_parsed(const char *raw, size_t len, const struct mime_msg *m, struct classify *out);
void classify_clear(struct classify *);

/* Written by a machine by its own account (Auto-Submitted other than "no")? */
int classify_machine(const char *raw, size_t len);

/* The one-line summary mentorctl classify prints (no newline); caller frees:
 * "bounce permanent|transient RCPT[,RCPT...]", "autoreply" or "message". */
char *classify_line(const struct classify *);

#endif
