/* mentorctl: the coordinator's command line.  Argument parsing and output
 * only: every table belongs to its module. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "bounce.h"
#include "classify.h"
#include "conf.h"
#include "export.h"
#include "mime.h"
#include "model.h"
#include "moderate.h"
#include "outbox.h"
#include "replay.h"
#include "report.h"
#include "reply.h"
#include "rules.h"
#include "screen.h"
#include "roster.h"
#include "store.h"
#include "spotcheck.h"
#include "survey.h"
#include "vis.h"

#define EX_USAGE 64
#define EX_DATAERR 65
#define EX_NOINPUT 66
#define EX_SOFTWARE 70
#define EX_TEMPFAIL 75
#define EX_CANTCREAT 73
#define EX_CONFIG 78

struct ctx {
	struct conf *conf;
	struct store *store;
};

static const char usage_text[] =
	"usage: mentorctl -c FILE COMMAND [ARGS]\n"
	"       mentorctl extract [FILE|-]          the new text of one raw message\n"
	"       mentorctl classify [FILE|-]         bounce permanent|transient RCPTS, autoreply or message\n"
	"       mentorctl [-c FILE] rules test [-H] [FILE...|-] screening hits: CATEGORY RULE ACTION START-END TEXT\n"
	"       mentorctl [-c FILE] rules check     every rule against its own examples\n"
	"       mentorctl rules features FILE...    the screening model's features of each message\n"
	"       mentorctl -c FILE rules replay --days N   current rules over stored messages\n"
	"commands:\n"
	"  check                                   validate the configuration\n"
	"  cohort add NAME --start YYYY-MM-DD --weeks N\n"
	"  import FILE.csv                         participants: role,name,email,cohort,segment[,first_name][,born]\n"
	"  pair MENTEE_EMAIL MENTOR_EMAIL          pair them; prints both masked addresses\n"
	"  pairs                                   list pairs and their masked addresses\n"
	"  thread PAIR_ID                          the pair's conversation in order\n"
	"  messages [--held]                       stored messages (only held ones)\n"
	"  outbox [--pending]                      outbound mail and its delivery state\n"
	"  bounces                                 delivery failures, newest first\n"
	"  hold list | show ID | approve ID | reject ID REASON | redact ID | close ID [NOTE]\n"
	"  spotcheck list                          relayed messages sampled for a second look, and verdicts\n"
	"  audit verify [--head HASH]              check the audit chain, messages, references (and the mailed head)\n"
	"  export PAIR_ID [--format txt|mbox|html] [--output FILE]   the pair's whole record\n"
	"  erase MESSAGE_ID --reason TEXT          remove what a message said; audited\n"
	"  survey import FILE.csv                  web-form answers: token,q1,...,qN[,text]\n"
	"  report COHORT [--format text|csv|html]  the cohort's evaluation\n"
	"  resume EMAIL                            relay to a paused (bouncing) participant again\n"
	"exit status: 0 ok, 64 usage, 65 bad input, 66 not found, 75 try again, 78 bad config\n";

/* --- what mentorctl prints ----------------------------------------------
 * Message bodies, subjects, names and addresses come from strangers: an
 * escape sequence in them would act on the coordinator's terminal (ESC[8m
 * hides the text after it; a bidi override reorders it).  stdout and stderr
 * are replaced by streams that pass everything through vis_escape, on a
 * terminal or not (a pipe into less -R interprets them too).  Only an
 * export's --output file is written byte for byte. */

struct term {
	int fd;
	struct buf pend;	/* a CR or part of a UTF-8 character, waiting */
};

static int
write_all(int fd, const char *s, size_t n)
{
	while (n) {
		ssize_t w = write(fd, s, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
term_put(struct term *t, const char *s, size_t n, int more)
{
	struct buf out = {0};
	size_t used;
	int rc;

	buf_add(&t->pend, s, n);
	used = vis_escape(&out, t->pend.s, t->pend.len, more);
	rc = write_all(t->fd, out.s, out.len);
	memmove(t->pend.s, t->pend.s + used, t->pend.len - used + 1);
	t->pend.len -= used;
	buf_free(&out);
	return rc;
}

static ssize_t
term_write(void *arg, const char *s, size_t n)
{
	return term_put(arg, s, n, 1) ? -1 : (ssize_t)n;
}

static int
term_close(void *arg)
{
	struct term *t = arg;
	int rc = term_put(t, "", 0, 0);

	buf_free(&t->pend);
	free(t);
	return rc;
}

static FILE *term_old[2];	/* the real stdout and stderr */

/* At exit: what is still waiting goes out, and the real streams are back
 * (for whatever the C library or a sanitizer writes after us). */
static void
term_done(void)
{
	FILE *out = stdout, *err = stderr;

	stdout = term_old[0];
	stderr = term_old[1];
	if (out != stdout)
		fclose(out);
	if (err != stderr)
		fclose(err);
}

static FILE *
term_open(int fd, FILE *old)
{
	static const cookie_io_functions_t io = { NULL, term_write, NULL, term_close };
	struct term *t = xcalloc(1, sizeof *t);
	FILE *f;

	t->fd = fd;
	if (!(f = fopencookie(t, "w", io))) {
		free(t);
		return old;
	}
	if (fd == STDERR_FILENO)
		setvbuf(f, NULL, _IONBF, 0);
	else if (isatty(fd))
		setvbuf(f, NULL, _IOLBF, 0);
	return f;
}

static int
usage(void)
{
	fputs(usage_text, stderr);
	return EX_USAGE;
}

static int
exit_for(enum mg_status st)
{
	switch (st) {
	case MG_OK: return 0;
	case MG_BADINPUT: case MG_DENIED: case MG_DUPLICATE: return EX_DATAERR;
	case MG_NOTFOUND: return EX_NOINPUT;
	case MG_TEMPFAIL: case MG_CONNFAIL: return EX_TEMPFAIL;
	case MG_BADCONF: return EX_CONFIG;
	default: return EX_SOFTWARE;
	}
}

static void
masked(const struct conf *c, const char *token, char *out, size_t n)
{
	snprintf(out, n, "%s+%s@%s", c->relay_local, token, c->relay_domain);
}

static int
print_pair(const struct roster_pair *p, void *arg)
{
	const struct conf *c = arg;
	char a[320], b[320];

	masked(c, p->to_mentor_token, a, sizeof a);
	masked(c, p->to_mentee_token, b, sizeof b);
	printf("pair %lld (%s)\n", (long long)p->id, p->state);
	printf("  mentee %s <%s> writes to %s\n", p->mentee.name, p->mentee.email, a);
	printf("  mentor %s <%s> writes to %s\n", p->mentor.name, p->mentor.email, b);
	return 0;
}

static int
cmd_cohort(struct ctx *x, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "start", required_argument, NULL, 's' },
		{ "weeks", required_argument, NULL, 'w' },
		{ NULL, 0, NULL, 0 },
	};
	const char *start = NULL;
	int weeks = 0, ch;
	char *end;
	int64_t id;
	struct buf err = {0};
	enum mg_status st;

	if (argc < 3 || strcmp(argv[1], "add"))
		return usage();
	optind = 3;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (ch == 's')
			start = optarg;
		else if (ch == 'w') {
			weeks = (int)strtol(optarg, &end, 10);
			if (*end)
				weeks = -1;
		} else
			return usage();
	}
	if (!start || !weeks || optind != argc)
		return usage();
	st = roster_cohort_add(x->store, argv[2], start, weeks, &id, &err);
	if (st == MG_OK)
		printf("cohort %lld %s starts %s, %d weeks\n", (long long)id, argv[2], start, weeks);
	else
		fprintf(stderr, "mentorctl: %s\n", err.s ? err.s : mg_strerror(st));
	buf_free(&err);
	return exit_for(st);
}

static int
cmd_import(struct ctx *x, int argc, char **argv)
{
	struct buf err = {0};
	enum mg_status st;
	int n;

	if (argc != 2)
		return usage();
	st = roster_import(x->store, argv[1], x->conf->name, &n, &err);
	if (st == MG_OK)
		printf("imported %d participants from %s\n", n, argv[1]);
	else
		fputs(err.s ? err.s : "import failed\n", stderr);
	buf_free(&err);
	return exit_for(st);
}

static int
cmd_pair(struct ctx *x, int argc, char **argv)
{
	struct roster_pair p;
	struct buf err = {0};
	enum mg_status st;

	if (argc != 3)
		return usage();
	st = roster_pair(x->store, argv[1], argv[2], &p, &err);
	if (st == MG_OK)
		print_pair(&p, x->conf);
	else
		fprintf(stderr, "mentorctl: %s\n", err.s ? err.s : mg_strerror(st));
	roster_pair_clear(&p);
	buf_free(&err);
	return exit_for(st);
}

static void
when(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M UTC", &tm);
}

/* "name\ttype\tbytes" lines -> "[attachment: name (type, bytes bytes)]" */
static void
print_attachments(const char *a)
{
	char name[256], type[128];
	unsigned long long bytes;

	while (a && *a) {
		const char *nl = strchr(a, '\n');
		size_t n = nl ? (size_t)(nl - a) : strlen(a);
		char *line = xstrndup(a, n);
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (t1 && t2) {
			*t1 = *t2 = 0;
			snprintf(name, sizeof name, "%s", *line ? line : "unnamed");
			snprintf(type, sizeof type, "%s", t1 + 1);
			bytes = strtoull(t2 + 1, NULL, 10);
			printf("[attachment: %s (%s, %llu bytes)]\n", name, type, bytes);
		}
		free(line);
		a += n + (nl != NULL);
	}
}

struct thread_view {
	int64_t thread;		/* the conversation being printed */
	int n;			/* conversations so far */
};

static int
print_message(const struct store_row *r, void *arg)
{
	struct thread_view *v = arg;
	const char *text = r->new_text ? r->new_text : r->body;
	char t[32];

	if (v && r->thread_id != v->thread) {
		v->thread = r->thread_id;
		printf("%s=== conversation %d: %s\n", v->n ? "\n" : "", v->n + 1,
		    r->subject && *r->subject ? r->subject : "(no subject)");
		v->n++;
	}
	when(r->received, t, sizeof t);
	if (r->author_role)
		printf("--- #%lld %s  %s %s -> %s  [%s]\n", (long long)r->id, t, r->author_role,
		    r->author_name, r->recipient_name ? r->recipient_name : "?", r->state);
	else
		printf("--- #%lld %s  from %s  [%s%s%s]\n", (long long)r->id, t,
		    r->from_addr ? r->from_addr : "(none)", r->state, r->reason ? ": " : "",
		    r->reason ? r->reason : "");
	if (r->subject && *r->subject)
		printf("Subject: %s\n", r->subject);
	if (text) {
		fputs(text, stdout);
		if (*text && text[strlen(text) - 1] != '\n')
			putchar('\n');
	}
	print_attachments(r->attachments);
	return 0;
}

static int
print_summary(const struct store_row *r, void *arg)
{
	char t[32];

	(void)arg;
	when(r->received, t, sizeof t);
	printf("%lld\t%s\t%s\t%s\tpair=%lld\tfrom=%s\tsubject=%s%s%s\n", (long long)r->id, t,
	    r->state, r->kind ? r->kind : "message", (long long)r->pair_id,
	    r->from_addr ? r->from_addr : "", r->subject ? r->subject : "",
	    r->reason ? "\treason=" : "", r->reason ? r->reason : "");
	return 0;
}

static int
cmd_thread(struct ctx *x, int argc, char **argv)
{
	struct roster_pair p;
	enum mg_status st;
	char *end;
	long long id;

	if (argc != 2)
		return usage();
	id = strtoll(argv[1], &end, 10);
	if (*end || id <= 0)
		return usage();
	if ((st = roster_pair_get(x->store, id, &p)) != MG_OK) {
		fprintf(stderr, "mentorctl: pair %s: %s\n", argv[1], mg_strerror(st));
		return exit_for(st);
	}
	printf("pair %lld: mentee %s, mentor %s\n", id, p.mentee.name, p.mentor.name);
	roster_pair_clear(&p);
	struct thread_view v = { -1, 0 };
	return exit_for(store_messages(x->store, id, NULL, print_message, &v));
}

/* The whole of path ("-" or NULL: stdin); NULL with a message on failure. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = (!path || !strcmp(path, "-")) ? stdin : fopen(path, "rb");
	char *s;

	if (!f) {
		fprintf(stderr, "mentorctl: %s: %m\n", path);
		return NULL;
	}
	if (!(s = mg_read_all(f, len)))
		fprintf(stderr, "mentorctl: %s: read error\n", path ? path : "stdin");
	if (f != stdin)
		fclose(f);
	return s;
}

static int
cmd_extract(int argc, char **argv)
{
	char *raw, *text;
	size_t len;

	if (argc > 2)
		return usage();
	if (!(raw = slurp(argc == 2 ? argv[1] : NULL, &len)))
		return EX_NOINPUT;
	if (mime_is_message(raw, len)) {
		struct mime_msg *m = mime_parse(raw, len);
		text = reply_extract(m->text ? m->text : "", m->text ? strlen(m->text) : 0);
		mime_free(m);
	} else {
		/* bare text: a body already decoded */
		char *clean = mime_utf8_clean(raw, len);
		text = reply_extract(clean, strlen(clean));
		free(clean);
	}
	fputs(text, stdout);
	free(text);
	free(raw);
	return 0;
}

static int
cmd_classify(int argc, char **argv)
{
	struct classify c;
	char *raw, *line;
	size_t len;

	if (argc > 2)
		return usage();
	if (!(raw = slurp(argc == 2 ? argv[1] : NULL, &len)))
		return EX_NOINPUT;
	classify_message(raw, len, &c);
	line = classify_line(&c);
	puts(line);
	free(line);
	classify_clear(&c);
	free(raw);
	return 0;
}

/* The rules directory: the configuration's, else $MENTORGATE_RULES, else
 * conf/rules beside the build directory (a source tree), else
 * /etc/mentorgate/rules. */
static char *
rules_dir(const struct conf *c)
{
	char exe[4096], *slash;
	ssize_t n;

	if (c && c->rules_dir)
		return xstrdup(c->rules_dir);
	if (getenv("MENTORGATE_RULES"))
		return xstrdup(getenv("MENTORGATE_RULES"));
	if ((n = readlink("/proc/self/exe", exe, sizeof exe - 1)) > 0) {
		exe[n] = 0;
		if ((slash = strrchr(exe, '/'))) {
			*slash = 0;
			char *dir = xasprintf("%s/../conf/rules", exe);
			if (access(dir, R_OK) == 0)
				return dir;
			free(dir);
		}
	}
	return xstrdup("/etc/mentorgate/rules");
}

/* What screening reads of a raw message (or of plain text): its new text,
 * signature included; quoted history is not screened again.  Caller frees. */
static char *
screened_text(const char *raw, size_t len)
{
	char *text, *clean;

	if (mime_is_message(raw, len)) {
		struct mime_msg *m = mime_parse(raw, len);
		text = reply_screen_text(m->text ? m->text : "", m->text ? strlen(m->text) : 0);
		mime_free(m);
		return text;
	}
	clean = mime_utf8_clean(raw, len);
	text = reply_screen_text(clean, strlen(clean));
	free(clean);
	return text;
}

/* rules features FILE...: each file's model features on one line after its
 * name and a tab (tests/corpus/train_model.py trains on them). */
static int
rules_features(int argc, char **argv)
{
	int rc = 0;

	for (int i = 0; i < argc; i++) {
		struct buf f = {0};
		size_t len;
		char *raw = slurp(argv[i], &len), *text;
		if (!raw) {
			rc = EX_NOINPUT;
			continue;
		}
		text = screened_text(raw, len);
		model_features(text, strlen(text), &f);
		for (size_t k = 0; k < f.len; k++)
			if (f.s[k] == '\n')
				f.s[k] = ' ';
		printf("%s\t%s\n", argv[i], f.len ? f.s : "");
		buf_free(&f);
		free(text);
		free(raw);
	}
	return rc;
}

/* rules test: the hits of one raw message (path NULL: standard input),
 * each line after the path when named. */
static int
rules_test_one(const struct rules *rs, const char *path, int named)
{
	struct screen_hit *h;
	size_t len, n;
	char *raw, *text;

	if (!(raw = slurp(path, &len)))
		return EX_NOINPUT;
	text = screened_text(raw, len);
	n = screen_text(rs, text, strlen(text), &h);
	for (size_t i = 0; i < n; i++) {
		if (named)	/* (standard input named as grep names it) */
			printf("%s: ", path && strcmp(path, "-") ? path : "(standard input)");
		/* (a flag holds nothing by itself: its line is marked so) */
		printf("%s%s %s %s %zu-%zu ", h[i].rule->action == RULE_FLAG ? "flag:" : "",
		    h[i].rule->category, h[i].rule->name, rules_action_name(h[i].rule->action),
		    h[i].start, h[i].end);
		for (size_t k = h[i].start; k < h[i].end; k++)
			putchar(text[k] == '\n' || text[k] == '\r' ? ' ' : text[k]);
		if (h[i].rule->why)
			printf(" [why: %s]", h[i].rule->why);
		putchar('\n');
	}
	free(h);
	free(text);
	free(raw);
	return 0;
}

static int
cmd_rules(const struct conf *c, int argc, char **argv)
{
	struct rules *rs;
	struct buf errs = {0};
	char *dir = rules_dir(c);
	int rc = 0;

	if (argc > 2 && !strcmp(argv[1], "features")) {
		free(dir);
		return rules_features(argc - 2, argv + 2);
	}
	if (argc < 2 || (strcmp(argv[1], "test") && strcmp(argv[1], "check")) ||
	    (!strcmp(argv[1], "check") && argc > 2)) {
		free(dir);
		return usage();
	}
	if (rules_load(dir, &rs, &errs) != MG_OK) {
		fputs(errs.s, stderr);
		buf_free(&errs);
		free(dir);
		return EX_CONFIG;
	}
	if (!strcmp(argv[1], "check")) {
		if (rules_check(rs, &errs) != MG_OK) {
			fputs(errs.s, stderr);
			rc = EX_CONFIG;
		} else
			printf("%s: %zu rules, every example right\n", dir, rs->n);
		goto out;
	}
	/* (several files, or -H: each hit's line starts with its file's name,
	 * as grep's do; the rules are loaded once) */
	{
		int first = 2, named;
		if (argc > 2 && !strcmp(argv[2], "-H"))
			first = 3;
		named = first == 3 || argc - first > 1;
		for (int f = first; f < (argc > first ? argc : first + 1); f++)
			if (rules_test_one(rs, f < argc ? argv[f] : NULL, named) != 0)
				rc = EX_NOINPUT;
	}
out:
	rules_free(rs);
	buf_free(&errs);
	free(dir);
	return rc;
}

static int
cmd_hold(struct ctx *x, int argc, char **argv)
{
	struct moderate_decision d = {0};
	char *end, *detail = NULL, *by;
	enum mg_status st;
	long long id;

	if (argc == 2 && !strcmp(argv[1], "list"))
		return exit_for(moderate_list(x->store));
	if (argc < 3)
		return usage();
	id = strtoll(argv[2], &end, 10);
	if (*end || id <= 0)
		return usage();
	if (!strcmp(argv[1], "show") && argc == 3) {
		if ((st = moderate_show(x->store, id)) == MG_NOTFOUND)
			fprintf(stderr, "mentorctl: no hold %lld\n", id);
		return exit_for(st);
	}
	if (!strcmp(argv[1], "approve") && argc == 3)
		d.verb = MOD_APPROVE;
	else if (!strcmp(argv[1], "redact") && argc == 3)
		d.verb = MOD_REDACT;
	else if (!strcmp(argv[1], "reject") && argc == 4) {
		d.verb = MOD_REJECT;
		d.note = argv[3];
	} else if (!strcmp(argv[1], "close") && (argc == 3 || argc == 4)) {
		d.verb = MOD_CLOSE;
		d.note = argc == 4 ? argv[3] : NULL;
	} else
		return usage();
	by = xasprintf("shell:%s", getenv("USER") ? getenv("USER") : "unknown");
	d.by = by;
	st = moderate_decide(x->store, x->conf, NULL, id, &d, &detail);
	if (st == MG_OK)
		printf("hold %lld: %s\n", id, argv[1]);
	else if (st == MG_DUPLICATE)
		fprintf(stderr, "mentorctl: hold %lld was already decided by %s\n", id, detail);
	else if (st == MG_DENIED)
		fprintf(stderr, "mentorctl: hold %lld: %s\n", id, detail ? detail : "cannot relay");
	else
		fprintf(stderr, "mentorctl: hold %lld: %s\n", id, mg_strerror(st));
	free(detail);
	free(by);
	return exit_for(st);
}

/* Erase one message's content; the reason and who asked go to the audit log. */
static int
cmd_erase(struct ctx *x, const char *idarg, const char *reason)
{
	char *end, *actor, *detail;
	long long id = strtoll(idarg, &end, 10);
	int64_t pair;
	enum mg_status st;

	if (*end || id <= 0 || !*reason)
		return usage();
	actor = xasprintf("shell:%s", getenv("USER") ? getenv("USER") : "unknown");
	detail = xasprintf("message %lld: %s", id, reason);
	if ((st = store_begin(x->store)) == MG_OK) {
		if ((st = store_msg_erase(x->store, id, &pair)) == MG_OK &&
		    (st = audit_append(x->store, "erased", id, pair, actor, detail)) == MG_OK)
			st = store_commit(x->store);
		else
			store_rollback(x->store);
	}
	if (st == MG_OK)
		printf("message %lld erased\n", id);
	else
		fprintf(stderr, "mentorctl: message %lld: %s\n", id, mg_strerror(st));
	free(actor);
	free(detail);
	return exit_for(st);
}

static int
cmd_export(struct ctx *x, int argc, char **argv)
{
	const char *format = "txt", *output = NULL;
	char *end, *actor;
	long long id;
	FILE *f = stdout;
	enum mg_status st;
	int fmt;

	if (argc < 2)
		return usage();
	id = strtoll(argv[1], &end, 10);
	if (*end || id <= 0)
		return usage();
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--format") && i + 1 < argc)
			format = argv[++i];
		else if (!strcmp(argv[i], "--output") && i + 1 < argc)
			output = argv[++i];
		else
			return usage();
	}
	if ((fmt = export_format(format)) < 0)
		return usage();
	if (output && !(f = fopen(output, "w"))) {
		fprintf(stderr, "mentorctl: %s: %m\n", output);
		return EX_CANTCREAT;
	}
	actor = xasprintf("shell:%s", getenv("USER") ? getenv("USER") : "unknown");
	st = export_pair(x->store, id, (enum export_format)fmt, actor, f);
	if (st == MG_NOTFOUND)
		fprintf(stderr, "mentorctl: no pair %lld\n", id);
	else if (st != MG_OK)
		fprintf(stderr, "mentorctl: export of pair %lld failed, nothing recorded: %s\n", id,
		    store_errmsg(x->store));
	if (output && fclose(f) != 0 && st == MG_OK)
		st = MG_TEMPFAIL;
	free(actor);
	return exit_for(st);
}

static int
open_all(struct ctx *x, const char *cfgpath)
{
	struct buf errs = {0};
	enum mg_status st;

	if (conf_load(cfgpath, &x->conf, &errs) != MG_OK) {
		fputs(errs.s, stderr);
		buf_free(&errs);
		return EX_CONFIG;
	}
	if ((st = store_open(x->conf->database, &x->store, &errs)) != MG_OK) {
		fprintf(stderr, "mentorctl: %s\n", errs.s);
		buf_free(&errs);
		return exit_for(st);
	}
	return 0;
}

/* mentorctl [-c FILE] COMMAND ... --help: that command's lines of the usage. */
static int
help_for(const char *cmd)
{
	char *pre = xasprintf("  %s ", cmd), *mid = xasprintf(" %s ", cmd);
	const char *line = usage_text;
	int found = 0;

	while (*line) {
		size_t len = strcspn(line, "\n");
		char *l = xstrndup(line, len);
		/* "  CMD ARGS   what", or "mentorctl [-c FILE] CMD ARGS   what" */
		const char *w = strstr(l, "mentorctl ");
		if (w) {
			w += strlen("mentorctl ");
			if (!strncmp(w, "[-c FILE] ", 10))
				w += 10;
			else if (!strncmp(w, "-c FILE ", 8))
				w += 8;
		}
		if (!strncmp(l, pre, strlen(pre)) || (len > 2 && !strcmp(l + 2, cmd)) ||
		    (w && !strncmp(w, mid + 1, strlen(mid) - 1))) {
			puts(l);
			found = 1;
		}
		free(l);
		line += len + (line[len] == '\n');
	}
	free(pre);
	free(mid);
	return found ? 0 : usage();
}

/* audit verify [--head HASH]: the chain, the mailed head in it, the
 * messages as the chain committed to them, and every reference. */
static int
cmd_audit_verify(struct ctx *x, int argc, char **argv)
{
	struct buf err = {0};
	struct audit_check ck;
	char head[65];
	enum mg_status st;

	if (argc != 2 && (argc != 4 || strcmp(argv[2], "--head")))
		return usage();
	if (argc == 4) {
		size_t n = strlen(argv[3]);
		for (size_t i = 0; i < n && n == 64; i++)
			if (!isxdigit((unsigned char)argv[3][i]))
				n = 0;
		if (n != 64) {
			fprintf(stderr, "mentorctl: --head: the 64 hex digits of the mailed hash\n");
			return EX_USAGE;
		}
		for (size_t i = 0; i <= n; i++)
			head[i] = (char)tolower((unsigned char)argv[3][i]);
	}
	st = audit_verify(x->store, argc == 4 ? head : NULL, &ck, &err);
	if (st == MG_OK)
		st = store_refs_check(x->store, &err);
	if (st == MG_OK) {
		printf("audit: %lld rows, the chain is whole; every reference holds\n",
		    (long long)ck.rows);
		printf("audit: %lld messages say what the chain committed to\n",
		    (long long)ck.messages);
		if (ck.head_row)
			printf("audit: the head is row %lld of %lld\n", (long long)ck.head_row,
			    (long long)ck.rows);
	} else if (err.s)
		fputs(err.s, stderr);
	else
		fprintf(stderr, "audit: cannot verify: %s\n", store_errmsg(x->store));
	buf_free(&err);
	return exit_for(st);
}

int
main(int argc, char **argv)
{
	const char *cfgpath = NULL;
	struct ctx x = {0};
	int rc, i = 1;

	umask(077);
	term_old[0] = stdout;
	term_old[1] = stderr;
	stdout = term_open(STDOUT_FILENO, stdout);
	stderr = term_open(STDERR_FILENO, stderr);
	atexit(term_done);
	if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		fputs(usage_text, stdout);
		return 0;
	}
	for (int k = 2; k < argc; k++)
		if (!strcmp(argv[k], "-h") || !strcmp(argv[k], "--help")) {
			int c = !strcmp(argv[1], "-c") ? 3 : 1;
			return c < k ? help_for(argv[c]) : usage();
		}
	if (argc > 1 && !strcmp(argv[1], "extract"))
		return cmd_extract(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "classify"))
		return cmd_classify(argc - 1, argv + 1);
	if (argc > 1 && !strcmp(argv[1], "rules"))
		return cmd_rules(NULL, argc - 1, argv + 1);
	if (argc > 2 && !strcmp(argv[1], "-c")) {
		cfgpath = argv[2];
		i = 3;
	}
	if (!cfgpath || i >= argc)
		return usage();
	argc -= i;
	argv += i;
	if (!strcmp(argv[0], "check")) {
		struct buf errs = {0};
		if (conf_load(cfgpath, &x.conf, &errs) != MG_OK) {
			fputs(errs.s, stderr);
			buf_free(&errs);
			return EX_CONFIG;
		}
		printf("%s: ok\n", cfgpath);
		conf_free(x.conf);
		return 0;
	}
	if (!strcmp(argv[0], "rules") && argc == 4 && !strcmp(argv[1], "replay") &&
	    !strcmp(argv[2], "--days")) {
		char *end;
		long days = strtol(argv[3], &end, 10);
		if (*end || days <= 0)
			return usage();
		if ((rc = open_all(&x, cfgpath)) == 0) {
			if (!x.conf->rules) {
				fprintf(stderr, "mentorctl: %s has no [screening] rules\n", cfgpath);
				rc = EX_CONFIG;
			} else if ((rc = exit_for(replay_rules(x.store, x.conf->rules, (int)days,
			    stdout))) == 0) {
				int missed;	/* and the spot checks' misses */
				rc = exit_for(spotcheck_replay(x.store, x.conf->rules, stdout, &missed));
			}
		}
		goto out;
	}
	if (!strcmp(argv[0], "rules")) {
		struct buf errs = {0};
		if (conf_load(cfgpath, &x.conf, &errs) != MG_OK) {
			fputs(errs.s, stderr);
			buf_free(&errs);
			return EX_CONFIG;
		}
		rc = cmd_rules(x.conf, argc, argv);
		conf_free(x.conf);
		return rc;
	}
	if ((rc = open_all(&x, cfgpath)) != 0)
		goto out;
	if (!strcmp(argv[0], "cohort"))
		rc = cmd_cohort(&x, argc, argv);
	else if (!strcmp(argv[0], "import"))
		rc = cmd_import(&x, argc, argv);
	else if (!strcmp(argv[0], "pair"))
		rc = cmd_pair(&x, argc, argv);
	else if (!strcmp(argv[0], "pairs") && argc == 1)
		rc = exit_for(roster_pairs(x.store, print_pair, x.conf));
	else if (!strcmp(argv[0], "thread"))
		rc = cmd_thread(&x, argc, argv);
	else if (!strcmp(argv[0], "messages") && argc <= 2)
		rc = argc == 2 && strcmp(argv[1], "--held") ? usage() :
		    exit_for(store_messages(x.store, 0, argc == 2 ? "held" : NULL, print_summary, NULL));
	else if (!strcmp(argv[0], "outbox") && argc <= 2)
		rc = argc == 2 && strcmp(argv[1], "--pending") ? usage() :
		    exit_for(outbox_list(x.store, argc == 2));
	else if (!strcmp(argv[0], "erase") && argc == 4 && !strcmp(argv[2], "--reason"))
		rc = cmd_erase(&x, argv[1], argv[3]);
	else if (!strcmp(argv[0], "report") && (argc == 2 || (argc == 4 && !strcmp(argv[2], "--format")))) {
		const char *f = argc == 4 ? argv[3] : "text";
		int fmt = !strcmp(f, "text") ? REPORT_TEXT : !strcmp(f, "csv") ? REPORT_CSV :
		    !strcmp(f, "html") ? REPORT_HTML : -1;
		if (fmt < 0)
			rc = usage();
		else {
			enum mg_status st = report_write(x.store, x.conf, argv[1], (enum report_format)fmt, stdout);
			if (st == MG_NOTFOUND)
				fprintf(stderr, "mentorctl: no cohort %s\n", argv[1]);
			rc = exit_for(st);
		}
	} else if (!strcmp(argv[0], "survey") && argc == 3 && !strcmp(argv[1], "import")) {
		struct buf err = {0};
		int n;
		enum mg_status st = survey_import(x.store, x.conf, argv[2], &n, &err);
		if (st == MG_OK)
			printf("imported %d survey responses from %s\n", n, argv[2]);
		else
			fputs(err.s ? err.s : "survey import failed\n", stderr);
		buf_free(&err);
		rc = exit_for(st);
	} else if (!strcmp(argv[0], "export"))
		rc = cmd_export(&x, argc, argv);
	else if (!strcmp(argv[0], "hold"))
		rc = cmd_hold(&x, argc, argv);
	else if (!strcmp(argv[0], "spotcheck") && argc == 2 && !strcmp(argv[1], "list"))
		rc = exit_for(spotcheck_list(x.store, stdout));
	else if (!strcmp(argv[0], "bounces") && argc == 1)
		rc = exit_for(bounce_list(x.store));
	else if (!strcmp(argv[0], "audit") && argc >= 2 && !strcmp(argv[1], "verify"))
		rc = cmd_audit_verify(&x, argc, argv);
	else if (!strcmp(argv[0], "resume") && argc == 2) {
		enum mg_status st = store_begin(x.store);
		char *actor = xasprintf("shell:%s", getenv("USER") ? getenv("USER") : "unknown");
		if (st == MG_OK) {
			if ((st = roster_resume(x.store, argv[1])) == MG_OK &&
			    (st = audit_append(x.store, "resumed", 0, 0, actor, argv[1])) == MG_OK)
				st = store_commit(x.store);
			else
				store_rollback(x.store);
		}
		if (st == MG_OK) {
			/* what was held only for the pause goes now */
			struct buf err = {0};
			int released;
			printf("relay to %s resumed\n", argv[1]);
			st = moderate_release_paused(x.store, x.conf, argv[1], actor, &released, &err);
			printf("%d held message%s released\n", released, released == 1 ? "" : "s");
			if (err.s)
				fprintf(stderr, "mentorctl: %s", err.s);
			buf_free(&err);
		} else
			fprintf(stderr, "mentorctl: %s: %s\n", argv[1], mg_strerror(st));
		free(actor);
		rc = exit_for(st);
	} else
		rc = usage();
out:
	store_close(x.store);
	conf_free(x.conf);
	return rc;
}
