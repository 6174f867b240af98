/* vis: participants' text made safe to print on a terminal (after
 * OpenBSD's vis(3)).  What a terminal would act on, or what reorders the
 * text around it, is shown as visible escapes instead. */
#ifndef VIS_H
#define VIS_H

#include <stddef.h>

#include "mg.h"

/* Append s[0..n) to out with ESC shown as \e, CR as \r (kept before LF),
 * the other C0 controls and DEL as \xNN, C1 controls (U+0080..U+009F) and
 * bidi controls (U+061C, U+200E, U+200F, U+202A..U+202E, U+2066..U+2069)
 * as \uXXXX, and each byte of invalid UTF-8 as \xNN.  Newline, tab and
 * everything else are kept; a backslash is not doubled (the escapes are
 * for reading, not for decoding).  With more set, bytes at the end that may
 * be the start of a sequence (a CR, part of a UTF-8 character) are left
 * for the next call.  Returns how many bytes of s were used. */
size_t vis_escape(struct buf *out, const char *s, size_t n, int more);

#endif
