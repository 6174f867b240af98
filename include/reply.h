/* reply: the new text of a reply, without quoted history and signatures.
 * Pure: no I/O, no logging. */
#ifndef REPLY_H
#define REPLY_H

#include <stddef.h>

/* text: UTF-8 with LF (or CRLF) line ends.  Returns the new
 * text (trailing blank lines and trailing spaces removed, LF at the end of
 * each line); never NULL.  Caller frees. */
char *reply_extract(const char *text, size_t len);

/* What screening reads: the same without the quoted history, but with the
 * signature kept (a number in a signature is still a number). */
char *reply_screen_text(const char *text, size_t len);

/* The rest: the quoted history, in order, as parts of text (quote marks
 * kept).  A splitter part is an attribution line or header block ("On ...
 * wrote:", "From: ... Sent: ..."); the others are what they introduce.
 * Returns the number of parts; the caller frees each text and *parts. */
struct reply_part {
	char *text;
	int splitter;
};
size_t reply_history(const char *text, size_t len, struct reply_part **parts);

#endif
