/* prefilter: which of many caseless regular expressions could match a text,
 * told by one pass over it.  Each pattern is read for the literal strings
 * every match must contain: one of a set ("suicid", or "myself", or "@"),
 * and for a pattern that is a sequence, one of each of several sets
 * ("\bmy " and "snap" or "insta").  White space is read as one space
 * (so "call\s+me" needs "call me"), and \d as any digit the text may
 * hold.  A pattern whose literals cannot be known is always a candidate.
 * Only candidates need to be run, and a pattern that is not one cannot
 * match: the analysis errs towards "always".
 *
 * The patterns are PCRE2 source as rules(5) allows; what the analysis does
 * not understand (back-references, inline options, \Q...\E) makes the
 * pattern "always".  Case is ASCII-folded on both sides; the two non-ASCII
 * characters that fold to ASCII letters (U+017F, U+212A) are folded too. */
#ifndef PREFILTER_H
#define PREFILTER_H

#include <stddef.h>
#include <stdint.h>

struct prefilter;

struct prefilter *prefilter_new(void);
void prefilter_free(struct prefilter *);

/* Add a pattern; its index is the number added before it. */
void prefilter_add(struct prefilter *, const char *src);

/* Words of a candidate set: bit i of w[i / 64] is pattern i. */
size_t prefilter_words(const struct prefilter *);

/* Set the bits of every pattern that could match text (cand must hold
 * prefilter_words() words; it is cleared first).  The first scan after an
 * add builds the index: make it before threads share the prefilter (then
 * scans only read it). */
void prefilter_scan(struct prefilter *, const char *text, size_t len, uint64_t *cand);

/* Mark pattern i a candidate for every text. */
void prefilter_always(struct prefilter *, size_t i);

/* The literals pattern src needs, "a|b|c", or with several sets
 * "a|b & c" (\s: white space, \d: a digit), or NULL when it is always a
 * candidate; caller frees.  For tests. */
char *prefilter_describe(const char *src);

#endif
