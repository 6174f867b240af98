/* notice: build and enqueue the gateway's own messages. */
#include <stdlib.h>

#include "log.h"
#include "mime.h"
#include "notice.h"
#include "outbox.h"
#include "store_p.h"

static enum mg_status
enqueue(struct store *s, const struct conf *c, const struct notice *n, const char *kind)
{
	struct mime_out o = {0};
	char rnd[24], *from, *msgid, *data = NULL;
	size_t len;
	enum mg_status rc;

	mg_random_token(rnd, sizeof rnd);
	from = xasprintf("%s@%s", c->relay_local, c->relay_domain);
	msgid = xasprintf("%s.notice@%s", rnd, c->relay_domain);
	o.from_name = c->from_name;
	o.from_addr = from;
	o.to_name = n->to_name;
	o.to_addr = n->to_addr;
	o.reply_to = n->reply_to;
	o.attach_name = n->attach_name;
	o.attach_type = n->attach_type;
	o.attach_data = n->attach_data;
	o.attach_len = n->attach_len;
	o.html = n->html;
	o.subject = n->subject;
	o.message_id = msgid;
	o.auto_submitted = "auto-generated";
	o.body = n->body;
	o.date = mg_now();
	if ((rc = mime_build(&o, &data, &len)) == MG_OK) {
		struct outbox_item it = { n->key, kind, n->message, n->recipient_id, n->to_addr,
			msgid, data, len, n->body };
		if ((rc = outbox_enqueue(s, &it)) == MG_DUPLICATE)
			rc = MG_OK;
	}
	free(data);
	free(from);
	free(msgid);
	return rc;
}

enum mg_status
notice_enqueue(struct store *s, const struct conf *c, const struct notice *n)
{
	return enqueue(s, c, n, "notice");
}

static const char q_answers[] =
	"SELECT count(*) FROM outbox WHERE kind = 'answer' AND rcpt = ?1 AND created >= ?2";
/* the same text from the same address, once more: a responder's loop */
static const char q_repeat[] =
	"SELECT count(*) FROM messages a JOIN messages b ON b.from_addr = a.from_addr"
	" AND b.body = a.body AND b.id != a.id WHERE a.id = ?1 AND b.received >= ?2";

enum mg_status
notice_answer(struct store *s, const struct conf *c, const struct notice *n)
{
	sqlite3_stmt *st;
	int64_t since = mg_now() - 86400, sent = 0, repeats = 0;
	int rc;

	if (!(st = store_stmt(s, q_answers)))
		return MG_INTERNAL;
	store_bind_text(st, 1, n->to_addr);
	sqlite3_bind_int64(st, 2, since);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		sent = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW)
		return store_status(rc);
	if (n->message && sent < NOTICE_ANSWERS_A_DAY) {
		if (!(st = store_stmt(s, q_repeat)))
			return MG_INTERNAL;
		sqlite3_bind_int64(st, 1, n->message);
		sqlite3_bind_int64(st, 2, since);
		if ((rc = sqlite3_step(st)) == SQLITE_ROW)
			repeats = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (rc != SQLITE_ROW)
			return store_status(rc);
	}
	if (sent >= NOTICE_ANSWERS_A_DAY || repeats) {
		log_info("notice answer to %s not sent: %s", n->to_addr, repeats ?
		    "the same text came from that address before (a loop?)" :
		    "enough answers to that address today");
		return MG_OK;
	}
	return enqueue(s, c, n, "answer");
}

enum mg_status
notice_coordinators(struct store *s, const struct conf *c, const char *key, int64_t message,
    const char *subject, const char *body, const char *reply_to)
{
	enum mg_status rc = MG_OK;

	for (size_t i = 0; i < c->ncoordinators && rc == MG_OK; i++) {
		char *k = xasprintf("%s:%s", key, c->coordinators[i]);
		struct notice n = { k, NULL, c->coordinators[i], 0, message, subject, body, reply_to,
			NULL, NULL, NULL, 0, NULL };
		rc = notice_enqueue(s, c, &n);
		free(k);
	}
	return rc;
}
