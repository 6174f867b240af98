/* Routing helpers: the relay token from the recipient headers (never To
 * alone: Bcc exists), and address masking for relayed bodies. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "norm.h"
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

/* The mask for the address s..e (its '@' at at), or for the same address
 * without a +tag, or for its longest part ending at a dot of the domain
 * (an address glued to what follows it: "alex@school.test.pdf"); *end is
 * where the known address ends.  NULL when none is known. */
static const char *
lookup_forms(const char *s, const char *at, const char *e, route_lookup lookup, void *arg,
    const char **end)
{
	const char *plus = memchr(s, '+', (size_t)(at - s)), *mask = NULL;
	struct buf b = {0};

	for (const char *d = e; !mask && d > at + 1; ) {
		for (int tagless = 0; !mask && tagless <= (plus != NULL); tagless++) {
			b.len = 0;
			buf_add(&b, s, (size_t)((tagless ? plus : at) - s));
			buf_add(&b, at, (size_t)(d - at));
			for (char *c = b.s; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			if ((mask = lookup(b.s, arg)))
				*end = d;
		}
		while (--d > at + 1 && *d != '.')
			;
	}
	buf_free(&b);
	return mask;
}

char *
route_mask_with(const char *text, route_lookup lookup, void *arg)
{
	struct buf b = {0};
	size_t len = strlen(text), vlen, *map, done = 0;
	/* addresses are looked for in the normalised view (split over lines,
	 * fullwidth, percent-encoded, with zero-width characters or a quoted
	 * local part), and replaced in the text itself */
	char *view = memchr(text, '@', len) || strstr(text, "%40") || strstr(text, "\xef\xbc\xa0") ||
	    strstr(text, "\xef\xb9\xab") ? norm_view(text, len, &map, &vlen) : NULL;
	const char *p, *at;

	buf_add(&b, "", 0);
	if (!view) {	/* (no '@' at all: nothing to mask) */
		buf_adds(&b, text);
		return buf_steal(&b);
	}
	/* only an '@' can be inside an address: look at the address-like run
	 * around each one (cost per '@', not per word and participant) */
	for (p = view; (at = strchr(p, '@')) != NULL; ) {
		const char *s = at, *e = at + 1, *mask = NULL, *end = NULL;
		while (s > view && addr_char(s[-1]))
			s--;
		while (addr_char(*e))
			e++;
		while (e > at + 1 && e[-1] == '.')	/* "alex@school.test." ends a sentence */
			e--;
		if (s >= p && s < at)
			mask = lookup_forms(s, at, e, lookup, arg, &end);
		if (mask && map[s - view] >= done) {
			/* the whole run goes, whatever was glued to the address
			 * ("alex@school.test.evil.example" must not become a
			 * look-alike of our own domain) */
			buf_add(&b, text + done, map[s - view] - done);
			buf_adds(&b, mask);
			done = map[e - view];
			p = e;
		} else
			p = at + 1;
	}
	buf_adds(&b, text + done);
	free(view);
	free(map);
	return buf_steal(&b);
}

struct table {
	const struct route_mask *v;
	size_t n;
};

static const char *
in_table(const char *addr, void *arg)
{
	const struct table *t = arg;

	for (size_t i = 0; i < t->n; i++)
		if (!strcasecmp(addr, t->v[i].real))
			return t->v[i].mask;
	return NULL;
}

char *
route_mask(const char *text, const struct route_mask *masks, size_t n)
{
	struct table t = { masks, n };

	return route_mask_with(text, in_table, &t);
}
