/* quote: a reply's quoted history checked against what its pair really
 * exchanged.  A participant may quote what the gateway sent them (or what
 * they wrote); quoted history that matches none of it is made up, or an
 * old message altered, and screening reads it like new text.  All pure
 * but quote_exchanged, which reads the store. */
#ifndef QUOTE_H
#define QUOTE_H

#include <stddef.h>
#include <stdint.h>

/* s with quote marks ('>' and the blanks before them) taken off each line,
 * every run of white space (line ends too) made one space, ASCII letters
 * lower-cased, nothing at either end.  Caller frees. */
char *quote_norm(const char *s, size_t n);

/* What of text's quoted history (reply_history) screening must read: every
 * splitter (an attribution line, a header block: their free text is the
 * writer's), and every block that is not, after quote_norm, inside one of
 * the nref texts (already quote_norm'ed) as whole words and at least 20
 * characters long; separated by blank lines.  NULL when there is none. */
char *quote_unverified(const char *text, size_t len, char *const *refs, size_t nref);

/* Has text any quoted history at all? */
int quote_any(const char *text, size_t len);

struct store;
struct mime_list;

/* The texts a pair really exchanged that a message of theirs may quote,
 * quote_norm'ed: what its references name (a copy the gateway sent either
 * of them, or their original), and when that does not cover its quotes the
 * pair's latest relayed messages (both the original and the copy sent).
 * text is the message's; self its own row.  Returns how many; the caller
 * frees each and *refs. */
size_t quote_exchanged(struct store *, int64_t pair, int64_t author, int64_t partner,
    int64_t self, const struct mime_list *ids, const char *text, char ***refs);

#endif
