/* mime: a raw RFC 5322 message -> struct mime_msg (decoded UTF-8 headers and
 * the best readable body text).  Pure: no I/O, no logging. */
#ifndef MIME_H
#define MIME_H

#include <stddef.h>

#include "mg.h"

struct mime_addr {
	char *name;	/* decoded display name (UTF-8, single line) or NULL */
	char *addr;	/* addr-spec as written */
};

struct mime_list {
	char **v;
	size_t n;
};

struct mime_attachment {
	char *filename;			/* decoded (RFC 2231/2047), or NULL */
	char *type;			/* "application/pdf" */
	size_t size;			/* decoded bytes, roughly */
};

struct mime_msg {
	struct mime_addr from;		/* addr NULL when absent */
	struct mime_list to, cc;	/* addresses only */
	struct mime_list delivered_to, x_original_to;
	char *message_id;		/* without angle brackets */
	struct mime_list in_reply_to, references;
	char *subject;			/* decoded, single line; "" when absent */
	char *date;			/* "YYYY-MM-DD HH:MM:SS +ZZZZ" or NULL */
	char *text;			/* UTF-8 body text, LF line ends */
	int from_html;			/* text rendered from text/html */
	char *malformed;		/* why the message cannot be trusted, or NULL */
	size_t body_offset;		/* where the body starts in the raw bytes */
	struct mime_attachment *att;	/* parts that are not the body text */
	size_t natt;
};

/* Parse raw (len bytes; need not be NUL-terminated).  Never fails on bad
 * input: a message that cannot be understood comes back with malformed set
 * (and whatever could be read).  Caller frees with mime_free. */
struct mime_msg *mime_parse(const char *raw, size_t len);
void mime_free(struct mime_msg *);

/* Does raw start with an RFC 5322 header block (rather than bare text)? */
int mime_is_message(const char *raw, size_t len);

/* The first value of header name in raw (unfolded, trimmed), read without
 * the MIME parser; caller frees.  NULL when absent. */
char *mime_header(const char *raw, size_t len, const char *name);

/* Refuse input known to crash or stall libetpan 1.9.4 (a boundary whose
 * unquoted value starts with '"'; pathological nesting).  NULL if safe,
 * else a static reason. */
const char *mime_hazard(const char *raw, size_t len);

/* Readable text from HTML; caller frees. */
char *mime_html_text(const char *html, size_t len);
/* Copy of s with invalid UTF-8 replaced by U+FFFD; caller frees. */
char *mime_utf8_clean(const char *s, size_t len);

/* An outbound text/plain UTF-8 message.  Every header value is checked for
 * CR/LF (MG_BADINPUT).  Output has CRLF line ends; caller frees *out. */
struct mime_out {
	const char *from_name, *from_addr;	/* display name may be UTF-8 */
	const char *reply_to;			/* or NULL */
	const char *to_name, *to_addr;
	const char *subject;
	const char *message_id;			/* without brackets */
	const char *in_reply_to;		/* without brackets, or NULL */
	const char *references;			/* space separated, without brackets, or NULL */
	const char *auto_submitted;		/* e.g. "auto-generated", or NULL */
	const char *body;			/* UTF-8, LF or CRLF line ends */
	long long date;				/* epoch seconds */
	const char *html;			/* an HTML alternative, or NULL */
	/* one attachment, or attach_data NULL: name is plain ASCII */
	const char *attach_name, *attach_type, *attach_data;
	size_t attach_len;
};
enum mg_status mime_build(const struct mime_out *, char **out, size_t *outlen);

#endif
