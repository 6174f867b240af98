/* Routing helpers: the relay token from the recipient headers (never To
 * alone: Bcc exists), and address masking for relayed bodies. */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "route.h"

static char *
token_of(const char *addr, const char *local, const char *domain)
{
	size_t ll = strlen(local);
	const char *at = strrchr(addr, '@'), *tok;

	if (!at || strcasecmp(at + 1, domain))
		return NULL;
	if (strncasecmp(addr, local, ll) || addr[ll] != '+')
		return NULL;
	tok = addr + ll + 1;
	if (tok >= at)
		return NULL;
	for (const char *p = tok; p < at; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return NULL;
	char *t = xstrndup(tok, (size_t)(at - tok));
	for (char *p = t; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return t;
}

char *
route_token(const char *local, const char *domain, const struct mime_msg *m, const char **where)
{
	const struct {
		const struct mime_list *l;
		const char *name;
	} order[] = {
		{ &m->delivered_to, "Delivered-To" }, { &m->x_original_to, "X-Original-To" },
		{ &m->to, "To" }, { &m->cc, "Cc" },
	};

	for (size_t i = 0; i < sizeof order / sizeof *order; i++)
		for (size_t j = 0; j < order[i].l->n; j++) {
			char *t = token_of(order[i].l->v[j], local, domain);
			if (t) {
				if (where)
					*where = order[i].name;
				return t;
			}
		}
	return NULL;
}

static int
addr_char(char c)
{
	return c && (isalnum((unsigned char)c) || strchr(".!#$%&'*+/=?^_`{|}~-", c) != NULL);
}

char *
route_mask(const char *text, const struct route_mask *masks, size_t n)
{
	struct buf b = {0};
	const char *p = text;

	buf_add(&b, "", 0);
	while (*p) {
		size_t i, len = 0;
		/* only try at the start of an address-like run */
		if (p == text || !addr_char(p[-1])) {
			for (i = 0; i < n; i++) {
				len = strlen(masks[i].real);
				if (len && !strncasecmp(p, masks[i].real, len) && !addr_char(p[len]))
					break;
				/* "alex@school.test." at the end of a sentence */
				if (len && !strncasecmp(p, masks[i].real, len) && p[len] == '.' &&
				    !addr_char(p[len + 1]))
					break;
			}
			if (i < n) {
				buf_adds(&b, masks[i].mask);
				p += len;
				continue;
			}
		}
		buf_addc(&b, *p++);
	}
	return buf_steal(&b);
}
