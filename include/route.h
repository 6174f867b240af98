/* route: find the relay token a message was addressed to, and mask real
 * addresses in text.  Pure: no I/O. */
#ifndef ROUTE_H
#define ROUTE_H

#include <stddef.h>

#include "mime.h"

/* The token of the first LOCAL+TOKEN@DOMAIN address (case-insensitive) in
 * Delivered-To, X-Original-To, To, then Cc, lower-cased; caller frees.
 * NULL when no recipient carries one; *where names the header it came from. */
char *route_token(const char *local, const char *domain, const struct mime_msg *,
    const char **where);

struct route_mask {
	const char *real;	/* lower-case address */
	const char *mask;	/* what the reader sees instead */
};

/* Copy of text with every whole occurrence of each real address
 * (case-insensitive) replaced by its mask; caller frees. */
char *route_mask(const char *text, const struct route_mask *, size_t n);

/* The same, asking lookup about each address in text (lower-cased): its
 * mask, or NULL to leave it as it is. */
typedef const char *(*route_lookup)(const char *addr, void *arg);
char *route_mask_with(const char *text, route_lookup, void *arg);

#endif
