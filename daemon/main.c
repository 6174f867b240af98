/* mentorgated: argument parsing, the single-instance lock, signals, and the
 * poll loop around gateway_pass. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "gateway.h"
#include "log.h"
#include "smtp.h"
#include "store.h"

#define EX_USAGE 64
#define EX_CONFIG 78
#define EX_TEMPFAIL 75
#define EX_SOFTWARE 70

static volatile sig_atomic_t stop_flag, reload_flag;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_flag = 1;
	else
		stop_flag = 1;
}

static void
usage(void)
{
	fprintf(stderr, "usage: mentorgated -c FILE [--once] [--foreground] [--now TIME]\n"
	    "  -c, --config FILE   configuration file (required)\n"
	    "  --once              one pass: poll, process, flush the outbox, exit\n"
	    "  --foreground        log to stderr instead of syslog\n"
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
	sa.sa_handler = on_signal;	/* no SA_RESTART: a sleep must wake */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);	/* libetpan writes to dead sockets */
}

static struct conf *
reload(const char *path, struct conf *old)
{
	struct buf errs = {0};
	struct conf *c;

	if (conf_load(path, &c, &errs) != MG_OK) {
		log_err("conf reload-rejected path=%s errors=\"%s\"", path, errs.s ? errs.s : "");
		buf_free(&errs);
		return old;
	}
	if (strcmp(c->database, old->database))
		log_warn("conf database-change-ignored until restart");
	log_info("conf reloaded path=%s", path);
	buf_free(&errs);
	conf_free(old);
	return c;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "now", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgpath = NULL;
	int once = 0, foreground = 0, ch, lockfd, status = 0;
	struct buf errs = {0};
	struct conf *c = NULL;
	struct store *s = NULL;
	struct smtp *smtp = NULL;

	while ((ch = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (ch) {
		case 'c': cfgpath = optarg; break;
		case 'o': once = 1; break;
		case 'f': foreground = 1; break;
		case 'n':
			/* the clock override, as MENTORGATE_NOW (tests, demos) */
			if (setenv("MENTORGATE_NOW", optarg, 1) || !mg_now_valid(optarg)) {
				fprintf(stderr, "mentorgated: --now: epoch seconds or YYYY-MM-DDTHH:MM:SSZ\n");
				return EX_USAGE;
			}
			break;
		case 'h': usage(); return 0;
		default: usage(); return EX_USAGE;
		}
	}
	if (!cfgpath || optind != argc) {
		usage();
		return EX_USAGE;
	}
	umask(077);
	setup_signals();
	log_init("mentorgated", foreground || once);
	if (conf_load(cfgpath, &c, &errs) != MG_OK) {
		fputs(errs.s, stderr);
		buf_free(&errs);
		return EX_CONFIG;
	}
	if ((lockfd = lock_database(c->database)) < 0) {
		fprintf(stderr, "mentorgated: %s\n", lockfd == -2 ?
		    "another mentorgated is running on this database" : strerror(errno));
		conf_free(c);
		return EX_TEMPFAIL;
	}
	if (store_open(c->database, &s, &errs) != MG_OK) {
		fprintf(stderr, "mentorgated: %s\n", errs.s);
		buf_free(&errs);
		conf_free(c);
		return EX_TEMPFAIL;
	}
	smtp = smtp_new(c);
	log_info("daemon started once=%d mailbox=%s", once, c->imap_mailbox);
	while (!stop_flag) {
		struct gateway_stats st;
		enum mg_status rc = gateway_pass(s, c, smtp, &st);

		log_info("pass done stored=%d duplicates=%d decided=%d sent=%d deferred=%d failed=%d"
		    " imap_down=%d smtp_down=%d", st.stored, st.duplicates, st.decided, st.sent,
		    st.deferred, st.failed, st.imap_down, st.smtp_down);
		if (once) {
			if (rc != MG_OK)
				status = rc == MG_TEMPFAIL ? EX_TEMPFAIL : EX_SOFTWARE;
			else if (st.imap_down || st.smtp_down)
				status = EX_TEMPFAIL;
			break;
		}
		for (int waited = 0; waited < c->poll_interval * 10 && !stop_flag && !reload_flag; waited++)
			poll(NULL, 0, 100);
		if (reload_flag) {
			reload_flag = 0;
			c = reload(cfgpath, c);
			smtp_free(smtp);
			smtp = smtp_new(c);
		}
	}
	log_info("daemon stopping");
	smtp_free(smtp);
	store_close(s);
	conf_free(c);
	close(lockfd);
	return status;
}
