/* The event loop.  Each programme is a small state machine: its IMAP
 * session (NULL while the server is down), the IDLE it sits in, when its
 * next pass is due, and a backoff per server.  Passes and poll() take
 * turns on one thread (only the outbox's recorder runs beside a send). */
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "gateway.h"
#include "imap.h"
#include "log.h"
#include "serve.h"
#include "service.h"
#include "smtp.h"

#define IDLE_MAX_MS (25 * 60 * 1000)	/* RFC 2177: servers may drop IDLE after 29 min */
#define VERSION_CHECK_MS 500		/* how soon mentorctl's enqueues are sent */

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
	struct backoff imap_b, smtp_b;
};

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
	enum mg_status rc;

	memset(&st, 0, sizeof st);
	r->wake = 0;
	r->idle_fd = -1;
	if (sync) {
		gateway_sync(r->p->s, c, &r->im, &st);
		if (st.imap_down)
			failed(&r->imap_b, c, "imap", st.imap_error);
		else
			recovered(&r->imap_b, c, "imap");
	}
	rc = gateway_work(r->p->s, c, r->smtp, send, &st);
	if (rc != MG_OK)
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
		    " store_cpu_s=%.3f", c->name, st.stored, st.duplicates, st.decided, st.sent,
		    st.deferred, st.failed, st.moved, st.moved_early, st.ingest_s, st.reader_cpu_s, st.store_cpu_s);
	gateway_stats_clear(&st);
	r->data_version = store_data_version(r->p->s);
	r->next_pass = mg_mono_ms() + serve_pass_interval_ms(c->poll_interval);
	if (r->im && imap_can_idle(r->im) && !mg_stop_requested()) {
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

static void
reload_all(struct run *runs, size_t n)
{
	service_notify("RELOADING=1");
	for (size_t i = 0; i < n; i++) {
		struct prog *p = runs[i].p;
		struct buf errs = {0};
		struct conf *c;

		if (conf_load(p->path, &c, &errs) != MG_OK) {
			log_err("conf reload-rejected path=%s errors=\"%s\"", p->path,
			    errs.s ? errs.s : "");
			buf_free(&errs);
			continue;
		}
		if (strcmp(c->database, p->c->database))
			log_warn("conf database-change-ignored path=%s until restart", p->path);
		/* sessions hold the old configuration: start them afresh */
		imap_close(runs[i].im);
		runs[i].im = NULL;
		runs[i].idle_fd = -1;
		smtp_free(runs[i].smtp);
		conf_free(p->c);
		p->c = c;
		runs[i].smtp = smtp_new(c);
		runs[i].next_pass = 0;
		/* a new configuration: its outages are news, logged anew */
		memset(&runs[i].imap_b, 0, sizeof runs[i].imap_b);
		memset(&runs[i].smtp_b, 0, sizeof runs[i].smtp_b);
		log_info("conf reloaded path=%s", p->path);
	}
	service_notify("READY=1");
}

int
serve(struct prog *progs, size_t n, volatile sig_atomic_t *reload)
{
	struct run *runs = xcalloc(n, sizeof *runs);
	struct pollfd *fds = xcalloc(n, sizeof *fds);
	int64_t watchdog = service_watchdog_ms(), last_ping = 0, last_version = 0;

	for (size_t i = 0; i < n; i++) {
		runs[i].p = &progs[i];
		runs[i].smtp = smtp_new(progs[i].c);
		runs[i].idle_fd = -1;
	}
	service_notify("READY=1");
	while (!mg_stop_requested()) {
		int64_t now = mg_mono_ms(), wait = VERSION_CHECK_MS;

		if (*reload) {
			*reload = 0;
			reload_all(runs, n);
		}
		if (watchdog && now - last_ping >= watchdog) {
			service_notify("WATCHDOG=1");
			last_ping = now;
		}
		/* mentorctl committed something (an approval, an import): its
		 * mail goes now, not at the next timer */
		int check_version = now - last_version >= VERSION_CHECK_MS;
		if (check_version)
			last_version = now;
		for (size_t i = 0; i < n && !mg_stop_requested(); i++) {
			struct run *r = &runs[i];
			int due = r->wake || now >= r->next_pass ||
			    (!r->im && r->imap_b.failures && now >= r->imap_b.next) ||
			    (r->smtp_b.failures && now >= r->smtp_b.next) ||
			    (r->im && r->idle_fd >= 0 && imap_idle_buffered(r->im));
			if (!due && check_version && store_data_version(r->p->s) != r->data_version)
				due = 1;
			if (due) {
				pass(r, now);
				now = mg_mono_ms();
			}
		}
		size_t nfds = 0;
		for (size_t i = 0; i < n; i++) {
			struct run *r = &runs[i];
			int64_t until = r->next_pass;
			if (!r->im && r->imap_b.failures && r->imap_b.next < until)
				until = r->imap_b.next;
			if (r->smtp_b.failures && r->smtp_b.next < until)
				until = r->smtp_b.next;
			if (until - now < wait)
				wait = until - now;
			if (r->idle_fd >= 0) {
				if (imap_idle_buffered(r->im))
					wait = 0;
				fds[nfds].fd = r->idle_fd;
				fds[nfds].events = POLLIN;
				fds[nfds].revents = 0;
				nfds++;
			}
		}
		if (watchdog && last_ping + watchdog - now < wait)
			wait = last_ping + watchdog - now;
		if (wait < 0)
			wait = 0;
		if (mg_stop_requested() || *reload)
			continue;
		if (poll(fds, nfds, (int)wait) > 0) {
			for (size_t i = 0, k = 0; i < n; i++)
				if (runs[i].idle_fd >= 0 && fds[k++].revents)
					runs[i].wake = 1;
		}
	}
	service_notify("STOPPING=1");
	log_info("daemon stopping");
	for (size_t i = 0; i < n; i++) {
		imap_close(runs[i].im);
		smtp_free(runs[i].smtp);
	}
	free(runs);
	free(fds);
	return 0;
}
