/* One pass: leftovers first (stored but undecided after a crash), then the
 * mailbox, then the outbox.  IMAP messages are marked handled only after
 * their rows are committed, so a crash anywhere repeats work, never loses
 * it; duplicates are recognised by UID and by content hash. */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "digest.h"
#include "escalate.h"
#include "gateway.h"
#include "imap.h"
#include "log.h"
#include "moderate.h"
#include "outbox.h"
#include "reader.h"
#include "report.h"
#include "sched.h"
#include "survey.h"
#include "relay.h"

struct sync {
	struct store *s;
	const struct conf *c;
	uint32_t uidvalidity;
	uint32_t *done;
	size_t ndone, cap;
	struct gateway_stats *stats;
	int stopped;
	/* group commit: messages since store_batch_begin, and how many of
	 * done[] are durable (only those may leave the mailbox) */
	int in_batch, nbatch;
	size_t ncommitted;
	uint32_t last_stored;	/* recorded as imap_sync.last_uid with the batch */
	/* while the reader runs, committed marks go to it to be moved:
	 * done[0..nhanded) have; those it could not move come back */
	struct reader *reader;
	size_t nhanded;
	struct uids unmoved;
	struct {
		int stored, duplicates, decided;
	} batch;		/* counted in stats once committed */
	uint32_t last_committed;	/* last_stored as of the last commit */
	/* a lean batch (store_batch_begin): its messages' raw bytes kept,
	 * to do again should it be spoilt (raw NULL: oversized, len its size) */
	struct kept {
		uint32_t uid;
		char *raw;
		size_t len;
	} *kept;
	size_t nkept, capkept;
};

#define GROUP_COMMIT 256	/* messages per fsync while ingesting */
#define UNREADABLE_AFTER 3	/* passes in a row a fetch fails at one message */

static void
mark(struct sync *y, uint32_t uid)
{
	if (y->ndone == y->cap) {
		y->cap = y->cap ? 2 * y->cap : 256;
		y->done = xrealloc(y->done, y->cap * sizeof *y->done);
	}
	y->done[y->ndone++] = uid;
}

static void
keep(struct sync *y, uint32_t uid, const struct relay_msg *msg)
{
	size_t len;
	const char *raw = relay_msg_raw(msg, &len);
	struct kept *k;

	if (y->nkept == y->capkept) {
		y->capkept = y->capkept ? 2 * y->capkept : GROUP_COMMIT;
		y->kept = xrealloc(y->kept, y->capkept * sizeof *y->kept);
	}
	k = &y->kept[y->nkept++];
	k->uid = uid;
	k->raw = NULL;
	k->len = relay_msg_size_over(msg);
	if (!k->len) {
		k->raw = xmalloc(len + 1);
		memcpy(k->raw, raw, len);
		k->raw[len] = 0;
		k->len = len;
	}
}

static void
forget_kept(struct sync *y)
{
	for (size_t i = 0; i < y->nkept; i++)
		free(y->kept[i].raw);
	y->nkept = 0;
}

/* Make the batch durable; on failure forget the marks it held, so that
 * nothing uncommitted leaves the mailbox. */
static enum mg_status
commit_batch(struct sync *y)
{
	struct buf why = {0};
	enum mg_status rc = MG_OK;

	if (!y->in_batch)
		return MG_OK;
	y->in_batch = 0;
	/* (without it the content hashes still recognise the batch's messages) */
	if (y->last_stored &&
	    store_sync_set(y->s, y->c->imap_mailbox, y->uidvalidity, y->last_stored) != MG_OK)
		log_warn("ingest last-uid not recorded uid=%u", y->last_stored);
	rc = store_batch_commit(y->s, &why);
	/* committed to a file no longer at its path: as good as lost, so
	 * nothing of it may leave the mailbox */
	if (rc == MG_OK)
		rc = store_check_file(y->s, &why);
	log_release(rc == MG_OK);	/* what the batch's lines tell of, or nothing */
	forget_kept(y);
	if (rc == MG_OK) {
		y->ncommitted = y->ndone;
		y->last_committed = y->last_stored;
		if (y->reader) {
			reader_handled(y->reader, y->done + y->nhanded, y->ncommitted - y->nhanded);
			y->nhanded = y->ncommitted;
		}
		y->stats->stored += y->batch.stored;
		y->stats->duplicates += y->batch.duplicates;
		y->stats->decided += y->batch.decided;
		mg_crashpoint("batch committed");
	} else {
		log_err("ingest commit failed n=%zu status=\"%s\" error=\"%s\"",
		    y->ndone - y->ncommitted, mg_strerror(rc), why.s ? why.s : "");
		y->ndone = y->ncommitted;
	}
	memset(&y->batch, 0, sizeof y->batch);
	buf_free(&why);
	return rc;
}

/* Store a message the reader has read, then decide it (msg is used up). */
static enum mg_status
ingest_one(struct sync *y, uint32_t uid, struct relay_msg *msg)
{
	int64_t id = 0;
	uint32_t over = relay_msg_size_over(msg);
	enum mg_status rc;

	if (over) {	/* not fetched: a note in its place */
		relay_msg_free(msg);
		rc = relay_oversized(y->s, y->c, y->uidvalidity, uid, over, &id);
		if (rc != MG_OK && rc != MG_DUPLICATE)
			return rc;
		if (rc == MG_OK) {	/* (the line held back with the batch's others) */
			log_info("imap oversized mailbox=%s uid=%u bytes=%u held=%lld",
			    y->c->imap_mailbox, uid, over, (long long)id);
			y->batch.stored++;
			y->batch.decided++;
			y->last_stored = uid;
		} else
			y->batch.duplicates++;
		mark(y, uid);
		return MG_OK;
	}
	rc = relay_store_msg(y->s, y->c->imap_mailbox, y->uidvalidity, uid, msg, &id);
	if (rc == MG_DUPLICATE) {
		y->batch.duplicates++;
		mark(y, uid);
	}
	if (rc != MG_OK) {
		relay_msg_free(msg);
		return rc == MG_DUPLICATE ? MG_OK : rc;
	}
	y->batch.stored++;
	y->last_stored = uid;
	mark(y, uid);	/* stored: safe to move once committed, even if deciding fails */
	if (relay_decide_msg(y->s, id, msg) == MG_OK)
		y->batch.decided++;
	return MG_OK;
}

static enum mg_status
begin_batch(struct sync *y, int lean)
{
	enum mg_status rc = store_batch_begin(y->s, lean);

	if (rc == MG_OK) {
		y->in_batch = 1;
		y->nbatch = 0;
		log_hold();
	}
	return rc;
}

/* The lean batch is spoilt (a message's changes could not be undone
 * alone): roll it back and do its messages again, each in a savepoint. */
static enum mg_status
replay(struct sync *y)
{
	struct kept *k = y->kept;
	size_t n = y->nkept;
	enum mg_status rc;

	store_batch_rollback(y->s);
	log_release(0);
	y->in_batch = 0;
	y->ndone = y->ncommitted;
	y->last_stored = y->last_committed;
	memset(&y->batch, 0, sizeof y->batch);
	y->kept = NULL;
	y->nkept = y->capkept = 0;
	log_info("ingest batch-replayed n=%zu", n);
	rc = begin_batch(y, 0);
	for (size_t i = 0; i < n; i++) {
		struct relay_msg *m = k[i].raw ? relay_read(y->c, k[i].raw, k[i].len, 0) :
		    relay_msg_oversized((uint32_t)k[i].len);
		k[i].raw = NULL;	/* (taken) */
		if (rc == MG_OK)
			rc = ingest_one(y, k[i].uid, m);
		else
			relay_msg_free(m);
	}
	free(k);
	if (rc == MG_OK)
		rc = commit_batch(y);
	return rc;
}

static enum mg_status
on_message(struct sync *y, uint32_t uid, struct relay_msg *msg)
{
	enum mg_status rc;

	if (!y->in_batch && (rc = begin_batch(y, 1)) != MG_OK) {
		relay_msg_free(msg);
		return rc;
	}
	keep(y, uid, msg);
	rc = ingest_one(y, uid, msg);
	if (store_batch_spoiled(y->s))
		rc = replay(y);
	else if (rc == MG_OK && ++y->nbatch >= GROUP_COMMIT)
		rc = commit_batch(y);
	return rc;
}

/* Fetch and read on the reader's thread; store and decide here. */
static enum mg_status
ingest(struct sync *y, struct imap *im, const uint32_t *uids, size_t n, struct buf *err)
{
	struct reader *r;
	struct reader_item it;
	struct reader_end end;
	enum mg_status rc = MG_OK, frc;
	double cpu0;
	int64_t t0;

	if (!n)
		return MG_OK;
	if (!(r = reader_start(im, y->c, uids, n))) {
		buf_adds(err, "cannot start the reader thread");
		return MG_TEMPFAIL;
	}
	t0 = mg_mono_ms();
	cpu0 = mg_thread_cpu();
	y->reader = r;
	while (rc == MG_OK && reader_next(r, &it))
		rc = on_message(y, it.uid, it.msg);
	if (mg_stop_requested())	/* SIGTERM: the message in hand is done */
		y->stopped = 1;
	y->reader = NULL;
	frc = reader_finish(r, &end, err);
	y->unmoved = end.unmoved;
	y->stats->moved += (int)end.moved;
	y->stats->moved_early += (int)end.moved;
	y->stats->ingest_s += (double)(mg_mono_ms() - t0) / 1000;
	y->stats->reader_cpu_s += end.cpu;
	y->stats->read_ahead += (int)end.read_ahead;
	y->stats->store_cpu_s += mg_thread_cpu() - cpu0;
	if (y->stopped)
		return MG_OK;
	return rc != MG_OK ? rc : frc;
}

/* The first of fresh[0..n) (ascending) not marked: where a fetch stopped. */
static uint32_t
first_unmarked(const struct sync *y, const uint32_t *fresh, size_t n)
{
	uint32_t *d, at = 0;

	if (!y->ndone)
		return n ? fresh[0] : 0;
	d = xcalloc(y->ndone, sizeof *d);
	memcpy(d, y->done, y->ndone * sizeof *d);
	qsort(d, y->ndone, sizeof *d, uids_cmp);
	for (size_t i = 0; i < n && !at; i++)
		if (!bsearch(&fresh[i], d, y->ndone, sizeof *d, uids_cmp))
			at = fresh[i];
	free(d);
	return at;
}

/* The message fetching has failed at UNREADABLE_AFTER passes in a row:
 * a note of it is held in its place and it is handled (moved) like the
 * rest, so that the mail after it goes on. */
static void
skip_unreadable(struct sync *y, struct store_suspect *sus, uint32_t *fresh, size_t *nfresh)
{
	int64_t id = 0;
	size_t i = 0;
	enum mg_status rc;

	while (i < *nfresh && fresh[i] != sus->uid)
		i++;
	if (i < *nfresh) {	/* (else gone from the mailbox, or stored after all) */
		rc = relay_unreadable(y->s, y->c, y->uidvalidity, sus->uid, sus->fails, sus->error,
		    &id);
		if (rc != MG_OK && rc != MG_DUPLICATE)
			return;	/* next pass */
		log_err("imap unreadable mailbox=%s uid=%u passes=%d held=%lld error=\"%s\"",
		    y->c->imap_mailbox, sus->uid, sus->fails, (long long)id,
		    sus->error ? sus->error : "");
		mark(y, sus->uid);
		memmove(fresh + i, fresh + i + 1, (*nfresh - i - 1) * sizeof *fresh);
		(*nfresh)--;
	}
	sus->uid = 0;
	store_suspect_set(y->s, y->c->imap_mailbox, sus);
}

/* After the fetch: one that failed (error set) names the message it
 * stopped at (exactly, once careful: one message per FETCH); a clean one
 * clears it. */
static void
note_suspect(struct sync *y, struct store_suspect *sus, const char *error,
    const uint32_t *fresh, size_t nfresh)
{
	uint32_t at = error ? first_unmarked(y, fresh, nfresh) : 0;

	if (!at && !sus->uid)
		return;
	sus->fails = at && at == sus->uid ? sus->fails + 1 : 1;
	sus->uid = at;
	free(sus->error);
	sus->error = at && error ? xstrdup(error) : NULL;
	if (at)
		log_warn("imap fetch-failed-at mailbox=%s uid=%u passes=%d", y->c->imap_mailbox, at,
		    sus->fails);
	store_suspect_set(y->s, y->c->imap_mailbox, sus);
}

static void
decide_leftovers(struct store *s, const struct conf *c, struct gateway_stats *stats)
{
	int64_t *ids = NULL;
	size_t n = 0;

	if (store_msg_pending(s, &ids, &n) != MG_OK)
		return;
	for (size_t i = 0; i < n; i++)
		if (relay_decide(s, c, ids[i]) == MG_OK)
			stats->decided++;
	free(ids);
}

enum mg_status
gateway_sync(struct store *s, const struct conf *c, struct imap **imp,
    struct gateway_stats *stats)
{
	struct sync y = { .s = s, .c = c, .stats = stats };
	struct store_suspect sus = {0};
	struct buf err = {0};
	uint32_t *uids = NULL, *fresh = NULL, old_v = 0, last = 0;
	size_t n = 0, nfresh = 0, nerr;
	enum mg_status rc = MG_OK;

	decide_leftovers(s, c, stats);	/* a crash's undecided rows go first */
	if (!*imp && (rc = imap_open(c, imp, &err)) != MG_OK)
		goto out;
	if ((rc = imap_idle_done(*imp, &err)) != MG_OK)
		goto out;
	if ((rc = imap_select(*imp, &y.uidvalidity, &err)) != MG_OK)
		goto out;
	rc = store_sync_get(s, c->imap_mailbox, &old_v, &last);
	if (rc == MG_NOTFOUND || (rc == MG_OK && old_v != y.uidvalidity)) {
		/* a new mailbox generation: UIDs start over; content hashes still
		 * recognise messages seen before */
		if (rc == MG_OK)
			log_warn("imap uidvalidity-changed mailbox=%s old=%u new=%u", c->imap_mailbox,
			    old_v, y.uidvalidity);
		rc = store_sync_set(s, c->imap_mailbox, y.uidvalidity, 0);
		if (rc == MG_OK)	/* (its UIDs are no more) */
			rc = store_suspect_set(s, c->imap_mailbox, &sus);
		last = 0;
	}
	if (rc != MG_OK)
		goto out;
	if ((rc = imap_pending(*imp, &uids, &n, &err)) != MG_OK)
		goto out;
	fresh = xcalloc(n ? n : 1, sizeof *fresh);
	for (size_t i = 0; i < n; i++) {
		/* stored before, but the move did not happen (crash, or server);
		 * UIDs only grow, so above last_uid nothing can be stored yet */
		if (uids[i] <= last &&
		    store_msg_known(s, c->imap_mailbox, y.uidvalidity, uids[i]) == MG_OK)
			mark(&y, uids[i]);
		else
			fresh[nfresh++] = uids[i];
	}
	if (store_suspect_get(s, c->imap_mailbox, &sus) == MG_OK && sus.uid &&
	    sus.fails >= UNREADABLE_AFTER)
		skip_unreadable(&y, &sus, fresh, &nfresh);
	y.ncommitted = y.ndone;		/* known before: committed long ago */
	imap_careful(*imp, sus.uid != 0);
	nerr = err.len;
	rc = ingest(&y, *imp, fresh, nfresh, &err);
	enum mg_status crc = commit_batch(&y);
	/* (a failed fetch leaves its error; any other failure, or a stop,
	 * tells nothing of the messages) */
	if (rc == MG_OK && !y.stopped)
		note_suspect(&y, &sus, NULL, fresh, nfresh);
	else if (rc != MG_OK && err.len > nerr)
		note_suspect(&y, &sus, err.s, fresh, nfresh);
	if (rc == MG_OK)
		rc = crc;
	/* only what is committed gets moved, whatever happened above: what
	 * the reader has not moved already */
	uids_add(&y.unmoved, y.done + y.nhanded, y.ncommitted - y.nhanded);
	if (y.unmoved.n) {
		struct buf err2 = {0};
		enum mg_status r2 = store_check_file(s, &err2);
		if (r2 == MG_OK)
			r2 = imap_done(*imp, y.unmoved.v, y.unmoved.n, &err2);
		if (r2 != MG_OK) {
			log_warn("imap mark-handled failed n=%zu error=\"%s\"", y.unmoved.n, err2.s);
			if (rc == MG_OK)
				rc = r2;
		} else {
			stats->moved += (int)y.unmoved.n;
			mg_crashpoint("imap moved");
		}
		buf_free(&err2);
	}
out:
	if (rc != MG_OK) {
		stats->imap_error = err.s ? xstrdup(err.s) : NULL;
		if (rc == MG_CONNFAIL || rc == MG_DENIED || rc == MG_BADCONF) {
			stats->imap_down = 1;
			imap_close(*imp);	/* start afresh next time */
			*imp = NULL;
		} else if (err.s)
			log_warn("imap error status=\"%s\" error=\"%s\"", mg_strerror(rc), err.s);
	}
	buf_free(&err);
	free(sus.error);
	free(uids);
	free(fresh);
	free(y.done);
	forget_kept(&y);
	free(y.kept);
	free(y.unmoved.v);
	return rc;
}

enum mg_status
gateway_work(struct store *s, const struct conf *c, struct smtp *smtp, int send,
    struct gateway_stats *stats)
{
	struct outbox_stats os;
	enum mg_status rc = MG_OK;
	int n;

	if ((rc = store_check_file(s, NULL)) != MG_OK)
		return rc;	/* (the caller tells) */
	/* unanswered escalations move up the chain; long-waiting holds are
	 * mailed again (before the flush, so they go in this pass) */
	if (escalate_due(s, c, &n) != MG_OK)
		log_warn("escalate check failed");
	if (moderate_remind(s, c, &n) != MG_OK)
		log_warn("hold reminders failed");
	else if (n)
		log_info("moderate reminded holds=%d", n);
	if (sched_run(s, c, &n) != MG_OK)
		log_warn("sched run failed");
	if (report_run(s, c, &n) != MG_OK)
		log_warn("report run failed");
	if (survey_run(s, c, &n) != MG_OK)
		log_warn("survey run failed");
	if (digest_run(s, c, &n) != MG_OK)
		log_warn("digest run failed");
	if (audit_mail_head(s, c) != MG_OK)
		log_warn("audit head mail failed");
	if (!send || mg_stop_requested())
		return MG_OK;
	if ((rc = store_check_file(s, NULL)) != MG_OK)
		return rc;
	rc = outbox_flush(s, c, smtp, &os);
	stats->sent += os.sent;
	stats->deferred += os.retried;
	stats->failed += os.failed;
	if (rc == MG_CONNFAIL) {
		stats->smtp_down = 1;
		free(stats->smtp_error);
		stats->smtp_error = xstrdup(os.down);
		rc = MG_OK;
	}
	return rc;
}

enum mg_status
gateway_pass(struct store *s, const struct conf *c, struct smtp *smtp, struct gateway_stats *stats)
{
	struct imap *im = NULL;
	enum mg_status irc, rc;

	memset(stats, 0, sizeof *stats);
	irc = gateway_sync(s, c, &im, stats);
	imap_close(im);
	if (stats->imap_down) {
		log_warn("imap down error=\"%s\"", stats->imap_error ? stats->imap_error : "");
		irc = MG_OK;
	}
	/* the outbox is flushed whatever happened to the mailbox */
	rc = gateway_work(s, c, smtp, 1, stats);
	if (stats->smtp_down)
		log_warn("smtp down error=\"%s\"", stats->smtp_error ? stats->smtp_error : "");
	return irc != MG_OK ? irc : rc;
}

void
gateway_stats_clear(struct gateway_stats *st)
{
	free(st->imap_error);
	free(st->smtp_error);
	memset(st, 0, sizeof *st);
}
