/* screen: run the rules over a message's new text.  Each rule sees the text
 * itself or, with view = spoken, the spoken view: numbers written as words
 * ("oh seven seven double oh") become digits, a letter O among digits
 * becomes 0, the spaces, dots, dashes, slashes and commas between digits go,
 * and "at"/"dot"/"underscore" written out (also "[at]", "(dot)") become
 * "@", ".", "_".  Hits are reported in the original text's offsets. */
#ifndef SCREEN_H
#define SCREEN_H

#include <stddef.h>

#include "rules.h"

struct screen_hit {
	const struct rule *rule;
	size_t start, end;	/* bytes of the screened text */
};

/* Hits in text order (one per rule and place); caller frees *hits.
 * Returns how many. */
size_t screen_text(const struct rules *, const char *text, size_t len, struct screen_hit **hits)
    __attribute__((nonnull(2)));
/* The same; *unfinished = 1 when a search could not finish (PCRE2's match
 * limit): then text may hold what no hit shows, and must not pass. */
size_t screen_text_checked(const struct rules *, const char *text, size_t len,
    struct screen_hit **hits, int *unfinished) __attribute__((nonnull(2)));
/* The same for quoted history: the rules alone (the statistical second
 * opinion learnt new text, whose labels say nothing of quotes). */
size_t screen_quote_checked(const struct rules *, const char *text, size_t len,
    struct screen_hit **hits, int *unfinished) __attribute__((nonnull(2)));

/* What screening reads of a message: the subject, a blank line, the new
 * text with its signature (quoted history left out), and the attachments'
 * names; caller frees. */
struct mime_msg;
char *screen_message_text(const struct mime_msg *);

/* The spoken view of text and, for each of its bytes, the offset of the
 * byte of text it came from; caller frees both. */
char *screen_spoken(const char *text, size_t len, size_t **map, size_t *outlen);

#endif
