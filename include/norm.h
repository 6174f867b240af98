/* norm: the one normalisation that masking and screening share: a view of
 * UTF-8 text with what hides an address or a number from a program (not
 * from a reader) undone.  Pure: no I/O. */
#ifndef NORM_H
#define NORM_H

#include <stddef.h>

/* The view of text[0, len):
 * - NFKC's compatibility forms of the characters addresses and numbers are
 *   made of (fullwidth ASCII, the ideographic space, small and one-dot
 *   leader full stops, the small commercial at) folded to ASCII;
 * - zero-width characters, the soft hyphen, word joiner, BOM and bidi
 *   controls removed;
 * - %XX that decodes to a letter, digit or one of "@.+-_" decoded (a
 *   mailto: link);
 * - the quotes of a quoted local part ("alex"@...) removed;
 * - a line break (with the next line's quote marks and spaces) removed
 *   where an address goes on across it: after its '@', or after or before
 *   a '.' once its '@' is behind.  (Not before an '@': "my insta is" /
 *   "@alex.s" is a handle on a line of its own.)
 * map[i] is the offset in text of view byte i, a removed character
 * counting with the byte after it; map[*outlen] = len.  Caller frees both. */
char *norm_view(const char *text, size_t len, size_t **map, size_t *outlen);

#endif
