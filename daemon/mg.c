/* Small shared helpers: allocation that aborts on exhaustion (a crash is
 * harmless by design: every step is idempotent), a string buffer, the clock. */
#include <ctype.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <sys/random.h>

#include "mg.h"

static const char *const names[] = {
	[MG_OK] = "ok", [MG_TEMPFAIL] = "temporary failure",
	[MG_CONNFAIL] = "connection failure", [MG_PERMFAIL] = "permanent failure",
	[MG_BADINPUT] = "bad input", [MG_BADCONF] = "bad configuration",
	[MG_DENIED] = "denied", [MG_DUPLICATE] = "duplicate",
	[MG_NOTFOUND] = "not found", [MG_INTERNAL] = "internal error",
};

const char *
mg_strerror(enum mg_status st)
{
	if ((unsigned)st < sizeof names / sizeof names[0] && names[st])
		return names[st];
	return "unknown status";
}

static void
oom(void)
{
	static const char msg[] = "mentorgate: out of memory\n";
	if (write(2, msg, sizeof msg - 1) < 0) {}
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *
xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);
	if (!p)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *
xpush(void *p, size_t n, size_t size)
{
	if (n & (n - 1))
		return p;	/* not a power of two: there is room */
	if (n > SIZE_MAX / 2 / size)
		oom();
	return xrealloc(p, (n ? 2 * n : 1) * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = 0;
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	struct buf b = {0};
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return buf_steal(&b);
}

static void
grow(struct buf *b, size_t more)
{
	if (more >= SIZE_MAX / 2 - b->len)
		oom();	/* no size wraps round to a small one */
	if (b->s && b->len + more + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + more + 1)
		cap *= 2;
	b->s = xrealloc(b->s, cap);
	b->cap = cap;
}

void
buf_add(struct buf *b, const void *p, size_t n)
{
	grow(b, n);
	if (n)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = 0;
}

void
uids_add(struct uids *u, const uint32_t *v, size_t n)
{
	if (u->n + n > u->cap) {
		u->cap = u->n + n > 2 * u->cap ? u->n + n : 2 * u->cap;
		u->v = xrealloc(u->v, u->cap * sizeof *u->v);
	}
	if (n)
		memcpy(u->v + u->n, v, n * sizeof *v);
	u->n += n;
}

char *
mg_oneline(char *s)
{
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return s;
}

void
mg_hex(const unsigned char *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = 0;
}

int
uids_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

void
buf_adds(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_addc(struct buf *b, char c)
{
	if (b->len + 2 > b->cap)
		grow(b, 1);
	b->s[b->len++] = c;
	b->s[b->len] = 0;
}

void
buf_vprintf(struct buf *b, const char *fmt, va_list ap)
{
	va_list again;
	int n;

	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	if (n < 0)
		oom();
	grow(b, (size_t)n);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, again);
	va_end(again);
	b->len += (size_t)n;
}

void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(b, fmt, ap);
	va_end(ap);
}

char *
buf_steal(struct buf *b)
{
	char *s = b->s ? b->s : xstrdup("");
	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void
buf_free(struct buf *b)
{
	free(b->s);
	b->s = NULL;
	b->len = b->cap = 0;
}

int
mg_now_valid(const char *e)
{
	struct tm tm;
	char *end;

	if (!e || !*e)
		return 0;
	strtoll(e, &end, 10);
	if (*end == 0)
		return 1;
	memset(&tm, 0, sizeof tm);
	end = strptime(e, "%Y-%m-%dT%H:%M:%S", &tm);
	return end && (*end == 'Z' || *end == 0);
}

static pthread_once_t now_once = PTHREAD_ONCE_INIT;
static const char *now_env;

static void
now_init(void)
{
	now_env = getenv("MENTORGATE_NOW");
}

/* (The override is read once: calendar switches TZ with setenv, which no
 * getenv on another thread may meet.) */
int64_t
mg_now(void)
{
	const char *e;
	struct tm tm;

	pthread_once(&now_once, now_init);
	e = now_env;
	if (e && *e) {
		char *end;
		long long v = strtoll(e, &end, 10);
		if (*end == 0)
			return v;
		memset(&tm, 0, sizeof tm);
		end = strptime(e, "%Y-%m-%dT%H:%M:%S", &tm);
		if (end && (*end == 'Z' || *end == 0))
			return (int64_t)timegm(&tm);
	}
	return (int64_t)time(NULL);
}

char *
mg_lower(const char *s)
{
	char *p = xstrdup(s);
	for (char *q = p; *q; q++)
		*q = (char)tolower((unsigned char)*q);
	return p;
}

int
mg_has_crlf(const char *s)
{
	return s && strpbrk(s, "\r\n") != NULL;
}

void
mg_crashpoint(const char *what)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;	/* the reader's moves too */
	static long count, at = -1;
	static char name[32];
	const char *e, *colon;

	pthread_mutex_lock(&mu);
	if (at < 0) {
		e = getenv("MENTORGATE_CRASH_AT");
		at = 0;
		if (e && (colon = strchr(e, ':')) && (size_t)(colon - e) < sizeof name) {
			memcpy(name, e, (size_t)(colon - e));	/* "NAME:N": N-th such step */
			at = atol(colon + 1);
		} else if (e)
			at = atol(e);				/* "N": N-th step of any kind */
	}
	if (at <= 0 || (*name && strcmp(name, what))) {
		pthread_mutex_unlock(&mu);
		return;
	}
	if (++count == at) {
		/* MENTORGATE_CRASH_SIGNAL=TERM: a polite stop at that step
		 * instead; STOP: a pause there, until SIGCONT */
		const char *sig = getenv("MENTORGATE_CRASH_SIGNAL");
		int term = sig && !strcmp(sig, "TERM"), stop = sig && !strcmp(sig, "STOP");
		fprintf(stderr, "crashpoint %ld %s%s\n", count, what,
		    term ? " (SIGTERM)" : stop ? " (SIGSTOP)" : "");
		if (term)	/* as if it arrived this instant: the signal itself
				 * reaches the main thread a little later */
			mg_request_stop();
		kill(getpid(), term ? SIGTERM : stop ? SIGSTOP : SIGKILL);
	}
	pthread_mutex_unlock(&mu);
}

void
mg_random_token(char *out, size_t n)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	unsigned char r[64];
	size_t got = 0, want = n - 1 < sizeof r ? n - 1 : sizeof r;

	while (got < want) {
		ssize_t k = getrandom(r + got, want - got, 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			abort();	/* never mint guessable tokens */
		}
		got += (size_t)k;
	}
	for (size_t i = 0; i < want; i++)
		out[i] = alphabet[r[i] & 31];
	out[want] = 0;
}

char *
mg_read_all(FILE *f, size_t *len)
{
	struct buf b = {0};
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	if (ferror(f)) {
		buf_free(&b);
		return NULL;
	}
	*len = b.len;
	return b.s ? buf_steal(&b) : xstrdup("");
}

/* set in a signal handler, read on every thread: a lock-free atomic */
static atomic_int stop_requested;

void
mg_request_stop(void)
{
	atomic_store(&stop_requested, 1);
}

int
mg_stop_requested(void)
{
	return atomic_load(&stop_requested);
}

int64_t
mg_backoff_ms(int failures, int64_t cap_ms, uint32_t rnd)
{
	int64_t d = 1000;

	for (int i = 1; i < failures && d < cap_ms; i++)
		d *= 2;
	if (d > cap_ms)
		d = cap_ms;
	return d / 2 + (int64_t)(rnd % (uint32_t)(d / 2 + 1));
}

int64_t
mg_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct timespec
mg_deadline(int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += ms % 1000 * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

double
mg_thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
