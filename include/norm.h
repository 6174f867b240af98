/* norm: the one normalisation that masking and screening share: a view of
 * UTF-8 text with what hides an address or a number from a program (not
 * from a reader) undone.  Pure: no I/O. */
#ifndef NORM_H
#define NORM_H

#include <stddef.h>

/* The view of text[0, len):
 * - a character whose NFKC form is ASCII folded to it (fullwidth and
 *   small forms, mathematical and enclosed letters, super- and subscript
 *   digits, ligatures, the ideographic space: libunistring's tables), as
 *   long as that is no longer than the character's UTF-8;
 * - zero-width characters, the soft hyphen, word joiner, BOM and bidi
 *   controls removed;
 * - %XX that decodes to a letter, digit or one of "@.+-_" decoded (a
 *   mailto: link);
 * - the quotes of a quoted local part ("alex"@...) removed;
 * - a line break (with the next line's quote marks and spaces) removed
 *   where an address goes on across it: after its '@', or after or before
 *   a '.' when its domain has no other dot yet ("alex@school." / "test",
 *   but not "sam@nhs.test." / "Jo is ...").  (Not before an '@': "my insta is" /
 *   "@alex.s" is a handle on a line of its own.)
 * map[i] is the offset in text of view byte i, a removed character
 * counting with the byte after it; map[*outlen] = len.  Caller frees both. */
char *norm_view(const char *text, size_t len, size_t **map, size_t *outlen);

#endif
