/* bounce: record failures; pause and tell people on permanent ones. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gnutls/crypto.h>

#include "audit.h"
#include "bounce.h"
#include "log.h"
#include "notice.h"
#include "roster.h"
#include "store_p.h"

static const char q_add[] =
	"INSERT INTO bounces(message, outbox_id, participant_id, rcpt, permanent, why, created,"
	" verified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";

struct tell {
	struct store *s;
	const struct conf *c;
	const struct roster_person *who;
	int64_t message, bounce;
	enum mg_status rc;
};

/* The partner in each active pair hears that mail is not getting through. */
static int
tell_partner(const struct roster_pair *p, void *arg)
{
	struct tell *t = arg;
	const struct roster_person *partner = p->mentee.id == t->who->id ? &p->mentor : &p->mentee;
	char *key, *subject, *body, *first;

	if (strcmp(p->state, "active"))
		return 0;
	first = xstrdup(t->who->first);
	key = xasprintf("bounce:%lld:partner:%lld", (long long)t->bounce, (long long)partner->id);
	subject = xasprintf("Your messages to %s are not getting through", first);
	body = xasprintf("Hello %s,\n\n"
	    "We are sorry: your messages to your %s %s are not reaching them at the moment,\n"
	    "because their email address is refusing mail. It is nothing you did.\n\n"
	    "Your programme coordinator has been told and will sort it out. Until then,\n"
	    "anything you write is kept safe and will not be lost.\n\n"
	    "This message was sent automatically by %s.\n",
	    partner->first, t->who->role, first, t->c->name);
	struct notice nt = { key, partner->name, partner->email, partner->id, t->message, subject,
		body, NULL, NULL, NULL, NULL, 0, NULL };
	t->rc = notice_enqueue(t->s, t->c, &nt);
	free(first);
	free(key);
	free(subject);
	free(body);
	return t->rc != MG_OK;
}

enum mg_status
bounce_record(struct store *s, const struct conf *c, int64_t message, int64_t outbox_id,
    const char *rcpt, int permanent, int verified, const char *why)
{
	struct roster_person who;
	sqlite3_stmt *st = store_stmt(s, q_add);
	enum mg_status rc;
	int64_t bounce;
	int newly = 0, known;

	if (!st)
		return MG_INTERNAL;
	rc = roster_person_by_email(s, rcpt, &who);
	if (rc != MG_OK && rc != MG_NOTFOUND)
		return rc;
	known = rc == MG_OK;
	store_bind_id(st, 1, message);
	store_bind_id(st, 2, outbox_id);
	store_bind_id(st, 3, known ? who.id : 0);
	store_bind_text(st, 4, rcpt);
	sqlite3_bind_int(st, 5, permanent);
	store_bind_text(st, 6, why);
	sqlite3_bind_int64(st, 7, mg_now());
	sqlite3_bind_int(st, 8, verified);
	if ((rc = store_exec(st)) != MG_OK)
		goto out;
	bounce = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	{
		char *detail = xasprintf("%s%s %s outbox %lld: %s", verified ? "" : "unverified report: ",
		    rcpt, permanent ? "permanent" : "transient", (long long)outbox_id, why ? why : "");
		rc = audit_append(s, "bounced", message, 0, NULL, detail);
		free(detail);
		if (rc != MG_OK)
			goto out;
	}
	log_info("bounce recorded id=%lld rcpt=%s permanent=%d verified=%d outbox=%lld participant=%lld",
	    (long long)bounce, rcpt, permanent, verified, (long long)outbox_id,
	    (long long)(known ? who.id : 0));
	/* a non-participant (a coordinator, say) is only recorded: telling the
	 * coordinators about their own address could loop; and a report that
	 * answers no mail of ours (anyone can write one) pauses nobody */
	if (!permanent || !known || !verified)
		goto out;
	if ((rc = roster_pause(s, who.id, why, &newly)) != MG_OK || !newly)
		goto out;
	if ((rc = audit_append(s, "paused", message, 0, NULL, who.email)) != MG_OK)
		goto out;
	char *key = xasprintf("bounce:%lld", (long long)bounce);
	char *subject = xasprintf("[%s] mail to %s is failing: relay paused", c->name, who.name);
	char *body = xasprintf("Mail to a participant failed permanently.\n\n"
	    "Participant: %s (%s) <%s>\nOutbox row: %lld\nReason: %s\n\n"
	    "Relay to them is paused: what their partner writes is held, not lost,\n"
	    "and their partner has been told kindly that messages are not getting\n"
	    "through. When the address works again:\n\n    mentorctl resume %s\n",
	    who.name, who.role, who.email, (long long)outbox_id, why ? why : "(none given)", who.email);
	rc = notice_coordinators(s, c, key, message, subject, body, NULL);
	free(key);
	free(subject);
	free(body);
	if (rc == MG_OK) {
		struct tell t = { s, c, &who, message, bounce, MG_OK };
		rc = roster_pairs_of(s, who.id, tell_partner, &t);
		if (rc == MG_OK)
			rc = t.rc;
	}
	log_warn("bounce paused participant=%lld email=%s", (long long)who.id, who.email);
out:
	if (known)
		roster_person_clear(&who);
	return rc;
}

/* VERP: each outbound message's envelope sender names its outbox row and
 * a MAC of the row's id under the database's key, so a report is believed
 * only when it answers mail we really sent. */
static const char q_key[] = "SELECT value FROM secrets WHERE name = 'verp'";

/* The MAC of outbox row id, 20 hex digits (80 bits); nonzero when the key
 * cannot be read. */
static int
verp_mac(struct store *s, int64_t id, char out[21])
{
	sqlite3_stmt *st = store_stmt(s, q_key);
	unsigned char d[32];
	char msg[32];
	int rc, n;

	if (!st)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return -1;
	}
	n = snprintf(msg, sizeof msg, "outbox:%lld", (long long)id);
	rc = gnutls_hmac_fast(GNUTLS_MAC_SHA256, sqlite3_column_blob(st, 0),
	    (size_t)sqlite3_column_bytes(st, 0), msg, (size_t)n, d);
	sqlite3_reset(st);
	if (rc < 0)
		return -1;
	for (int i = 0; i < 10; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
	return 0;
}

char *
bounce_envelope(struct store *s, const struct conf *c, int64_t outbox_id)
{
	char mac[21];

	if (verp_mac(s, outbox_id, mac))
		return NULL;
	return xasprintf("%s+bounce-%lld-%s@%s", c->relay_local, (long long)outbox_id, mac,
	    c->relay_domain);
}

static const char q_verp[] = "SELECT rcpt FROM outbox WHERE id = ?1";

enum mg_status
bounce_verp(struct store *s, const char *token, int64_t *outbox_id, char **rcpt)
{
	sqlite3_stmt *st;
	char *end, mac[21];
	long long id;
	int rc, diff = 0;

	*rcpt = NULL;
	if (strncmp(token, "bounce-", 7) || !token[7])
		return MG_NOTFOUND;
	id = strtoll(token + 7, &end, 10);
	if (*end != '-' || id <= 0 || strlen(end + 1) != 20)
		return MG_NOTFOUND;
	if (verp_mac(s, id, mac))
		return MG_INTERNAL;
	for (int i = 0; i < 20; i++)	/* in constant time */
		diff |= mac[i] ^ end[1 + i];
	if (diff)
		return MG_NOTFOUND;
	if (!(st = store_stmt(s, q_verp)))
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*rcpt = store_col_text(st, 0);
		*outbox_id = id;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MG_OK;
	return rc == SQLITE_DONE ? MG_NOTFOUND : store_status(rc);
}

static const char q_list[] =
	"SELECT id, created, rcpt, permanent, coalesce(outbox_id, 0), coalesce(message, 0),"
	" coalesce(why, ''), verified FROM bounces ORDER BY id DESC";

enum mg_status
bounce_list(struct store *s)
{
	sqlite3_stmt *st = store_stmt(s, q_list);
	int rc;

	if (!st)
		return MG_INTERNAL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		printf("%lld\t%lld\t%s\t%s%s\toutbox=%lld\tmessage=%lld\t%s\n",
		    (long long)sqlite3_column_int64(st, 0), (long long)sqlite3_column_int64(st, 1),
		    sqlite3_column_text(st, 2), sqlite3_column_int(st, 7) ? "" : "unverified ",
		    sqlite3_column_int(st, 3) ? "permanent" : "transient",
		    (long long)sqlite3_column_int64(st, 4), (long long)sqlite3_column_int64(st, 5),
		    sqlite3_column_text(st, 6));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MG_OK : store_status(rc);
}
