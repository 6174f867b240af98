/* OAuth2 bearer tokens: the command does the OAuth dance (a refresh token,
 * a vault, a helper such as oama); we only cache what it prints. */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "command.h"
#include "conf.h"
#include "oauth.h"

#define MAX_CACHED 8
#define MARGIN 60	/* seconds: refresh a token this long before it expires */

static struct cached {
	char *command, *token;
	int64_t expires;	/* mg_now() seconds */
} cache[MAX_CACHED];
static pthread_mutex_t cache_mu = PTHREAD_MUTEX_INITIALIZER;	/* each programme's thread */

static void
zap(struct cached *c)
{
	if (c->token) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	free(c->command);
	memset(c, 0, sizeof *c);
}

/* The JSON string or number after "key": in s, or NULL; caller frees. */
static char *
json_value(const char *s, const char *key)
{
	char *pat = xasprintf("\"%s\"", key);
	const char *p = strstr(s, pat), *e;

	free(pat);
	if (!p)
		return NULL;
	p += strlen(key) + 2;
	while (isspace((unsigned char)*p))
		p++;
	if (*p++ != ':')
		return NULL;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '"') {
		/* tokens are base64url-ish: no escapes to decode */
		if (!(e = strchr(++p, '"')))
			return NULL;
	} else
		for (e = p; isdigit((unsigned char)*e); e++)
			;
	return e > p ? xstrndup(p, (size_t)(e - p)) : NULL;
}

static int
token_ok(const char *t)
{
	if (!*t)
		return 0;
	for (; *t; t++)		/* printable ASCII, no spaces: it goes in a SASL string */
		if (*t <= ' ' || *t > '~')
			return 0;
	return 1;
}

enum mg_status
oauth_parse(const char *out, char **token, int64_t *expires_in)
{
	const char *p = out;
	char *t, *n = NULL;

	*token = NULL;
	*expires_in = -1;
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '{') {
		t = json_value(p, "access_token");
		n = json_value(p, "expires_in");
	} else {
		size_t len = strcspn(p, "\r\n");
		t = xstrndup(p, len);
		p += len;
		while (*p == '\r' || *p == '\n')
			p++;
		if (*p)
			n = xstrndup(p, strcspn(p, "\r\n"));
	}
	if (n) {
		char *end;
		errno = 0;
		long long v = strtoll(n, &end, 10);
		if (!errno && end != n && !*end && v >= 0)
			*expires_in = v;
		free(n);
	}
	if (!t || !token_ok(t)) {
		if (t)
			explicit_bzero(t, strlen(t));
		free(t);
		return MG_BADINPUT;
	}
	*token = t;
	return MG_OK;
}

static struct cached *
find(const char *command)
{
	for (int i = 0; i < MAX_CACHED; i++)
		if (cache[i].command && !strcmp(cache[i].command, command))
			return &cache[i];
	return NULL;
}

enum mg_status
oauth_token(const char *command, char **token, struct buf *err)
{
	struct cached *c;
	int64_t now = mg_now(), life;
	char *out = NULL;
	enum mg_status st;

	*token = NULL;
	pthread_mutex_lock(&cache_mu);
	if ((c = find(command)) && c->expires - MARGIN > now) {
		*token = xstrdup(c->token);
		pthread_mutex_unlock(&cache_mu);
		return MG_OK;
	}
	if (c)
		zap(c);
	pthread_mutex_unlock(&cache_mu);
	if ((st = command_run(command, COMMAND_TIMEOUT_MS, &out, err)) != MG_OK)
		return st;
	st = oauth_parse(out, token, &life);
	explicit_bzero(out, strlen(out));
	free(out);
	if (st != MG_OK) {
		buf_adds(err, "oauth2_token_command printed no usable token");
		return MG_TEMPFAIL;
	}
	if (life > MARGIN) {
		pthread_mutex_lock(&cache_mu);
		if ((c = find(command)))
			zap(c);	/* another thread's, just as new */
		else
			for (int i = 0; i < MAX_CACHED && !c; i++)
				if (!cache[i].command)
					c = &cache[i];
		if (!c)
			zap(c = &cache[0]);
		c->command = xstrdup(command);
		c->token = xstrdup(*token);
		c->expires = now + life;
		pthread_mutex_unlock(&cache_mu);
	}
	return MG_OK;
}

void
oauth_reject(const char *command)
{
	struct cached *c;

	pthread_mutex_lock(&cache_mu);
	if (command && (c = find(command)))
		zap(c);
	pthread_mutex_unlock(&cache_mu);
}
