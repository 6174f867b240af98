/* conf: the configuration file -> one immutable struct conf.
 * Format: "[section]" lines and "key = value" lines; "#" starts a comment line. */
#ifndef CONF_H
#define CONF_H

#include "mg.h"
#include "sched.h"

struct rules;

#define CONF_SMTP_CONN_MAX 8	/* [smtp] connections */

enum conf_tls { CONF_TLS_NONE, CONF_TLS_STARTTLS, CONF_TLS_IMPLICIT };
/* What a participant's attachments do: hold the message for a coordinator,
 * or relay its text with a note naming what was not passed on. */
enum conf_attachments { CONF_ATT_HOLD, CONF_ATT_NOTE };

struct conf {
	char *path;
	/* [programme] */
	char *name;
	char *relay_local, *relay_domain;	/* relay_address split at '@' */
	char *database, *templates;		/* absolute, or relative to the config file */
	int pair_daily_cap;			/* messages relayed per pair in 24 h */
	/* [imap] */
	char *imap_host;
	int imap_port;
	enum conf_tls imap_tls;
	char *imap_ca_file;
	int imap_tls_verify;			/* 0 only by an explicit opt-out */
	char *imap_username, *imap_password, *imap_password_command;
	char *imap_oauth2_command;		/* XOAUTH2 instead of a password */
	int imap_idle;				/* use IDLE when the server has it */
	char *imap_mailbox, *imap_processed;	/* processed NULL: flag instead of move */
	int poll_interval;			/* seconds */
	int imap_timeout;			/* seconds */
	int imap_max_size;			/* bytes a message may have; 0: any */
	/* [smtp] */
	char *smtp_url;
	enum conf_tls smtp_tls;
	char *smtp_ca_file;
	int smtp_tls_verify;			/* 0 only by an explicit opt-out */
	char *smtp_username, *smtp_password, *smtp_password_command;
	char *smtp_oauth2_command;
	char *from_name;
	int smtp_timeout;
	int batch_size;				/* rows claimed at a time per connection */
	int smtp_connections;			/* in parallel, for a backlog */
	/* [moderation] */
	char **coordinators;			/* lower-case addresses */
	size_t ncoordinators;
	int require_authentication;		/* commands by mail need our server's
					 * authentication, or without authserv_id a
					 * confirmation by mail (default yes) */
	int hold_unauthenticated;		/* hold participants' mail that does not
					 * authenticate (authserv_id set; default yes) */
	char *authserv_id;			/* our server's Authentication-Results id */
	int hold_reminder_hours;		/* re-send holds waiting this long */
	int mentee_attachments, mentor_attachments;	/* enum conf_attachments */
	/* [safeguarding] */
	char **safeguarding;			/* mailed at once for a risk disclosure */
	size_t nsafeguarding;
	char **chain;				/* then one by one until someone acks */
	size_t nchain;
	int escalation_minutes;
	/* [screening] */
	char *rules_dir;			/* NULL: screening off */
	char **allow;				/* never a hit: signposting (rules.h [allow]) */
	size_t nallow;
	int spotcheck_percent;			/* of relayed messages, for a second look */
	int pair_signals;			/* flag rules adding up to a hold (pairscore.h) */
	struct rules *rules;			/* loaded and self-checked with the file */
	/* [daemon]: process-wide, read from the first configuration file */
	char *user;				/* drop privileges to this user */
	char *pidfile;
	int reconnect_max;			/* seconds: cap of the reconnect backoff */
	/* [calendar], [schedule] */
	struct sched_conf sched;
};

/* Parse path.  On error returns MG_BADCONF with every problem appended to
 * errs as "file:line: why\n" lines.  Caller frees *out with conf_free. */
enum mg_status conf_load(const char *path, struct conf **out, struct buf *errs);
void conf_free(struct conf *);

/* The secret for a password / password_command pair: the literal, or the first
 * line the command prints (command_run's rules).  Caller frees (and should
 * zero) *out. */
enum mg_status conf_secret(const char *password, const char *command, char **out,
    struct buf *err);


/* Is s a bare address by RFC 5322's addr-spec (a dot-atom local part, one
 * '@', a domain of two or more letter-digit-hyphen labels)?  The error
 * form says why not (a static string), or NULL. */
int conf_valid_address(const char *s);
const char *conf_address_error(const char *s);

/* Is addr (lower case) one of list's n addresses? */
int conf_listed(char *const *list, size_t n, const char *addr);

#endif
