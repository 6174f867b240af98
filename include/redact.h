/* redact: take a detail a coordinator redacts out of a text wherever it
 * is, in whatever form.  Pure. */
#ifndef REDACT_H
#define REDACT_H

#include <stddef.h>

#include "rules.h"

#define REDACT_MARK "[removed by moderator]"

/* Copy of text with REDACT_MARK for: each of the nex excerpts (as flagged,
 * case aside); every number whose digits are an excerpt's number however
 * it is spaced or punctuated (+44 read as 0); and, when rs is given, every
 * hit of a hold or escalate rule in one of the ncat categories (if that
 * screening could not finish, *unfinished is set).  Caller frees. */
char *redact_text(const char *text, char *const *excerpts, size_t nex, const struct rules *rs,
    char *const *cats, size_t ncat, int *unfinished);

#endif
