/* The event loop: a thread per programme, each a small state machine (its
 * IMAP session, NULL while the server is down; the IDLE it sits in; when
 * its next pass is due; a backoff per server), so that one programme's
 * hung server holds up none of the others.  The main thread takes the
 * signals: it feeds the watchdog, has every programme reload its file on
 * SIGHUP, and on SIGTERM waits for each to finish the message in hand. */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "calendar.h"
#include "gateway.h"
#include "imap.h"
#include "log.h"
#include "pattern.h"
#include "serve.h"
#include "service.h"
#include "smtp.h"

#define IDLE_MAX_MS (25 * 60 * 1000)	/* RFC 2177: servers may drop IDLE after 29 min */
#define VERSION_CHECK_MS 500		/* how soon mentorctl's enqueues are sent */
#define RELOAD_WAIT_MS 10000		/* for the passes in progress at a SIGHUP */

struct backoff {
	int failures;
	int64_t next;		/* mg_mono_ms() of the next attempt */
};

struct run {
	struct prog *p;
	struct smtp *smtp;
	struct imap *im;
	int idle_fd;		/* -1 when not in IDLE */
	int wake;		/* the server spoke during IDLE */
	int64_t next_pass;
	int64_t data_version;
	struct backoff imap_b, smtp_b, db_b;
	pthread_t thread;
	int nudge;			/* eventfd: the main thread's "look up" */
	unsigned gen;			/* the SIGHUPs it has reloaded for (ctl.mu) */
	_Atomic int64_t busy_since;	/* mg_mono_ms() its pass began, or 0 */
	int lost;			/* its database file is gone: stopping */
};

/* A programme's database file deleted or replaced: the daemon's exit status. */
static atomic_int lost_status;

static uint32_t
rnd(void)
{
	uint32_t r = 0;

	if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
		r = (uint32_t)mg_mono_ms();
	return r;
}

/* Log a server going down once, and its recovery once. */
static void
failed(struct backoff *b, const struct conf *c, const char *server, const char *why)
{
	int64_t delay = mg_backoff_ms(++b->failures, (int64_t)c->reconnect_max * 1000, rnd());

	b->next = mg_mono_ms() + delay;
	if (b->failures == 1)
		log_warn("%s down programme=\"%s\" error=\"%s\" retry_in_ms=%lld", server, c->name,
		    why ? why : "", (long long)delay);
	else
		log_debug("%s still-down programme=\"%s\" attempts=%d error=\"%s\" retry_in_ms=%lld",
		    server, c->name, b->failures, why ? why : "", (long long)delay);
}

static void
recovered(struct backoff *b, const struct conf *c, const char *server)
{
	if (b->failures)
		log_info("%s recovered programme=\"%s\" attempts=%d", server, c->name, b->failures);
	b->failures = 0;
	b->next = 0;
}

/* Is r's database file gone (deleted, or another file in its place)?
 * Then whatever is written goes where nobody reads it, and a connection
 * opened by its path would make a new, empty one: the daemon stops,
 * before anything more leaves the mailbox or is sent. */
static int
db_lost(struct run *r)
{
	struct buf err = {0};

	if (r->lost)
		return 1;
	if (store_check_file(r->p->s, &err) != MG_NOTFOUND) {
		buf_free(&err);
		return 0;
	}
	r->lost = 1;
	log_err("database lost programme=\"%s\" error=\"%s\" action=stop"
	    " next=\"restore the database, then start mentorgated\"", r->p->c->name, err.s);
	buf_free(&err);
	atomic_store(&lost_status, EX_NOINPUT);
	mg_request_stop();
	return 1;
}

int64_t
serve_pass_interval_ms(int poll_interval)
{
	int64_t ms = (int64_t)poll_interval * 1000;
	return ms < IDLE_MAX_MS ? ms : IDLE_MAX_MS;
}

static void
pass(struct run *r, int64_t now)
{
	const struct conf *c = r->p->c;
	struct gateway_stats st;
	int sync = !r->im ? now >= r->imap_b.next : 1;
	int send = now >= r->smtp_b.next;
	/* a database outage already logged: what it breaks again is debug */
	int quiet = r->db_b.failures > 0;
	const char *fault;
	enum mg_status rc;

	memset(&st, 0, sizeof st);
	r->wake = 0;
	r->idle_fd = -1;
	if (db_lost(r))
		return;
	(void)store_fault_take();
	if (sync) {
		log_demote(quiet);
		gateway_sync(r->p->s, c, &r->im, &st);
		log_demote(0);
		if (st.imap_down)
			failed(&r->imap_b, c, "imap", st.imap_error);
		else
			recovered(&r->imap_b, c, "imap");
	}
	log_demote(quiet);
	rc = gateway_work(r->p->s, c, r->smtp, send, &st);
	log_demote(0);
	if (db_lost(r)) {
		gateway_stats_clear(&st);
		return;
	}
	/* a full disk, an I/O error, a lock held too long: logged once,
	 * retried with backoff (what failed is tried again first: the
	 * batch still in the mailbox, the record still unmade) */
	if ((fault = store_fault_take()))
		failed(&r->db_b, c, "database", fault);
	else
		recovered(&r->db_b, c, "database");
	if (rc != MG_OK && !fault)
		log_err("pass failed programme=\"%s\" status=\"%s\"", c->name, mg_strerror(rc));
	if (send) {
		if (st.smtp_down)
			failed(&r->smtp_b, c, "smtp", st.smtp_error);
		else
			recovered(&r->smtp_b, c, "smtp");
	}
	if (st.stored || st.sent || st.deferred || st.failed || st.decided)
		log_info("pass done programme=\"%s\" stored=%d duplicates=%d decided=%d sent=%d"
		    " deferred=%d failed=%d moved=%d moved_early=%d ingest_s=%.3f reader_cpu_s=%.3f"
		    " store_cpu_s=%.3f read_ahead=%d", c->name, st.stored, st.duplicates, st.decided,
		    st.sent, st.deferred, st.failed, st.moved, st.moved_early, st.ingest_s,
		    st.reader_cpu_s, st.store_cpu_s, st.read_ahead);
	gateway_stats_clear(&st);
	r->data_version = store_data_version(r->p->s);
	r->next_pass = mg_mono_ms() + serve_pass_interval_ms(c->poll_interval);
	if (r->im && imap_can_idle(r->im) && !fault && !mg_stop_requested()) {
		struct buf err = {0};
		if (imap_idle_start(r->im, &r->idle_fd, &err) != MG_OK) {
			imap_close(r->im);
			r->im = NULL;
			failed(&r->imap_b, c, "imap", err.s);
		} else
			log_debug("imap idling programme=\"%s\" mailbox=%s", c->name, c->imap_mailbox);
		buf_free(&err);
	}
}

/* This programme's file again (a bad one is rejected, the old kept);
 * sessions hold the old configuration, so they start afresh. */
static void
reload_one(struct run *r)
{
	struct prog *p = r->p;
	struct buf errs = {0};
	struct conf *c;

	if (conf_load(p->path, &c, &errs) != MG_OK) {
		log_err("conf reload-rejected path=%s errors=\"%s\"", p->path, errs.s ? errs.s : "");
		buf_free(&errs);
		return;
	}
	if (strcmp(c->database, p->c->database))
		log_warn("conf database-change-ignored path=%s until restart", p->path);
	imap_close(r->im);
	r->im = NULL;
	r->idle_fd = -1;
	smtp_free(r->smtp);
	conf_free(p->c);
	p->c = c;
	r->smtp = smtp_new(c);
	r->next_pass = 0;
	/* a new configuration: its outages are news, logged anew */
	memset(&r->imap_b, 0, sizeof r->imap_b);
	memset(&r->smtp_b, 0, sizeof r->smtp_b);
	memset(&r->db_b, 0, sizeof r->db_b);
	log_info("conf reloaded path=%s", p->path);
}

/* What the main thread and the programmes' threads share. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	unsigned gen;		/* SIGHUPs so far */
} ctl = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0 };

static unsigned
ctl_gen(void)
{
	unsigned g;

	pthread_mutex_lock(&ctl.mu);
	g = ctl.gen;
	pthread_mutex_unlock(&ctl.mu);
	return g;
}

static int
due(struct run *r, int64_t now, int check_version)
{
	if (r->db_b.failures)	/* nothing can be recorded: all waits for the retry */
		return now >= r->db_b.next;
	if (r->wake || now >= r->next_pass ||
	    (!r->im && r->imap_b.failures && now >= r->imap_b.next) ||
	    (r->smtp_b.failures && now >= r->smtp_b.next) ||
	    (r->im && r->idle_fd >= 0 && imap_idle_buffered(r->im)))
		return 1;
	/* mentorctl committed something (an approval, an import): its mail
	 * goes now, not at the next timer; the database deleted: stop now */
	if (check_version && db_lost(r))
		return 0;
	return check_version && store_data_version(r->p->s) != r->data_version;
}

/* Milliseconds until r needs a pass, at most VERSION_CHECK_MS. */
static int64_t
until_due(struct run *r, int64_t now)
{
	int64_t until = r->next_pass, wait;

	if (!r->im && r->imap_b.failures && r->imap_b.next < until)
		until = r->imap_b.next;
	if (r->smtp_b.failures && r->smtp_b.next < until)
		until = r->smtp_b.next;
	if (r->db_b.failures)
		until = r->db_b.next;	/* (and no IDLE meanwhile) */
	wait = until - now < VERSION_CHECK_MS ? until - now : VERSION_CHECK_MS;
	if (r->idle_fd >= 0 && imap_idle_buffered(r->im))
		wait = 0;
	return wait < 0 ? 0 : wait;
}

/* One programme's thread: passes when due, poll() on its IDLE and on the
 * main thread's nudges in between. */
static void *
worker(void *arg)
{
	struct run *r = arg;
	int64_t last_version = 0;
	unsigned gen = 0;	/* ctl.gen when the threads started */

	while (!mg_stop_requested()) {
		int64_t now = mg_mono_ms();
		unsigned g = ctl_gen();

		if (g != gen) {
			reload_one(r);
			pthread_mutex_lock(&ctl.mu);
			r->gen = gen = g;
			pthread_cond_broadcast(&ctl.cv);
			pthread_mutex_unlock(&ctl.mu);
		}
		int check_version = now - last_version >= VERSION_CHECK_MS;
		if (check_version)
			last_version = now;
		if (due(r, now, check_version)) {
			atomic_store(&r->busy_since, now);
			pass(r, now);
			atomic_store(&r->busy_since, 0);
			now = mg_mono_ms();
		}
		if (mg_stop_requested() || ctl_gen() != gen)
			continue;
		struct pollfd fds[2] = { { r->nudge, POLLIN, 0 }, { r->idle_fd, POLLIN, 0 } };
		if (poll(fds, r->idle_fd >= 0 ? 2 : 1, (int)until_due(r, now)) > 0) {
			uint64_t v;
			if (fds[0].revents && read(r->nudge, &v, sizeof v) < 0)
				v = 0;	/* (nonblocking: nothing to read after all) */
			if (r->idle_fd >= 0 && fds[1].revents)
				r->wake = 1;
		}
	}
	imap_close(r->im);
	r->im = NULL;
	pattern_thread_end();
	return NULL;
}

static void
nudge(struct run *runs, size_t n)
{
	uint64_t one = 1;

	for (size_t i = 0; i < n; i++)
		if (write(runs[i].nudge, &one, sizeof one) < 0)
			continue;	/* (the counter is full: it is nudged already) */
}

/* SIGHUP: every programme reloads its file; READY once all have, or
 * after RELOAD_WAIT_MS (a pass in progress finishes first). */
static void
reload_all(struct run *runs, size_t n)
{
	int64_t deadline = mg_mono_ms() + RELOAD_WAIT_MS;
	size_t done;

	service_notify("RELOADING=1");
	pthread_mutex_lock(&ctl.mu);
	ctl.gen++;
	pthread_mutex_unlock(&ctl.mu);
	nudge(runs, n);
	pthread_mutex_lock(&ctl.mu);
	for (;;) {
		done = 0;
		for (size_t i = 0; i < n; i++)
			done += runs[i].gen == ctl.gen;
		if (done == n || mg_stop_requested() || mg_mono_ms() >= deadline)
			break;
		struct timespec ts = mg_deadline(100);
		pthread_cond_timedwait(&ctl.cv, &ctl.mu, &ts);
	}
	pthread_mutex_unlock(&ctl.mu);
	service_notify("READY=1");
}

/* Is a programme's pass older than the watchdog allows?  Then the
 * watchdog goes unfed, as when the daemon had one thread. */
static int
stuck(struct run *runs, size_t n, int64_t now, int64_t watchdog)
{
	for (size_t i = 0; i < n; i++) {
		int64_t since = atomic_load(&runs[i].busy_since);
		if (since && now - since > watchdog)
			return 1;
	}
	return 0;
}

int
serve(struct prog *progs, size_t n, volatile sig_atomic_t *reload)
{
	struct run *runs = xcalloc(n, sizeof *runs);
	int64_t watchdog = service_watchdog_ms(), last_ping = 0;
	sigset_t all, old;
	size_t started = 0;
	int status = 0;

	for (size_t i = 0; i < n; i++)
		runs[i].nudge = -1;
	for (size_t i = 0; i < n; i++) {
		runs[i].p = &progs[i];
		runs[i].smtp = smtp_new(progs[i].c);
		runs[i].idle_fd = -1;
		if ((runs[i].nudge = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
			log_err("daemon eventfd failed error=\"%s\"", strerror(errno));
			status = EX_OSERR;
			goto out;
		}
	}
	cal_threads();
	/* signals are the main thread's */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (; started < n; started++)
		if (pthread_create(&runs[started].thread, NULL, worker, &runs[started]) != 0)
			break;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (started < n) {
		log_err("daemon cannot start a thread per programme");
		mg_request_stop();
		status = EX_OSERR;
	} else
		service_notify("READY=1");
	while (!mg_stop_requested()) {
		int64_t now = mg_mono_ms(), wait = VERSION_CHECK_MS;

		if (*reload) {
			*reload = 0;
			reload_all(runs, n);
			continue;
		}
		if (watchdog && now - last_ping >= watchdog && !stuck(runs, n, now, watchdog)) {
			service_notify("WATCHDOG=1");
			last_ping = now;
		}
		if (watchdog && last_ping + watchdog - now < wait)
			wait = last_ping + watchdog - now;
		if (wait > 0)
			poll(NULL, 0, (int)wait);	/* a signal cuts it short */
	}
	if (!status) {
		service_notify("STOPPING=1");
		status = atomic_load(&lost_status);
		log_info("daemon stopping status=%d", status);
	}
out:
	nudge(runs, started);
	for (size_t i = 0; i < started; i++)
		pthread_join(runs[i].thread, NULL);
	for (size_t i = 0; i < n; i++) {
		smtp_free(runs[i].smtp);
		if (runs[i].nudge >= 0)
			close(runs[i].nudge);
	}
	free(runs);
	return status;
}
