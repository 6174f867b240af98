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

#endif
