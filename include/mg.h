/* mg: status codes, allocators that abort on exhaustion, a growable buffer. */
#ifndef MG_H
#define MG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Graded by what the caller does next. */
enum mg_status {
	MG_OK = 0,
	MG_TEMPFAIL,	/* retry later, nothing lost (4xx, SQLITE_BUSY/FULL, I/O) */
	MG_CONNFAIL,	/* server gone: end this pass, back off the server */
	MG_PERMFAIL,	/* never succeeds as is (5xx) */
	MG_BADINPUT,	/* malformed mail, CSV or template */
	MG_BADCONF,	/* configuration error; detail names file:line */
	MG_DENIED,
	MG_DUPLICATE,	/* already done: treat as success */
	MG_NOTFOUND,
	MG_INTERNAL	/* a bug: log it, stop work on this item */
};

const char *mg_strerror(enum mg_status);

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
/* Room for element n of an array of n that only ever grows by xpush: it
 * doubles when n is zero or a power of two (one realloc a push costs a
 * sanitizer build a copy and an mmap each). */
void *xpush(void *, size_t n, size_t size);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
/* printf into a fresh string; caller frees. */
char *xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/* Growable byte buffer, always NUL-terminated.  Zero-initialise it. */
struct buf {
	char *s;
	size_t len, cap;
};

/* A growing array of IMAP UIDs. */
struct uids {
	uint32_t *v;
	size_t n, cap;
};
void uids_add(struct uids *, const uint32_t *, size_t);
/* Control characters (CR, LF, tab, DEL ...) to spaces, in place: one
 * plain line; s returned. */
char *mg_oneline(char *s);
/* n bytes as 2n lower-case hex digits and a NUL. */
void mg_hex(const unsigned char *in, size_t n, char *out);
/* qsort/bsearch order of uint32_t UIDs */
int uids_cmp(const void *, const void *);
void buf_add(struct buf *, const void *, size_t);
void buf_adds(struct buf *, const char *);
void buf_addc(struct buf *, char);
void buf_printf(struct buf *, const char *, ...) __attribute__((format(printf, 2, 3)));
void buf_vprintf(struct buf *, const char *, va_list);
/* Hand the string to the caller (who frees it); the buffer is left empty. */
char *buf_steal(struct buf *);
void buf_free(struct buf *);

/* The rest of stream f, NUL-terminated (*len without the NUL); NULL on a
 * read error.  Caller frees. */
char *mg_read_all(FILE *f, size_t *len);

/* Seconds since the epoch; MENTORGATE_NOW (epoch seconds or
 * YYYY-MM-DDTHH:MM:SSZ) overrides it for tests and demos. */
int64_t mg_now(void);
/* Is s a time mg_now understands? */
int mg_now_valid(const char *s);

/* Milliseconds to wait before reconnect attempt number failures (1, 2,
 * ...): doubling from one second, capped at cap_ms, each drawn uniformly
 * from its upper half (jitter) using rnd. */
int64_t mg_backoff_ms(int failures, int64_t cap_ms, uint32_t rnd);
/* A monotonic clock in milliseconds. */
int64_t mg_mono_ms(void);
/* The CLOCK_REALTIME instant ms from now: a pthread_cond_timedwait deadline. */
struct timespec mg_deadline(int64_t ms);
/* CPU seconds the calling thread has used. */
double mg_thread_cpu(void);

/* A stop was asked for (SIGTERM): long loops finish the item in hand and
 * return.  mg_request_stop is async-signal-safe. */
void mg_request_stop(void);
int mg_stop_requested(void);

/* Lower-case ASCII copy; caller frees. */
char *mg_lower(const char *);
/* Does s contain CR, LF or NUL within n bytes (or a CR/LF anywhere in a C string)? */
int mg_has_crlf(const char *);
/* n-1 random characters from [a-z2-7] (5 bits each) and a NUL, from getrandom. */
void mg_random_token(char *out, size_t n);
/* Test-only crash injection: MENTORGATE_CRASH_AT=N kills the process with
 * SIGKILL at its N-th durable step; MENTORGATE_CRASH_AT=NAME:N at the N-th
 * step called NAME ("stored", "relayed", "held", "imap moved",
 * "outbox claimed", "outbox sent").  With MENTORGATE_CRASH_SIGNAL=TERM the
 * process requests a stop and sends itself SIGTERM there instead (a stop
 * in mid-work, as if the signal arrived that instant); with
 * STOP, SIGSTOP (a pause there, for a test to change the world, until
 * SIGCONT).  Thread-safe. */
void mg_crashpoint(const char *what);

#endif
