/* pattern: compile once (twice: see struct pattern), match with a
 * per-thread match block. */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mg.h"
#include "pattern.h"

#define FLAGS (PCRE2_UTF | PCRE2_CASELESS | PCRE2_MATCH_INVALID_UTF)

/* Each pattern is compiled with Unicode properties (\d, \w, \b, \s and
 * caseless over all of Unicode) and without.  On ASCII text the two match
 * alike, and there the second is what runs: Unicode \b and \d cost more,
 * and most mail is ASCII.
 *
 * The daemon's own patterns (reply, classify) run on every message and are
 * JIT-compiled at once.  A rule runs only where the prefilter found what it
 * needs, and JIT code is some fifteen times the size of byte code (28 MB
 * for the shipped rules): a rule's code is interpreted until it has spent
 * HOT_NS in the interpreter, then a JIT-compiled copy takes over, while
 * all rules' JIT code stays within JIT_BUDGET.  On the corpora the 50
 * costliest rules took 93 % of the interpreter's time and 1.2 MB of JIT
 * code (docs/performance.md). */
#define HOT_NS		2000000		/* 2 ms */
#define JIT_BUDGET	(6u << 20)

struct code {
	pcre2_code *re;			/* byte code, always kept */
	pcre2_code *_Atomic run;	/* what matches: re, or its JIT copy */
	_Atomic uint64_t ns;		/* interpreted so far */
	atomic_flag claimed;		/* one thread compiles the copy */
	size_t jit;			/* the copy's JIT size */
	int fixed;			/* JIT-compiled at once (the daemon's own) */
};

struct pattern {
	struct code ucp, ascii;
};

static _Atomic size_t jit_bytes;	/* all rules' JIT code */

static _Thread_local pcre2_match_data *md;	/* one per thread, kept */
static _Thread_local pcre2_match_context *mc;

static pcre2_code *
compile(const char *src, uint32_t flags, int jit, int *code, PCRE2_SIZE *off)
{
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, flags, code, off,
	    NULL);

	if (re && jit)
		pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

static void
code_init(struct code *c, pcre2_code *re, int hot)
{
	c->re = re;
	atomic_init(&c->run, re);
	atomic_init(&c->ns, hot ? HOT_NS : 0);
	atomic_flag_clear(&c->claimed);
	if (hot)
		(void)atomic_flag_test_and_set(&c->claimed);
	c->jit = 0;
	c->fixed = hot;
}

/* c has been interpreted for ns more: JIT a copy once it is hot, if the
 * budget allows.  The copy is published whole; a thread still matching
 * with the byte code finishes with it. */
static void
code_spent(struct code *c, uint64_t ns)
{
	pcre2_code *copy;
	size_t size = 0, had;

	if (atomic_fetch_add(&c->ns, ns) + ns < HOT_NS || atomic_load(&jit_bytes) >= JIT_BUDGET ||
	    atomic_flag_test_and_set(&c->claimed))
		return;
	if (!(copy = pcre2_code_copy(c->re)))
		return;
	if (pcre2_jit_compile(copy, PCRE2_JIT_COMPLETE) != 0 ||
	    pcre2_pattern_info(copy, PCRE2_INFO_JITSIZE, &size) != 0 || !size) {
		pcre2_code_free(copy);	/* no JIT here: stay interpreted */
		return;
	}
	had = atomic_load(&jit_bytes);
	do
		if (had + size > JIT_BUDGET) {
			pcre2_code_free(copy);	/* over budget: stay interpreted */
			return;
		}
	while (!atomic_compare_exchange_weak(&jit_bytes, &had, had + size));
	c->jit = size;
	atomic_store(&c->run, copy);
}

static void
code_free(struct code *c)
{
	pcre2_code *run = atomic_load(&c->run);

	if (run != c->re) {
		atomic_fetch_sub(&jit_bytes, c->jit);
		pcre2_code_free(run);
	}
	pcre2_code_free(c->re);
}

static struct pattern *
compile_both(const char *src, uint32_t extra, int jit, char *err, size_t errlen)
{
	struct pattern *p;
	pcre2_code *ucp, *ascii;
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	int code;

	if (!(ucp = compile(src, FLAGS | PCRE2_UCP | extra, jit, &code, &off))) {
		pcre2_get_error_message(code, msg, sizeof msg);
		snprintf(err, errlen, "%s at offset %zu", (char *)msg, (size_t)off);
		return NULL;
	}
	if (!(ascii = compile(src, FLAGS | extra, jit, &code, &off))) {
		pcre2_code_free(ucp);	/* (cannot happen: only UCP adds meaning) */
		snprintf(err, errlen, "does not compile without Unicode properties");
		return NULL;
	}
	p = xmalloc(sizeof *p);
	code_init(&p->ucp, ucp, jit);
	code_init(&p->ascii, ascii, jit);
	return p;
}

struct pattern *
pattern_compile_one(const char *src, uint32_t extra, char *err, size_t errlen)
{
	return compile_both(src, extra, 0, err, errlen);
}

void
pattern_compile(struct pattern **out, const char *const *src, size_t n, uint32_t extra)
{
	char err[200];

	for (size_t i = 0; i < n; i++)
		if (!(out[i] = compile_both(src[i], extra, 1, err, sizeof err))) {
			fprintf(stderr, "pattern %zu does not compile: %s\n", i, err);
			abort();
		}
}

void
pattern_free(struct pattern *p)
{
	if (!p)
		return;
	code_free(&p->ucp);
	code_free(&p->ascii);
	free(p);
}

void
pattern_thread_end(void)
{
	pcre2_match_data_free(md);
	pcre2_match_context_free(mc);
	md = NULL;
	mc = NULL;
}

size_t
pattern_jit_bytes(void)
{
	return atomic_load(&jit_bytes);
}

int
pattern_ascii(const char *s, size_t n)
{
	uint64_t w, any = 0;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		any |= w;
	}
	for (; i < n; i++)
		any |= (unsigned char)s[i];
	return !(any & 0x8080808080808080ull);
}

int
pattern_find(struct pattern *p, const char *s, size_t n, size_t off, size_t *a, size_t *b,
    size_t group[2])
{
	return pattern_find_in(p, s, n, off, s && pattern_ascii(s, n), a, b, group);
}

int
pattern_find_in(struct pattern *p, const char *s, size_t n, size_t off, int ascii, size_t *a,
    size_t *b, size_t group[2])
{
	struct code *c = ascii ? &p->ascii : &p->ucp;
	pcre2_code *re = atomic_load(&c->run);
	struct timespec t0, t1;
	PCRE2_SIZE *ov;
	int rc;

	if (!md) {
		if (!(md = pcre2_match_data_create(2, NULL)) || !(mc = pcre2_match_context_create(NULL)))
			abort();
		pcre2_set_match_limit(mc, 1000000);	/* no text may stall us */
		pcre2_set_heap_limit(mc, 8192);	/* KiB: nor swell us */
	}
	if (!s)
		return 0;
	if (c->fixed || re != c->re) {
		rc = pcre2_match(re, (PCRE2_SPTR)s, n, off, 0, md, mc);
		/* the JIT counts its match limit its own way, and its stack is
		 * small: what stops it there is the interpreter's to decide */
		if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_JIT_STACKLIMIT)
			rc = pcre2_match(c->re, (PCRE2_SPTR)s, n, off, PCRE2_NO_JIT, md, mc);
	} else {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		rc = pcre2_match(re, (PCRE2_SPTR)s, n, off, 0, md, mc);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		code_spent(c, (uint64_t)((t1.tv_sec - t0.tv_sec) * 1000000000LL + t1.tv_nsec -
		    t0.tv_nsec));
	}
	if (rc < 0)
		return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;	/* -1: the limit, say */
	ov = pcre2_get_ovector_pointer(md);
	if (a)
		*a = ov[0];
	if (b)
		*b = ov[1];
	if (group) {
		if (ov[2] == PCRE2_UNSET)
			return 0;
		group[0] = ov[2];
		group[1] = ov[3];
	}
	return 1;
}
