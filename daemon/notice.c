/* notice: build and enqueue the gateway's own messages. */
#include <stdlib.h>

#include "mime.h"
#include "notice.h"
#include "outbox.h"

enum mg_status
notice_enqueue(struct store *s, const struct conf *c, const struct notice *n)
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
		struct outbox_item it = { n->key, "notice", n->message, n->recipient_id, n->to_addr,
			msgid, data, len };
		if ((rc = outbox_enqueue(s, &it)) == MG_DUPLICATE)
			rc = MG_OK;
	}
	free(data);
	free(from);
	free(msgid);
	return rc;
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
