/* Configuration reader in the isync manner: a line reader that reports every
 * bad line as file:line and keeps going, then fails once at the end. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pwd.h>

#include "command.h"
#include "conf.h"
#include "rules.h"
#include "survey.h"

enum kind { K_STR, K_INT, K_TLS, K_ADDR, K_LIST, K_PATH, K_URL, K_BOOL, K_ATT, K_SIZE, K_TEXTS };

struct key {
	const char *section, *name;
	enum kind kind;
	size_t off;
	int min, max;
};

#define F(m) offsetof(struct conf, m)
static const struct key keys[] = {
	{ "programme", "name", K_STR, F(name), 0, 0 },
	{ "programme", "relay_address", K_ADDR, 0, 0, 0 },
	{ "programme", "database", K_PATH, F(database), 0, 0 },
	{ "programme", "templates", K_PATH, F(templates), 0, 0 },
	{ "programme", "pair_daily_cap", K_INT, F(pair_daily_cap), 1, 100000 },
	{ "imap", "host", K_STR, F(imap_host), 0, 0 },
	{ "imap", "port", K_INT, F(imap_port), 1, 65535 },
	{ "imap", "tls", K_TLS, F(imap_tls), 0, 0 },
	{ "imap", "ca_file", K_PATH, F(imap_ca_file), 0, 0 },
	{ "imap", "tls_verify", K_BOOL, F(imap_tls_verify), 0, 0 },
	{ "imap", "username", K_STR, F(imap_username), 0, 0 },
	{ "imap", "password", K_STR, F(imap_password), 0, 0 },
	{ "imap", "password_command", K_STR, F(imap_password_command), 0, 0 },
	{ "imap", "oauth2_token_command", K_STR, F(imap_oauth2_command), 0, 0 },
	{ "imap", "idle", K_BOOL, F(imap_idle), 0, 0 },
	{ "imap", "mailbox", K_STR, F(imap_mailbox), 0, 0 },
	{ "imap", "processed_mailbox", K_STR, F(imap_processed), 0, 0 },
	{ "imap", "poll_interval", K_INT, F(poll_interval), 1, 86400 },
	{ "imap", "timeout", K_INT, F(imap_timeout), 1, 3600 },
	{ "imap", "max_message_size", K_SIZE, F(imap_max_size), 0, 2047 },	/* MiB */
	{ "smtp", "url", K_URL, F(smtp_url), 0, 0 },
	{ "smtp", "tls", K_TLS, F(smtp_tls), 0, 0 },
	{ "smtp", "ca_file", K_PATH, F(smtp_ca_file), 0, 0 },
	{ "smtp", "username", K_STR, F(smtp_username), 0, 0 },
	{ "smtp", "password", K_STR, F(smtp_password), 0, 0 },
	{ "smtp", "password_command", K_STR, F(smtp_password_command), 0, 0 },
	{ "smtp", "oauth2_token_command", K_STR, F(smtp_oauth2_command), 0, 0 },
	{ "smtp", "tls_verify", K_BOOL, F(smtp_tls_verify), 0, 0 },
	{ "smtp", "from_name", K_STR, F(from_name), 0, 0 },
	{ "smtp", "timeout", K_INT, F(smtp_timeout), 1, 3600 },
	{ "smtp", "batch_size", K_INT, F(batch_size), 1, 100000 },
	{ "smtp", "connections", K_INT, F(smtp_connections), 1, CONF_SMTP_CONN_MAX },
	{ "moderation", "coordinators", K_LIST, F(coordinators), 0, 0 },
	{ "moderation", "require_authentication", K_BOOL, F(require_authentication), 0, 0 },
	{ "moderation", "hold_unauthenticated", K_BOOL, F(hold_unauthenticated), 0, 0 },
	{ "moderation", "authserv_id", K_STR, F(authserv_id), 0, 0 },
	{ "screening", "rules", K_PATH, F(rules_dir), 0, 0 },
	{ "screening", "allow", K_TEXTS, F(allow), 0, 0 },
	{ "screening", "spotcheck_percent", K_INT, F(spotcheck_percent), 0, 100 },
	{ "screening", "pair_signals", K_INT, F(pair_signals), 0, 100 },
	{ "safeguarding", "addresses", K_LIST, F(safeguarding), 0, 0 },
	{ "safeguarding", "escalation_chain", K_LIST, F(chain), 0, 0 },
	{ "safeguarding", "escalation_minutes", K_INT, F(escalation_minutes), 1, 10080 },
	{ "moderation", "hold_reminder_hours", K_INT, F(hold_reminder_hours), 1, 8760 },
	{ "moderation", "mentee_attachments", K_ATT, F(mentee_attachments), 0, 0 },
	{ "moderation", "mentor_attachments", K_ATT, F(mentor_attachments), 0, 0 },
	{ "daemon", "user", K_STR, F(user), 0, 0 },
	{ "daemon", "pidfile", K_PATH, F(pidfile), 0, 0 },
	{ "daemon", "reconnect_max", K_INT, F(reconnect_max), 5, 86400 },
};
#undef F

struct reader {
	const char *file;
	int line, errors;
	struct buf *errs;
};

static void __attribute__((format(printf, 2, 3)))
bad(struct reader *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (r->line)
		buf_printf(r->errs, "%s:%d: %s\n", r->file, r->line, msg);
	else
		buf_printf(r->errs, "%s: %s\n", r->file, msg);
	r->errors++;
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

/* RFC 5322 addr-spec, narrowed: a dot-atom local part (no quoted string),
 * one '@', and a domain of two or more labels of letters, digits and inner
 * hyphens (no address literal). */
#define ALNUM "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
const char *
conf_address_error(const char *s)
{
	const char *at = strchr(s, '@'), *p;
	size_t n, labels = 0;

	if (!at)
		return "no '@'";
	if (strchr(at + 1, '@'))
		return "more than one '@'";
	if (at == s || at - s > 64 || strlen(at + 1) > 253)
		return "the local part is empty or too long";
	for (p = s; p < at; p++)
		if (*p == '.' ? p == s || p + 1 == at || p[1] == '.' :
		    !strchr(ALNUM "!#$%&'*+-/=?^_`{|}~", *p))
			return "the local part is not words of letters, digits and"
			    " !#$%&'*+-/=?^_`{|}~ joined by single dots";
	for (p = at + 1;; p += n + 1) {
		n = strspn(p, ALNUM "-");
		if (n == 0 || n > 63 || *p == '-' || p[n - 1] == '-' || (p[n] && p[n] != '.'))
			return "the domain is not labels of letters, digits and inner hyphens"
			    " joined by single dots";
		labels++;
		if (!p[n])
			break;
	}
	return labels >= 2 ? NULL : "the domain has a single label";
}
#undef ALNUM

int
conf_valid_address(const char *s)
{
	return conf_address_error(s) == NULL;
}

static char *
resolve(const char *cfgpath, const char *v)
{
	const char *slash;

	if (v[0] == '/' || !(slash = strrchr(cfgpath, '/')))
		return xstrdup(v);
	return xasprintf("%.*s/%s", (int)(slash - cfgpath), cfgpath, v);
}

static void
add_list(struct reader *r, struct conf *c, size_t off, char *v)
{
	/* a list is a char ** followed by its size_t count */
	char ***list = (char ***)(void *)((char *)c + off);
	size_t *n = (size_t *)(void *)((char *)c + off + sizeof(char **));

	char *save = NULL;

	for (char *tok = strtok_r(v, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
		if (!conf_valid_address(tok)) {
			bad(r, "'%s' is not an email address", tok);
			continue;
		}
		*list = xrealloc(*list, (*n + 1) * sizeof **list);
		(*list)[(*n)++] = mg_lower(tok);
	}
}

static void
set(struct reader *r, struct conf *c, const struct key *k, char *v)
{
	char **sp = (char **)((char *)c + k->off);
	int *ip = (int *)((char *)c + k->off);
	char *end;
	long n, mult;

	if (*v == '"' && strlen(v) >= 2 && v[strlen(v) - 1] == '"') {
		v[strlen(v) - 1] = 0;
		v++;
	}
	if (k->kind != K_LIST && *v == 0) {
		bad(r, "%s: empty value", k->name);
		return;
	}
	switch (k->kind) {
	case K_STR:
	case K_URL:
	case K_PATH:
		if (k->kind == K_URL && strncmp(v, "smtp://", 7) && strncmp(v, "smtps://", 8)) {
			bad(r, "%s: '%s' must start with smtp:// or smtps://", k->name, v);
			return;
		}
		free(*sp);
		*sp = k->kind == K_PATH ? resolve(r->file, v) : xstrdup(v);
		break;
	case K_INT:
		errno = 0;
		n = strtol(v, &end, 10);
		if (errno || *end || end == v || n < k->min || n > k->max) {
			char range[64];
			snprintf(range, sizeof range, "%d..%d", k->min, k->max);
			bad(r, "%s: expected a whole number in %s", k->name, range);
			return;
		}
		*ip = (int)n;
		break;
	case K_SIZE:	/* bytes, or with K or M */
		errno = 0;
		n = strtol(v, &end, 10);
		mult = *end == 'K' || *end == 'k' ? 1024 : *end == 'M' || *end == 'm' ? 1048576 : 1;
		if (errno || end == v || n < 0 || (*end && (mult == 1 || end[1])) ||
		    n > ((long)k->max << 20) / mult) {
			bad(r, "%s: expected a size such as 25M, 500K or 0 (no limit), at most %dM",
			    k->name, k->max);
			return;
		}
		*ip = (int)(n * mult);
		break;
	case K_TLS:
		if (!strcmp(v, "none"))
			*ip = CONF_TLS_NONE;
		else if (!strcmp(v, "starttls"))
			*ip = CONF_TLS_STARTTLS;
		else if (!strcmp(v, "implicit"))
			*ip = CONF_TLS_IMPLICIT;
		else
			bad(r, "tls: '%s' is not one of none, starttls, implicit", v);
		break;
	case K_ADDR: {
		char *at = strrchr(v, '@');
		if (!conf_valid_address(v) || strchr(v, '+')) {
			bad(r, "%s: '%s' is not LOCAL@DOMAIN (without '+')", k->name, v);
			return;
		}
		free(c->relay_local);
		free(c->relay_domain);
		c->relay_local = xstrndup(v, (size_t)(at - v));
		c->relay_domain = mg_lower(at + 1);
		break;
	}
	case K_LIST:
		add_list(r, c, k->off, v);
		break;
	case K_TEXTS: {	/* one entry a line, kept whole */
		char ***list = (char ***)(void *)((char *)c + k->off);
		size_t *n = (size_t *)(void *)((char *)c + k->off + sizeof(char **));
		*list = xrealloc(*list, (*n + 1) * sizeof **list);
		(*list)[(*n)++] = xstrdup(v);
		break;
	}
	case K_ATT:
		if (!strcmp(v, "hold"))
			*ip = CONF_ATT_HOLD;
		else if (!strcmp(v, "note"))
			*ip = CONF_ATT_NOTE;
		else
			bad(r, "%s: '%s' is hold or note", k->name, v);
		break;
	case K_BOOL:
		if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "on"))
			*ip = 1;
		else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "off"))
			*ip = 0;
		else
			bad(r, "%s: '%s' is not yes or no", k->name, v);
		break;
	}
}

static void
parse_line(struct reader *r, struct conf *c, char *line, char *section, size_t seclen)
{
	char *s = trim(line), *eq, *key, *val;
	const struct key *k;

	if (*s == 0 || *s == '#' || *s == ';')
		return;
	if (*s == '[') {
		char *e = strchr(s, ']');
		if (!e || e[1]) {
			bad(r, "malformed section header '%s'", s);
			return;
		}
		*e = 0;
		snprintf(section, seclen, "%s", trim(s + 1));
		if (!strcmp(section, "calendar") || !strcmp(section, "schedule") ||
		    !strcmp(section, "digest"))
			return;
		if (!strncmp(section, "survey ", 7)) {
			char why[200];
			if (survey_conf_section(&c->sched, section + 7, r->line, why, sizeof why))
				bad(r, "%s", why);
			return;
		}
		for (k = keys; k < keys + sizeof keys / sizeof *keys; k++)
			if (!strcmp(k->section, section))
				return;
		bad(r, "unknown section [%s]", section);
		return;
	}
	if (!(eq = strchr(s, '='))) {
		bad(r, "expected 'key = value', got '%s'", s);
		return;
	}
	*eq = 0;
	key = trim(s);
	val = trim(eq + 1);
	if (!*section) {
		bad(r, "'%s' outside any [section]", key);
		return;
	}
	if (!strncmp(section, "survey ", 7)) {
		char why[200];
		if (survey_conf_key(&c->sched, key, val, why, sizeof why))
			bad(r, "%s", why);
		return;
	}
	if (!strcmp(section, "calendar") || !strcmp(section, "schedule") ||
	    !strcmp(section, "digest")) {
		char why[200];
		if (sched_conf_key(&c->sched, section, key, val, r->line, why, sizeof why))
			bad(r, "%s", why);
		return;
	}
	for (k = keys; k < keys + sizeof keys / sizeof *keys; k++)
		if (!strcmp(k->section, section) && !strcmp(k->name, key)) {
			set(r, c, k, val);
			return;
		}
	bad(r, "unknown key '%s' in [%s]", key, section);
}

static void
require(struct reader *r, const void *v, const char *what)
{
	if (!v)
		bad(r, "missing %s", what);
}

/* A password may be read by the file's owner and by the daemon's own group
 * (root:mentorgate 0640 under the shipped unit): by no other group, never
 * by others. */
static int
secret_exposed(const struct conf *c, const struct stat *st)
{
	struct passwd *pw;

	if (st->st_mode & 007)
		return 1;
	if (!(st->st_mode & 070) || st->st_gid == getegid())
		return 0;
	return !(c->user && (pw = getpwnam(c->user)) && st->st_gid == pw->pw_gid);
}

static void
check_whole(struct reader *r, struct conf *c, const struct stat *st)
{
	r->line = 0;
	require(r, c->name, "[programme] name");
	require(r, c->relay_local, "[programme] relay_address");
	require(r, c->database, "[programme] database");
	require(r, c->imap_host, "[imap] host");
	require(r, c->imap_username, "[imap] username");
	require(r, c->smtp_url, "[smtp] url");
	if (!!c->imap_password + !!c->imap_password_command + !!c->imap_oauth2_command != 1)
		bad(r, "[imap] needs exactly one of password, password_command, oauth2_token_command");
	if (!!c->smtp_password + !!c->smtp_password_command + !!c->smtp_oauth2_command > 1)
		bad(r, "[smtp] takes at most one of password, password_command, oauth2_token_command");
	if ((c->smtp_password || c->smtp_password_command || c->smtp_oauth2_command) &&
	    !c->smtp_username)
		bad(r, "[smtp] password or token given without username");
	/* (without authserv_id, decisions are confirmed by mail instead) */
	if (c->authserv_id && mg_has_crlf(c->authserv_id))
		bad(r, "[moderation] authserv_id contains a line break");
	if ((c->imap_password || c->smtp_password) && secret_exposed(c, st))
		bad(r, "holds a password but is readable by group or others"
		    " (chmod 600, or 640 with the daemon's group)");
	if (c->imap_processed && c->imap_mailbox && !strcmp(c->imap_processed, c->imap_mailbox))
		bad(r, "[imap] processed_mailbox must differ from mailbox");
	if (c->name && mg_has_crlf(c->name))
		bad(r, "[programme] name contains a line break");
	if (c->from_name && mg_has_crlf(c->from_name))
		bad(r, "[smtp] from_name contains a line break");
}

static void
defaults(struct conf *c)
{
	c->imap_port = -1;
	c->imap_tls = CONF_TLS_STARTTLS;
	c->imap_tls_verify = 1;
	c->imap_idle = 1;
	c->smtp_tls_verify = 1;
	c->reconnect_max = 300;
	c->smtp_tls = CONF_TLS_NONE;
	c->poll_interval = 60;
	c->imap_timeout = 60;
	c->imap_max_size = 25 << 20;
	c->smtp_timeout = 60;
	c->batch_size = 100;
	c->smtp_connections = 3;
	c->pair_daily_cap = 30;
	c->escalation_minutes = 30;
	c->mentee_attachments = CONF_ATT_HOLD;
	c->sched.cal.send_hour = 16;
	c->sched.late_days = 3;
	c->mentor_attachments = CONF_ATT_NOTE;
	c->hold_reminder_hours = 24;
	c->spotcheck_percent = 3;
	c->pair_signals = 3;
	c->require_authentication = 1;
	c->hold_unauthenticated = 1;
}

enum mg_status
conf_load(const char *path, struct conf **out, struct buf *errs)
{
	struct reader r = { path, 0, 0, errs };
	struct conf *c = xcalloc(1, sizeof *c);
	char section[64] = "", *line = NULL;
	size_t cap = 0;
	struct stat st;
	FILE *f;

	*out = NULL;
	if (!(f = fopen(path, "r"))) {
		buf_printf(errs, "%s: %s\n", path, strerror(errno));
		free(c);
		return MG_BADCONF;
	}
	defaults(c);
	c->path = xstrdup(path);
	while (getline(&line, &cap, f) >= 0) {
		r.line++;
		if (strlen(line) > 4096) {
			bad(&r, "line too long");
			continue;
		}
		parse_line(&r, c, line, section, sizeof section);
	}
	free(line);
	if (fstat(fileno(f), &st) < 0) {
		r.line = 0;
		bad(&r, "%s", strerror(errno));
		st.st_mode = 077;	/* unknown: as if exposed */
	}
	fclose(f);
	check_whole(&r, c, &st);
	if (c->imap_port < 0)
		c->imap_port = c->imap_tls == CONF_TLS_IMPLICIT ? 993 : 143;
	if (!c->imap_mailbox)
		c->imap_mailbox = xstrdup("INBOX");
	if (!c->from_name && c->name)
		c->from_name = xstrdup(c->name);
	if (!r.errors && sched_conf_done(&c->sched, path, c->templates, errs) != MG_OK)
		r.errors++;
	/* the rule sets are part of what a reload must get right */
	if (!r.errors && c->rules_dir && (rules_load(c->rules_dir, &c->rules, errs) != MG_OK ||
	    rules_check(c->rules, errs) != MG_OK))
		r.errors++;
	for (size_t i = 0; !r.errors && c->rules && i < c->nallow; i++)
		rules_allow(c->rules, c->allow[i]);
	if (!r.errors && c->rules && c->relay_domain) {	/* the programme's own addresses */
		char *own = xasprintf("@%s", c->relay_domain);
		rules_allow(c->rules, own);
		free(own);
	}
	if (r.errors) {
		conf_free(c);
		return MG_BADCONF;
	}
	*out = c;
	return MG_OK;
}

static void
zfree(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void
conf_free(struct conf *c)
{
	if (!c)
		return;
	char **strs[] = { &c->path, &c->name, &c->relay_local, &c->relay_domain,
		&c->database, &c->templates, &c->imap_host, &c->imap_ca_file,
		&c->imap_username, &c->imap_password_command, &c->imap_mailbox,
		&c->imap_processed, &c->smtp_url, &c->smtp_ca_file, &c->smtp_username,
		&c->smtp_password_command, &c->from_name, &c->rules_dir, &c->authserv_id,
		&c->imap_oauth2_command, &c->smtp_oauth2_command, &c->user, &c->pidfile };
	for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
		free(*strs[i]);
	zfree(c->imap_password);
	zfree(c->smtp_password);
	char ***lists[] = { &c->coordinators, &c->safeguarding, &c->chain, &c->allow };
	size_t *counts[] = { &c->ncoordinators, &c->nsafeguarding, &c->nchain, &c->nallow };
	for (size_t l = 0; l < 4; l++) {
		for (size_t i = 0; i < *counts[l]; i++)
			free((*lists[l])[i]);
		free(*lists[l]);
	}
	rules_free(c->rules);
	sched_conf_free(&c->sched);
	free(c);
}

enum mg_status
conf_secret(const char *password, const char *command, char **out, struct buf *err)
{
	enum mg_status st;

	*out = NULL;
	if (password) {
		*out = xstrdup(password);
		return MG_OK;
	}
	if (!command) {
		*out = xstrdup("");
		return MG_OK;
	}
	if ((st = command_run(command, COMMAND_TIMEOUT_MS, out, err)) != MG_OK)
		return st;
	(*out)[strcspn(*out, "\r\n")] = 0;
	return MG_OK;
}

int
conf_listed(char *const *list, size_t n, const char *addr)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], addr))
			return 1;
	return 0;
}
