/* SMTP through libcurl.  libcurl sends CR/LF inside envelope addresses raw
 * and leaves line endings to us (it dot-stuffs only after CRLF), so both are
 * handled here before anything reaches it. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "log.h"
#include "oauth.h"
#include "smtp.h"

struct smtp {
	const struct conf *conf;
	CURL *curl;
	char *password;
	char errbuf[CURL_ERROR_SIZE];
	int (*before_end)(void *);
	void *before_end_arg;
	/* how far the message got: the last command sent (its verb), the one
	 * the last refusal answered (before curl's QUIT), and whether any of
	 * the message itself went out */
	char verb[5], refused[5];
	int data_out;
	struct smtp *more[CONF_SMTP_CONN_MAX - 1];	/* smtp_conn's, owned */
};

struct upload {
	const char *p;
	size_t left;
	int (*before_end)(void *);	/* once, before the message's last bytes */
	void *arg;
	int held;			/* it said no: the end never went out */
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void
curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

struct smtp *
smtp_new(const struct conf *c)
{
	struct smtp *s = xcalloc(1, sizeof *s);

	pthread_once(&curl_once, curl_init);
	s->conf = c;
	return s;
}

void
smtp_free(struct smtp *s)
{
	if (!s)
		return;
	for (int i = 0; i < CONF_SMTP_CONN_MAX - 1; i++)
		smtp_free(s->more[i]);
	if (s->curl)
		curl_easy_cleanup(s->curl);
	if (s->password) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
	}
	free(s);
}

struct smtp *
smtp_conn(struct smtp *s, int i)
{
	if (i <= 0 || i >= CONF_SMTP_CONN_MAX)
		return s;
	if (!s->more[i - 1])
		s->more[i - 1] = smtp_new(s->conf);
	return s->more[i - 1];
}

void
smtp_conn_trim(struct smtp *s, int k)
{
	for (int i = k < 1 ? 1 : k; i < CONF_SMTP_CONN_MAX; i++) {
		smtp_free(s->more[i - 1]);
		s->more[i - 1] = NULL;
	}
}

int
smtp_envelope_ok(const char *a)
{
	return a && *a && strlen(a) < 320 && !strpbrk(a, "\r\n<> \t");
}

char *
smtp_crlf(const char *d, size_t len, size_t *outlen)
{
	struct buf b = {0};
	size_t i = 0;

	while (i < len) {
		size_t run = i;
		while (run < len && d[run] != '\r' && d[run] != '\n')
			run++;
		buf_add(&b, d + i, run - i);	/* a whole line at a time */
		if (run == len)
			break;
		buf_adds(&b, "\r\n");
		i = run + (d[run] == '\r' && run + 1 < len && d[run + 1] == '\n' ? 2 : 1);
	}
	if (b.len < 2 || memcmp(b.s + b.len - 2, "\r\n", 2))
		buf_adds(&b, "\r\n");
	*outlen = b.len;
	return buf_steal(&b);
}

static size_t
reader(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct upload *u = arg;
	size_t n = size * nmemb < u->left ? size * nmemb : u->left;

	if (n == u->left && u->before_end) {
		/* until these bytes are out the server cannot accept the message */
		int no = u->before_end(u->arg);
		u->before_end = NULL;
		if (no) {
			u->held = 1;
			return CURL_READFUNC_ABORT;
		}
	}
	memcpy(ptr, u->p, n);
	u->p += n;
	u->left -= n;
	return n;
}

/* libcurl's trace: only to follow the session (nothing is logged; the
 * AUTH line is not kept). */
static int
trace(CURL *h, curl_infotype type, char *p, size_t n, void *arg)
{
	struct smtp *s = arg;

	(void)h;
	if (type == CURLINFO_HEADER_OUT && n >= 4) {
		memcpy(s->verb, p, 4);
		s->verb[4] = 0;
	} else if (type == CURLINFO_HEADER_IN && n && (*p == '4' || *p == '5'))
		memcpy(s->refused, s->verb[0] ? s->verb : "CONN", 5);
	else if (type == CURLINFO_DATA_OUT)
		s->data_out = 1;
	return 0;
}

/* A refusal (4xx, 5xx reply code rc): of this message when it came to
 * RCPT, DATA or the message itself, or to MAIL as too big (552); else of
 * the session (greeting, EHLO, STARTTLS, AUTH, MAIL: a relay wanting
 * authentication, our sender refused), which is an outage, retried with
 * backoff, never a bounce of every message and its recipient paused. */
static enum mg_status
refusal(const struct smtp *s, long rc)
{
	int message = s->data_out || !strcasecmp(s->refused, "RCPT") ||
	    !strcasecmp(s->refused, "DATA") || (!strcasecmp(s->refused, "MAIL") && rc == 552);

	if (!message)
		return MG_CONNFAIL;
	return rc >= 500 ? MG_PERMFAIL : MG_TEMPFAIL;
}

static enum mg_status
setup(struct smtp *s, struct buf *err)
{
	const struct conf *c = s->conf;

	if (s->curl)
		return MG_OK;
	if (!s->password && c->smtp_oauth2_command) {
		if (oauth_token(c->smtp_oauth2_command, &s->password, err) != MG_OK)
			return MG_CONNFAIL;
	} else if (!s->password && (c->smtp_password || c->smtp_password_command)) {
		enum mg_status st = conf_secret(c->smtp_password, c->smtp_password_command,
		    &s->password, err);
		if (st != MG_OK)
			return MG_CONNFAIL;
	}
	if (!(s->curl = curl_easy_init())) {
		buf_adds(err, "curl_easy_init failed");
		return MG_TEMPFAIL;
	}
	curl_easy_setopt(s->curl, CURLOPT_URL, c->smtp_url);
	curl_easy_setopt(s->curl, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(s->curl, CURLOPT_READFUNCTION, reader);
	curl_easy_setopt(s->curl, CURLOPT_ERRORBUFFER, s->errbuf);
	curl_easy_setopt(s->curl, CURLOPT_DEBUGFUNCTION, trace);
	curl_easy_setopt(s->curl, CURLOPT_DEBUGDATA, s);
	curl_easy_setopt(s->curl, CURLOPT_VERBOSE, 1L);	/* (to trace: prints nothing) */
	curl_easy_setopt(s->curl, CURLOPT_TIMEOUT, (long)c->smtp_timeout);
	curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
	if (c->smtp_tls == CONF_TLS_STARTTLS)
		curl_easy_setopt(s->curl, CURLOPT_USE_SSL, (long)CURLUSESSL_ALL);
	if (c->smtp_ca_file)
		curl_easy_setopt(s->curl, CURLOPT_CAINFO, c->smtp_ca_file);
	if (!c->smtp_tls_verify) {
		log_warn("smtp tls-unverified url=%s (tls_verify = no)", c->smtp_url);
		curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(s->curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (c->smtp_username) {
		curl_easy_setopt(s->curl, CURLOPT_USERNAME, c->smtp_username);
		if (c->smtp_oauth2_command)	/* SASL XOAUTH2 / OAUTHBEARER */
			curl_easy_setopt(s->curl, CURLOPT_XOAUTH2_BEARER, s->password);
		else
			curl_easy_setopt(s->curl, CURLOPT_PASSWORD, s->password ? s->password : "");
	}
	return MG_OK;
}

static void
forget(struct smtp *s)
{
	if (s->curl)
		curl_easy_cleanup(s->curl);
	s->curl = NULL;
	if (s->password) {
		explicit_bzero(s->password, strlen(s->password));
		free(s->password);
		s->password = NULL;
	}
}

static enum mg_status send_once(struct smtp *, const char *, const char *, const char *,
    size_t, int *, CURLcode *, struct buf *);

enum mg_status
smtp_send(struct smtp *s, const char *env_from, const char *rcpt, const char *data,
    size_t len, int *code, struct buf *err)
{
	CURLcode cc = CURLE_OK;
	enum mg_status st = send_once(s, env_from, rcpt, data, len, code, &cc, err);

	if (cc == CURLE_LOGIN_DENIED && s->conf->smtp_oauth2_command) {
		/* the token was refused (revoked, expired early): a fresh one, once */
		oauth_reject(s->conf->smtp_oauth2_command);
		forget(s);
		buf_free(err);
		st = send_once(s, env_from, rcpt, data, len, code, &cc, err);
	}
	if (cc == CURLE_LOGIN_DENIED) {
		if (s->conf->smtp_oauth2_command)
			oauth_reject(s->conf->smtp_oauth2_command);
		forget(s);	/* a password_command may give a new one next time */
		st = MG_CONNFAIL;
	}
	return st;
}

static enum mg_status
send_once(struct smtp *s, const char *env_from, const char *rcpt, const char *data,
    size_t len, int *code, CURLcode *ccp, struct buf *err)
{
	struct curl_slist *rcpts = NULL;
	struct upload u;
	enum mg_status st;
	char *from, *to, *norm;
	size_t normlen;
	long rc = 0;
	CURLcode cc;

	*code = 0;
	if (!smtp_envelope_ok(env_from) || !smtp_envelope_ok(rcpt)) {
		buf_adds(err, "envelope address with CR, LF, space or angle bracket refused");
		return MG_BADINPUT;
	}
	if ((st = setup(s, err)) != MG_OK)
		return st;
	from = xasprintf("<%s>", env_from);
	to = xasprintf("<%s>", rcpt);
	rcpts = curl_slist_append(NULL, to);
	norm = smtp_crlf(data, len, &normlen);
	u.p = norm;
	u.left = normlen;
	u.before_end = s->before_end;
	u.arg = s->before_end_arg;
	u.held = 0;
	s->errbuf[0] = 0;
	s->verb[0] = s->refused[0] = 0;
	s->data_out = 0;
	curl_easy_setopt(s->curl, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, rcpts);
	curl_easy_setopt(s->curl, CURLOPT_READDATA, &u);
	curl_easy_setopt(s->curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)normlen);
	cc = *ccp = curl_easy_perform(s->curl);
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &rc);
	*code = (int)rc;
	if (cc == CURLE_OK)
		st = MG_OK;
	else if (u.held) {
		/* cut off mid-DATA: not delivered, and the session is spent */
		buf_adds(err, "held back before its end");
		st = MG_TEMPFAIL;
		curl_easy_cleanup(s->curl);
		s->curl = NULL;
	} else {
		buf_printf(err, "%s%s%s (reply %ld)", curl_easy_strerror(cc),
		    s->errbuf[0] ? ": " : "", s->errbuf, rc);
		if (rc >= 400 && rc < 600)
			st = refusal(s, rc);
		else if (cc == CURLE_OPERATION_TIMEDOUT)
			st = MG_TEMPFAIL;	/* unknown outcome: may have been delivered */
		else
			st = MG_CONNFAIL;
		if (st == MG_CONNFAIL) {	/* start afresh next time */
			curl_easy_cleanup(s->curl);
			s->curl = NULL;
		}
	}
	if (u.before_end)	/* never reached the end (refused earlier) */
		u.before_end(u.arg);
	if (s->curl)
		curl_easy_setopt(s->curl, CURLOPT_MAIL_RCPT, NULL);
	curl_slist_free_all(rcpts);
	free(norm);
	free(from);
	free(to);
	return st;
}

void
smtp_before_end(struct smtp *s, int (*fn)(void *), void *arg)
{
	s->before_end = fn;
	s->before_end_arg = arg;
}
