/* IMAP over libetpan, with its known defects worked around:
 * - the timeout is set before connecting (afterwards it has no effect);
 * - a server dying mid-literal makes 1.9.4 spin on recv()==0 for ever: a
 *   watchdog thread cancels the stream after a deadline, so the call fails;
 * - after STARTTLS the capability list is fetched again.
 * SIGPIPE must be ignored by the program (mailimap_free writes LOGOUT). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libetpan/libetpan.h>

#include "imap.h"
#include "log.h"
#include "oauth.h"
#include "tlsverify.h"

#define DONE_KEYWORD "$MentorgateDone"
#define BATCH_BYTES (4u << 20)
#define BATCH_MAX 200
#define IDLE_START_SECONDS 3

/* A copy of DONE_KEYWORD for libetpan, which frees it with the search key
 * or flag it goes into.  (scan-build takes libetpan, a system header, for a
 * library that keeps no pointer and calls the copy leaked: it sees a static
 * array instead.) */
static char *
done_keyword(void)
{
#ifdef __clang_analyzer__
	static char kw[] = DONE_KEYWORD;
	return kw;
#else
	return xstrdup(DONE_KEYWORD);
#endif
}

struct imap {
	const struct conf *conf;
	mailimap *s;
	int has_move, has_uidplus, has_idle, idling;
	int careful;		/* one message per FETCH, its size asked just before */
	/* watchdog */
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct timespec deadline;
	int armed, quit, started;
};

static void *
watchdog(void *arg)
{
	struct imap *im = arg;

	pthread_mutex_lock(&im->mu);
	while (!im->quit) {
		if (!im->armed) {
			pthread_cond_wait(&im->cv, &im->mu);
			continue;
		}
		if (pthread_cond_timedwait(&im->cv, &im->mu, &im->deadline) != 0 && im->armed) {
			/* stuck in a read: make the next read fail */
			if (im->s && im->s->imap_stream)
				mailstream_cancel(im->s->imap_stream);
			im->armed = 0;
		}
	}
	pthread_mutex_unlock(&im->mu);
	return NULL;
}

static void
arm(struct imap *im, int seconds)
{
	pthread_mutex_lock(&im->mu);
	clock_gettime(CLOCK_REALTIME, &im->deadline);
	im->deadline.tv_sec += seconds;
	im->armed = 1;
	pthread_cond_signal(&im->cv);
	pthread_mutex_unlock(&im->mu);
}

static void
disarm(struct imap *im)
{
	pthread_mutex_lock(&im->mu);
	im->armed = 0;
	pthread_cond_signal(&im->cv);
	pthread_mutex_unlock(&im->mu);
}

static enum mg_status
status_of(int r)
{
	switch (r) {
	case MAILIMAP_NO_ERROR:
	case MAILIMAP_NO_ERROR_AUTHENTICATED:
	case MAILIMAP_NO_ERROR_NON_AUTHENTICATED:
		return MG_OK;
	case MAILIMAP_ERROR_STREAM:
	case MAILIMAP_ERROR_CONNECTION_REFUSED:
	case MAILIMAP_ERROR_SSL:
	case MAILIMAP_ERROR_BAD_STATE:
	case MAILIMAP_ERROR_FATAL:
		return MG_CONNFAIL;
	case MAILIMAP_ERROR_LOGIN:
		return MG_DENIED;
	case MAILIMAP_ERROR_STARTTLS:
		return MG_BADCONF;
	default:
		return MG_TEMPFAIL;
	}
}

static void
why(struct imap *im, struct buf *err, const char *what, int r)
{
	const char *resp = im->s && im->s->imap_response ? im->s->imap_response : "";
	buf_printf(err, "%s failed (libetpan %d)%s%s", what, r, *resp ? ": " : "", resp);
}

/* LOGIN with a password, or AUTHENTICATE XOAUTH2 with a token; a refused
 * token is dropped from the cache and a fresh one tried once. */
static enum mg_status
login(struct imap *im, struct buf *err)
{
	const struct conf *c = im->conf;
	enum mg_status st;
	char *secret = NULL;
	int r;

	for (int attempt = 0; attempt < 2; attempt++) {
		if (c->imap_oauth2_command) {
			if ((st = oauth_token(c->imap_oauth2_command, &secret, err)) != MG_OK)
				return st;
			r = mailimap_oauth2_authenticate(im->s, c->imap_username, secret);
		} else {
			if ((st = conf_secret(c->imap_password, c->imap_password_command, &secret,
			    err)) != MG_OK)
				return st;
			r = mailimap_login(im->s, c->imap_username, secret);
		}
		explicit_bzero(secret, strlen(secret));
		free(secret);
		secret = NULL;
		if ((st = status_of(r)) == MG_OK)
			return MG_OK;
		if (!c->imap_oauth2_command || st == MG_CONNFAIL || attempt == 1) {
			why(im, err, c->imap_oauth2_command ? "AUTHENTICATE XOAUTH2" : "login", r);
			return st == MG_TEMPFAIL ? MG_DENIED : st;
		}
		oauth_reject(c->imap_oauth2_command);
	}
	return MG_DENIED;
}

enum mg_status
imap_open(const struct conf *c, struct imap **out, struct buf *err)
{
	struct imap *im = xcalloc(1, sizeof *im);
	enum mg_status st;
	int r;

	*out = NULL;
	im->conf = c;
	pthread_mutex_init(&im->mu, NULL);
	pthread_cond_init(&im->cv, NULL);
	if (pthread_create(&im->thread, NULL, watchdog, im) == 0)
		im->started = 1;
	im->s = mailimap_new(0, NULL);
	mailimap_set_timeout(im->s, c->imap_timeout);	/* before connect, or it is ignored */
	arm(im, c->imap_timeout * 2);
	if (c->imap_tls == CONF_TLS_IMPLICIT)
		r = mailimap_ssl_connect(im->s, c->imap_host, (uint16_t)c->imap_port);
	else
		r = mailimap_socket_connect(im->s, c->imap_host, (uint16_t)c->imap_port);
	if (status_of(r) != MG_OK) {
		why(im, err, "connect", r);
		st = MG_CONNFAIL;
		goto fail;
	}
	if (c->imap_tls == CONF_TLS_STARTTLS) {
		if ((r = mailimap_socket_starttls(im->s)) != MAILIMAP_NO_ERROR) {
			why(im, err, "STARTTLS (never falling back to plain text)", r);
			st = r == MAILIMAP_ERROR_STREAM ? MG_CONNFAIL : MG_BADCONF;
			goto fail;
		}
	}
	if (c->imap_tls != CONF_TLS_NONE) {
		if (c->imap_tls_verify) {
			if ((st = tls_verify_chain(im->s->imap_stream, c->imap_host, c->imap_ca_file,
			    err)) != MG_OK)
				goto fail;
		} else
			log_warn("imap tls-unverified host=%s (tls_verify = no)", c->imap_host);
	}
	/* the pre-TLS capability list is stale: ask again before logging in */
	struct mailimap_capability_data *cap = NULL;
	if (c->imap_tls == CONF_TLS_STARTTLS &&
	    mailimap_capability(im->s, &cap) == MAILIMAP_NO_ERROR && cap)
		mailimap_capability_data_free(cap);
	if ((st = login(im, err)) != MG_OK)
		goto fail;
	cap = NULL;
	if (mailimap_capability(im->s, &cap) == MAILIMAP_NO_ERROR && cap)
		mailimap_capability_data_free(cap);
	im->has_move = mailimap_has_extension(im->s, "MOVE");
	im->has_uidplus = mailimap_has_uidplus(im->s);
	im->has_idle = mailimap_has_idle(im->s);
	if (c->imap_processed) {
		r = mailimap_create(im->s, c->imap_processed);	/* "exists already" is fine */
		if (status_of(r) == MG_CONNFAIL) {
			why(im, err, "CREATE", r);
			st = MG_CONNFAIL;
			goto fail;
		}
	}
	disarm(im);
	*out = im;
	return MG_OK;
fail:
	imap_close(im);
	return st;
}

void
imap_cancel(struct imap *im)
{
	pthread_mutex_lock(&im->mu);
	if (im->s && im->s->imap_stream)
		mailstream_cancel(im->s->imap_stream);
	pthread_mutex_unlock(&im->mu);
}

void
imap_close(struct imap *im)
{
	if (!im)
		return;
	if (im->idling) {
		struct buf err = {0};
		if (imap_idle_done(im, &err) != MG_OK)	/* LOGOUT is not allowed in IDLE */
			im->s->imap_state = MAILIMAP_STATE_DISCONNECTED;
		buf_free(&err);
	}
	if (im->started) {
		pthread_mutex_lock(&im->mu);
		im->quit = 1;
		pthread_cond_signal(&im->cv);
		pthread_mutex_unlock(&im->mu);
		pthread_join(im->thread, NULL);
	}
	if (im->s) {
		if (im->s->imap_state != MAILIMAP_STATE_DISCONNECTED)
			mailimap_logout(im->s);
		mailimap_free(im->s);
	}
	pthread_mutex_destroy(&im->mu);
	pthread_cond_destroy(&im->cv);
	free(im);
}

enum mg_status
imap_select(struct imap *im, uint32_t *uidvalidity, struct buf *err)
{
	int r;

	arm(im, im->conf->imap_timeout * 2);
	r = mailimap_select(im->s, im->conf->imap_mailbox);
	disarm(im);
	if (r != MAILIMAP_NO_ERROR) {
		/* (a mailbox missing or refused is an outage like any other:
		 * logged once, the session closed, retried with backoff) */
		why(im, err, "SELECT", r);
		return MG_CONNFAIL;
	}
	if (!im->s->imap_selection_info) {
		buf_adds(err, "SELECT gave no selection info");
		return MG_TEMPFAIL;
	}
	*uidvalidity = im->s->imap_selection_info->sel_uidvalidity;
	return MG_OK;
}

enum mg_status
imap_pending(struct imap *im, uint32_t **uids, size_t *n, struct buf *err)
{
	struct mailimap_search_key *key;
	clist *result = NULL;
	int r;

	*uids = NULL;
	*n = 0;
	if (im->conf->imap_processed)
		key = mailimap_search_key_new_all();
	else
		key = mailimap_search_key_new_unkeyword(done_keyword());
	arm(im, im->conf->imap_timeout * 2);
	r = mailimap_uid_search(im->s, NULL, key, &result);
	disarm(im);
	mailimap_search_key_free(key);
	if (r != MAILIMAP_NO_ERROR) {
		why(im, err, "UID SEARCH", r);
		return status_of(r) == MG_OK ? MG_TEMPFAIL : status_of(r);
	}
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		*uids = xrealloc(*uids, (*n + 1) * sizeof **uids);
		(*uids)[(*n)++] = *(uint32_t *)clist_content(it);
	}
	mailimap_search_result_free(result);
	if (*n)
		qsort(*uids, *n, sizeof **uids, uids_cmp);
	return MG_OK;
}

static struct mailimap_set *
set_of(const uint32_t *uids, size_t n)
{
	struct mailimap_set *set = mailimap_set_new_empty();

	for (size_t i = 0; i < n; i++)
		mailimap_set_add_single(set, uids[i]);
	return set;
}

/* RFC822.SIZE of each uid (ascending, as imap_pending gives them), to
 * bound the bytes held per fetch. */
static enum mg_status
sizes(struct imap *im, const uint32_t *uids, size_t n, uint32_t *size, struct buf *err)
{
	struct mailimap_set *set = set_of(uids, n);
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	clist *result = NULL;
	int r;

	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_rfc822_size());
	arm(im, im->conf->imap_timeout * 2);
	r = mailimap_uid_fetch(im->s, set, ft, &result);
	disarm(im);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		why(im, err, "UID FETCH RFC822.SIZE", r);
		return status_of(r) == MG_OK ? MG_TEMPFAIL : status_of(r);
	}
	memset(size, 0, n * sizeof *size);
	for (clistiter *it = clist_begin(result); it; it = clist_next(it)) {
		struct mailimap_msg_att *att = clist_content(it);
		uint32_t uid = 0, sz = 0;
		for (clistiter *a = clist_begin(att->att_list); a; a = clist_next(a)) {
			struct mailimap_msg_att_item *item = clist_content(a);
			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			if (item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_UID)
				uid = item->att_data.att_static->att_data.att_uid;
			else if (item->att_data.att_static->att_type == MAILIMAP_MSG_ATT_RFC822_SIZE)
				sz = item->att_data.att_static->att_data.att_rfc822_size;
		}
		const uint32_t *hit = bsearch(&uid, uids, n, sizeof *uids, uids_cmp);
		if (hit)
			size[hit - uids] = sz;
	}
	mailimap_fetch_list_free(result);
	return MG_OK;
}

static enum mg_status
fetch_batch(struct imap *im, const uint32_t *uids, size_t n, imap_fetch_cb cb, void *arg,
    struct buf *err)
{
	struct mailimap_set *set = set_of(uids, n);
	struct mailimap_fetch_type *ft = mailimap_fetch_type_new_fetch_att_list_empty();
	enum mg_status st = MG_OK;
	clist *result = NULL;
	int r;

	mailimap_fetch_type_new_fetch_att_list_add(ft, mailimap_fetch_att_new_uid());
	mailimap_fetch_type_new_fetch_att_list_add(ft,
	    mailimap_fetch_att_new_body_peek_section(mailimap_section_new(NULL)));
	arm(im, im->conf->imap_timeout * 4);
	r = mailimap_uid_fetch(im->s, set, ft, &result);
	disarm(im);
	mailimap_fetch_type_free(ft);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		why(im, err, "UID FETCH BODY.PEEK[]", r);
		return status_of(r) == MG_OK ? MG_TEMPFAIL : status_of(r);
	}
	for (clistiter *it = clist_begin(result); it && st == MG_OK; it = clist_next(it)) {
		struct mailimap_msg_att *att = clist_content(it);
		uint32_t uid = 0;
		const char *body = NULL;
		size_t len = 0;
		for (clistiter *a = clist_begin(att->att_list); a; a = clist_next(a)) {
			struct mailimap_msg_att_item *item = clist_content(a);
			if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC)
				continue;
			struct mailimap_msg_att_static *s = item->att_data.att_static;
			if (s->att_type == MAILIMAP_MSG_ATT_UID)
				uid = s->att_data.att_uid;
			else if (s->att_type == MAILIMAP_MSG_ATT_BODY_SECTION && s->att_data.att_body_section) {
				body = s->att_data.att_body_section->sec_body_part;
				len = s->att_data.att_body_section->sec_length;
			}
		}
		if (uid && body)
			st = cb(uid, body, len, arg);
	}
	mailimap_fetch_list_free(result);
	return st;
}

/* Over max_message_size: not fetched at all. */
static int
too_big(const struct imap *im, uint32_t size)
{
	return im->conf->imap_max_size && size > (uint32_t)im->conf->imap_max_size;
}

enum mg_status
imap_fetch(struct imap *im, const uint32_t *uids, size_t n, imap_fetch_cb cb, void *arg,
    struct buf *err)
{
	uint32_t *size;
	enum mg_status st = MG_OK;
	size_t i = 0;

	if (n == 0)
		return MG_OK;
	size = xcalloc(n, sizeof *size);
	if (im->careful) {	/* one at a time: a failure names its message */
		for (; i < n && st == MG_OK; i++)
			if ((st = sizes(im, uids + i, 1, size + i, err)) == MG_OK)
				st = too_big(im, size[i]) ? cb(uids[i], NULL, size[i], arg) :
				    fetch_batch(im, uids + i, 1, cb, arg, err);
		goto out;
	}
	if ((st = sizes(im, uids, n, size, err)) != MG_OK)
		goto out;
	while (i < n && st == MG_OK) {
		size_t j = i;
		uint64_t bytes = 0;
		if (too_big(im, size[i])) {
			st = cb(uids[i], NULL, size[i], arg);
			i++;
			continue;
		}
		while (j < n && j - i < BATCH_MAX && (j == i ||
		    (bytes + size[j] <= BATCH_BYTES && !too_big(im, size[j]))))
			bytes += size[j++];
		st = fetch_batch(im, uids + i, j - i, cb, arg, err);
		i = j;
	}
out:
	free(size);
	return st;
}

/* Move set to the processed mailbox (or copy, flag \Deleted and
 * expunge), or flag it with the done keyword when there is none; *what:
 * the command that failed. */
static int
mark_done(struct imap *im, struct mailimap_set *set, const char **what)
{
	const struct conf *c = im->conf;
	struct mailimap_flag_list *fl;
	struct mailimap_store_att_flags *sf;
	int r;

	*what = "UID MOVE";
	if (c->imap_processed && im->has_move)
		return mailimap_uid_move(im->s, set, c->imap_processed);
	if (c->imap_processed) {
		*what = "UID COPY";
		if ((r = mailimap_uid_copy(im->s, set, c->imap_processed)) != MAILIMAP_NO_ERROR)
			return r;
	}
	fl = mailimap_flag_list_new_empty();
	if (c->imap_processed)
		mailimap_flag_list_add(fl, mailimap_flag_new_deleted());
	else
		mailimap_flag_list_add(fl, mailimap_flag_new_flag_keyword(done_keyword()));
	sf = mailimap_store_att_flags_new_add_flags_silent(fl);
	*what = "UID STORE";
	r = mailimap_uid_store(im->s, set, sf);
	mailimap_store_att_flags_free(sf);
	if (r == MAILIMAP_NO_ERROR && c->imap_processed) {
		*what = "EXPUNGE";
		r = im->has_uidplus ? mailimap_uid_expunge(im->s, set) : mailimap_expunge(im->s);
	}
	return r;
}

enum mg_status
imap_done(struct imap *im, const uint32_t *uids, size_t n, struct buf *err)
{
	const struct conf *c = im->conf;
	struct mailimap_set *set;
	const char *what;
	int r;

	if (n == 0)
		return MG_OK;
	set = set_of(uids, n);
	arm(im, c->imap_timeout * 2);
	r = mark_done(im, set, &what);
	/* refused into a processed mailbox someone has deleted: it is made
	 * again (CREATE succeeds only if it was gone), and tried once more */
	if (status_of(r) == MG_TEMPFAIL && c->imap_processed &&
	    (!strcmp(what, "UID MOVE") || !strcmp(what, "UID COPY")) &&
	    mailimap_create(im->s, c->imap_processed) == MAILIMAP_NO_ERROR) {
		log_warn("imap recreated mailbox=%s (it had gone)", c->imap_processed);
		r = mark_done(im, set, &what);
	}
	disarm(im);
	mailimap_set_free(set);
	if (r != MAILIMAP_NO_ERROR) {
		why(im, err, what, r);
		return status_of(r) == MG_OK ? MG_TEMPFAIL : status_of(r);
	}
	return MG_OK;
}

void
imap_careful(struct imap *im, int on)
{
	im->careful = on;
}

int
imap_can_idle(const struct imap *im)
{
	return im->has_idle && im->conf->imap_idle;
}

enum mg_status
imap_idle_start(struct imap *im, int *fd, struct buf *err)
{
	int r;

	*fd = -1;
	/* libetpan's IDLE dereferences the selection: without one (a failed
	 * SELECT leaves none) it would crash */
	if (!im->s->imap_selection_info) {
		buf_adds(err, "IDLE without a selected mailbox");
		return MG_CONNFAIL;
	}
	/* "+ idling" comes at once; when libetpan trips over untagged data
	 * before it, it waits for a tagged answer that never comes: cut that
	 * short (the session is then lost and reconnected) */
	arm(im, im->conf->imap_timeout < IDLE_START_SECONDS ? im->conf->imap_timeout
	    : IDLE_START_SECONDS);
	r = mailimap_idle(im->s);
	disarm(im);
	if (r != MAILIMAP_NO_ERROR) {
		/* libetpan 1.9.4 fails when untagged data comes before "+ idling":
		 * the session is unusable, reconnect */
		why(im, err, "IDLE", r);
		return MG_CONNFAIL;
	}
	im->idling = 1;
	*fd = mailimap_idle_get_fd(im->s);
	return MG_OK;
}

int
imap_idle_buffered(const struct imap *im)
{
	/* "* N EXISTS" in the same packet as "+ idling" is already read into
	 * libetpan's buffer: poll() on the socket would never wake for it */
	return im->idling && im->s->imap_stream && im->s->imap_stream->read_buffer_len > 0;
}

enum mg_status
imap_idle_done(struct imap *im, struct buf *err)
{
	int r;

	if (!im->idling)
		return MG_OK;
	im->idling = 0;
	arm(im, im->conf->imap_timeout * 2);
	r = mailimap_idle_done(im->s);
	disarm(im);
	if (r != MAILIMAP_NO_ERROR) {
		why(im, err, "IDLE DONE", r);
		return MG_CONNFAIL;
	}
	return MG_OK;
}
