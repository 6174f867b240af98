/* dname: display names.  What a participant's name may hold (checked at
 * import) and the cleaning every display name gets before it goes into a
 * header (defence in depth: older databases may hold anything). */
#ifndef DNAME_H
#define DNAME_H

#include "mg.h"

/* 0 when name holds only letters, digits, plain spaces and ordinary
 * punctuation; else -1 with the first reason appended to why ("holds ...").
 * Refused: RFC 2047 encoded words, control, bidi and invisible characters,
 * '<', '>', '@' and their look-alikes, invalid UTF-8.  Unicode spaces
 * (no-break, ideographic...) pass: cleaning makes them plain spaces. */
int dname_check(const char *name, struct buf *why);

/* name with all dname_check refuses removed, Unicode spaces folded to a
 * plain one, runs of spaces collapsed and the ends trimmed.  Caller frees. */
char *dname_clean(const char *name);

/* The first name in a full name, cleaned: the first word (any Unicode space
 * separates words); in the "Surname, First" form the first word after the
 * comma (unless that is a suffix such as "Jr").  Caller frees. */
char *dname_first(const char *name);

/* A skeleton for comparing names: lower-case ASCII letters and digits, with
 * look-alikes (Cyrillic, Greek, fullwidth, accented, 0 and 1) mapped to
 * Latin and spaces and punctuation dropped.  Caller frees. */
char *dname_fold(const char *name);

/* Does name read as the programme or its staff (its skeleton holds that of
 * programme, or "coordinator", "safeguarding", "moderator")?  What it
 * imitates (programme itself or the word; borrowed), or NULL. */
const char *dname_imitates(const char *name, const char *programme);

#endif
