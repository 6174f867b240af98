/* plain: the words of a text as they are meant, for rules with
 * view = plain: letters lower-cased; leetspeak inside a word read as the
 * letter it stands for (0 o, 1 i, 3 e, 4 a, 5 s, 7 t, 8 b, @ a, $ s, ! i,
 * | l) when the word has a letter; a symbol standing between two letters
 * dropped (f*ck, k.i.l.l, s-l-u-t); a letter written three or more times
 * once; single letters spaced out ("k i l l") joined.  Pure. */
#ifndef PLAIN_H
#define PLAIN_H

#include <stddef.h>

/* The plain view of text and, for each of its bytes, the offset of the
 * byte of text it came from (map[*outlen] = len); caller frees both. */
char *plain_view(const char *text, size_t len, size_t **map, size_t *outlen);

/* Is this line written backwards ("ti pans no em dda")?  More of the
 * common words a line is made of read backwards than forwards, two at
 * least. */
int plain_backwards(const char *line, size_t len);

/* line with its characters (UTF-8 sequences kept whole) in reverse order:
 * byte range [a, b) of it is [len - b, len - a) of line; caller frees. */
char *plain_reverse(const char *line, size_t len);

#endif
