/* mentorgated: argument parsing, the pidfile and dropping root, a lock per
 * database, signals; then one pass (--once) or the event loop (serve). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pwd.h>

#include "conf.h"
#include "gateway.h"
#include "log.h"
#include "pattern.h"
#include "serve.h"
#include "service.h"
#include "smtp.h"
#include "store.h"

#define EX_USAGE 64
#define EX_NOINPUT 66
#define EX_CONFIG 78
#define EX_TEMPFAIL 75
#define EX_SOFTWARE 70

static volatile sig_atomic_t reload_flag;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_flag = 1;
	else
		mg_request_stop();
}

static void
usage(void)
{
	fprintf(stderr, "usage: mentorgated -c FILE [-c FILE ...] [--once] [--foreground]\n"
	    "                   [--pidfile FILE] [--now TIME]\n"
	    "  -c, --config FILE   configuration file of a programme (required; repeat it to\n"
	    "                      serve several programmes, each with its own mailbox and\n"
	    "                      database, from one daemon)\n"
	    "  --once              one pass: poll, process, flush the outbox, exit\n"
	    "  --foreground        log to stderr instead of syslog\n"
	    "  --pidfile FILE      write the PID here (overrides [daemon] pidfile)\n"
	    "  --now TIME          pretend it is TIME (epoch seconds or YYYY-MM-DDTHH:MM:SSZ),\n"
	    "                      as MENTORGATE_NOW does: for tests and demos\n");
}

/* One mentorgated per database: an flock beside it. */
static int
lock_database(const char *db)
{
	char *path = xasprintf("%s.lock", db);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	free(path);
	if (fd < 0)
		return -1;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return -2;
	}
	return fd;
}

static void
setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;	/* no SA_RESTART: a poll must wake */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);	/* libetpan writes to dead sockets */
	signal(SIGXFSZ, SIG_IGN);	/* a file size limit is a full disk: an error, retried */
}

/* Open each programme's lock and database (after dropping root). */
static int
open_progs(struct prog *p, size_t n)
{
	struct buf errs = {0};

	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++)
			if (!strcmp(p[i].c->database, p[j].c->database)) {
				fprintf(stderr, "mentorgated: %s and %s share the database %s\n",
				    p[j].path, p[i].path, p[i].c->database);
				return EX_CONFIG;
			}
		if ((p[i].lockfd = lock_database(p[i].c->database)) < 0) {
			fprintf(stderr, "mentorgated: %s: %s\n", p[i].c->database, p[i].lockfd == -2 ?
			    "another mentorgated is running on this database" : strerror(errno));
			return EX_TEMPFAIL;
		}
		if (store_open(p[i].c->database, &p[i].s, &errs) != MG_OK) {
			fprintf(stderr, "mentorgated: %s\n", errs.s);
			buf_free(&errs);
			return EX_TEMPFAIL;
		}
	}
	return 0;
}

static int
run_once(struct prog *p, size_t n)
{
	int status = 0;

	for (size_t i = 0; i < n; i++) {
		struct gateway_stats st;
		struct smtp *smtp = smtp_new(p[i].c);
		struct buf err = {0};
		enum mg_status rc = gateway_pass(p[i].s, p[i].c, smtp, &st);

		log_info("pass done programme=\"%s\" stored=%d duplicates=%d decided=%d sent=%d"
		    " deferred=%d failed=%d moved=%d moved_early=%d imap_down=%d smtp_down=%d"
		    " ingest_s=%.3f reader_cpu_s=%.3f store_cpu_s=%.3f read_ahead=%d rules_jit_kb=%zu",
		    p[i].c->name, st.stored, st.duplicates, st.decided, st.sent, st.deferred, st.failed,
		    st.moved, st.moved_early, st.imap_down, st.smtp_down, st.ingest_s, st.reader_cpu_s,
		    st.store_cpu_s, st.read_ahead, pattern_jit_bytes() / 1024);
		if (store_check_file(p[i].s, &err) == MG_NOTFOUND) {
			/* (nothing was moved or sent after it was seen) */
			log_err("database lost programme=\"%s\" error=\"%s\" action=stop",
			    p[i].c->name, err.s);
			status = EX_NOINPUT;
		} else if (rc != MG_OK)
			status = rc == MG_TEMPFAIL ? EX_TEMPFAIL : EX_SOFTWARE;
		else if ((st.imap_down || st.smtp_down) && !status)
			status = EX_TEMPFAIL;
		gateway_stats_clear(&st);
		smtp_free(smtp);
		buf_free(&err);
		if (status == EX_NOINPUT)
			break;
	}
	return status;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "pidfile", required_argument, NULL, 'p' },
		{ "now", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *pidpath = NULL;
	int once = 0, foreground = 0, ch, status = 0, pidfd = -1;
	struct buf errs = {0};
	struct prog *progs = NULL;
	size_t n = 0;

	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			progs = xrealloc(progs, (n + 1) * sizeof *progs);
			memset(&progs[n], 0, sizeof *progs);
			progs[n].path = optarg;
			progs[n++].lockfd = -1;
			break;
		case 'o': once = 1; break;
		case 'f': foreground = 1; break;
		case 'p': pidpath = optarg; break;
		case 'n':
			/* the clock override, as MENTORGATE_NOW (tests, demos) */
			if (setenv("MENTORGATE_NOW", optarg, 1) || !mg_now_valid(optarg)) {
				fprintf(stderr, "mentorgated: --now: epoch seconds or YYYY-MM-DDTHH:MM:SSZ\n");
				status = EX_USAGE;
				goto out;
			}
			break;
		case 'h': usage(); goto out;
		default: usage(); status = EX_USAGE; goto out;
		}
	}
	if (!n || optind != argc) {
		usage();
		status = EX_USAGE;
		goto out;
	}
	umask(077);
#ifdef __GLIBC__
	/* One malloc arena for all threads: the storing thread frees what the
	 * reader allocated, and an arena per thread held about 2 MB more at
	 * the peak of a 10,000-message ingest.  Each thread keeps its own
	 * cache of small chunks either way; the cost in ingest time was
	 * within the runs' spread (docs/performance.md). */
	mallopt(M_ARENA_MAX, 1);
#endif
	setup_signals();
	log_init("mentorgated", foreground || once);
	for (size_t i = 0; i < n; i++)
		if (conf_load(progs[i].path, &progs[i].c, &errs) != MG_OK) {
			fputs(errs.s, stderr);
			status = EX_CONFIG;
			goto out;
		}
	/* [daemon] is process-wide: the first file's settings count */
	const struct conf *first = progs[0].c;
	for (size_t i = 1; i < n; i++)
		if ((progs[i].c->user || progs[i].c->pidfile) &&
		    (!progs[i].c->user != !first->user || !progs[i].c->pidfile != !first->pidfile ||
		    (first->user && strcmp(progs[i].c->user, first->user)) ||
		    (first->pidfile && strcmp(progs[i].c->pidfile, first->pidfile)))) {
			fprintf(stderr, "mentorgated: %s: [daemon] differs from %s, whose settings"
			    " apply to the whole daemon\n", progs[i].path, progs[0].path);
			status = EX_CONFIG;
			goto out;
		}
	if (!pidpath)
		pidpath = first->pidfile;
	if (pidpath && !once && (pidfd = service_pidfile(pidpath, &errs)) < 0) {
		fprintf(stderr, "mentorgated: %s\n", errs.s);
		status = EX_TEMPFAIL;
		goto out;
	}
	if (first->user) {
		if (pidfd >= 0) {	/* so that the user can remove it at exit */
			struct passwd *pw = getpwnam(first->user);
			if (pw && fchown(pidfd, pw->pw_uid, pw->pw_gid) < 0)
				log_warn("pidfile chown failed path=%s", pidpath);
		}
		if (service_drop(first->user, &errs) != MG_OK) {
			fprintf(stderr, "mentorgated: %s\n", errs.s);
			status = EX_CONFIG;
			goto out;
		}
	}
	if ((status = open_progs(progs, n)) != 0)
		goto out;
	log_info("daemon started once=%d programmes=%zu mailbox=%s", once, n,
	    progs[0].c->imap_mailbox);
	status = once ? run_once(progs, n) : serve(progs, n, &reload_flag);
out:
	buf_free(&errs);
	for (size_t i = 0; i < n; i++) {
		store_close(progs[i].s);
		if (progs[i].lockfd >= 0)
			close(progs[i].lockfd);
		conf_free(progs[i].c);
	}
	service_pidfile_remove(pidpath, pidfd);
	free(progs);
	return status;
}
