/* authres: read the trusted Authentication-Results header. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authres.h"
#include "mime.h"

static enum authres_result
method(const char *v, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = v; (p = strstr(p, name)); p += n) {
		if (p != v && (isalnum((unsigned char)p[-1]) || p[-1] == '-'))
			continue;
		const char *r = p + n;
		while (*r == ' ')
			r++;
		if (*r != '=')
			continue;
		r++;
		while (*r == ' ')
			r++;
		if (!strncmp(r, "pass", 4))
			return AUTHRES_PASS;
		if (!strncmp(r, "fail", 4) || !strncmp(r, "softfail", 8) || !strncmp(r, "permerror", 9))
			return AUTHRES_FAIL;
		return AUTHRES_NONE;
	}
	return AUTHRES_NONE;
}

void
authres_read(const char *raw, size_t len, const char *authserv_id, struct authres *a)
{
	char *v = authserv_id ? mime_header(raw, len, "Authentication-Results") : NULL;
	size_t n;

	memset(a, 0, sizeof *a);
	if (!v)
		return;
	n = strlen(authserv_id);
	if (!strncasecmp(v, authserv_id, n) && (v[n] == ';' || v[n] == ' ' || !v[n])) {
		for (char *p = v; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		a->trusted = 1;
		a->dkim = method(v, "dkim");
		a->spf = method(v, "spf");
		a->dmarc = method(v, "dmarc");
	}
	free(v);
}
