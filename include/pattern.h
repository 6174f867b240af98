/* pattern: PCRE2 patterns (UTF, UCP, caseless, invalid UTF tolerated, JIT
 * for the daemon's own) compiled once and matched with a per-thread match block; a match limit
 * and a heap limit bound every search.  ASCII text is matched by a
 * twin compiled without Unicode properties: the same matches, faster. */
#ifndef PATTERN_H
#define PATTERN_H

#include <stddef.h>
#include <stdint.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* Compile n of the daemon's own patterns into out, JIT-compiled where the
 * JIT is available (extra: more PCRE2 compile options, e.g.
 * PCRE2_MULTILINE).  A pattern that does not compile is a bug: abort. */
struct pattern;
void pattern_compile(struct pattern **out, const char *const *src, size_t n, uint32_t extra);

/* One pattern from a user's file (a rule: interpreted until it proves
 * costly, see pattern.c): NULL, with the error and its offset in err, when
 * it does not compile. */
struct pattern *pattern_compile_one(const char *src, uint32_t extra, char *err, size_t errlen);
void pattern_free(struct pattern *);

/* Bytes of JIT code rules hold now (at most a budget: see pattern.c). */
size_t pattern_jit_bytes(void);

/* Is s[0, n) all ASCII? */
int pattern_ascii(const char *s, size_t n);

/* Free this thread's match block: for a thread that is about to end. */
void pattern_thread_end(void);

/* Search s[off, n): 1 on a match, with the match (and group 1, when
 * group is non-NULL and it took part) in *a, *b / group[0], group[1]; 0
 * for none; -1 when the search could not finish (the match limit). */
int pattern_find(struct pattern *, const char *s, size_t n, size_t off, size_t *a, size_t *b,
    size_t group[2]);
/* The same, told whether s[0, n) is all ASCII (pattern_ascii): for many
 * searches of one long text. */
int pattern_find_in(struct pattern *, const char *s, size_t n, size_t off, int ascii,
    size_t *a, size_t *b, size_t group[2]);

#endif
