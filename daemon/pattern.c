/* pattern: compile once (twice: see struct pattern), match with a
 * per-thread match block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg.h"
#include "pattern.h"

#define FLAGS (PCRE2_UTF | PCRE2_CASELESS | PCRE2_MATCH_INVALID_UTF)

/* Each pattern is compiled with Unicode properties (\d, \w, \b, \s and
 * caseless over all of Unicode) and without.  On ASCII text the two match
 * alike, and there the second is what runs: the JIT's Unicode \b and \d
 * cost up to ten times as much, and most mail is ASCII. */
struct pattern {
	pcre2_code *ucp, *ascii;
};

static _Thread_local pcre2_match_data *md;	/* one per thread, kept */
static _Thread_local pcre2_match_context *mc;

static pcre2_code *
compile(const char *src, uint32_t flags, int *code, PCRE2_SIZE *off)
{
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, flags, code, off,
	    NULL);

	if (re)
		pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
}

struct pattern *
pattern_compile_one(const char *src, uint32_t extra, char *err, size_t errlen)
{
	struct pattern *p;
	pcre2_code *ucp, *ascii;
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	int code;

	if (!(ucp = compile(src, FLAGS | PCRE2_UCP | extra, &code, &off))) {
		pcre2_get_error_message(code, msg, sizeof msg);
		snprintf(err, errlen, "%s at offset %zu", (char *)msg, (size_t)off);
		return NULL;
	}
	if (!(ascii = compile(src, FLAGS | extra, &code, &off))) {
		pcre2_code_free(ucp);	/* (cannot happen: only UCP adds meaning) */
		snprintf(err, errlen, "does not compile without Unicode properties");
		return NULL;
	}
	p = xmalloc(sizeof *p);
	p->ucp = ucp;
	p->ascii = ascii;
	return p;
}

void
pattern_compile(struct pattern **out, const char *const *src, size_t n, uint32_t extra)
{
	char err[200];

	for (size_t i = 0; i < n; i++)
		if (!(out[i] = pattern_compile_one(src[i], extra, err, sizeof err))) {
			fprintf(stderr, "pattern %zu does not compile: %s\n", i, err);
			abort();
		}
}

void
pattern_free(struct pattern *p)
{
	if (!p)
		return;
	pcre2_code_free(p->ucp);
	pcre2_code_free(p->ascii);
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
pattern_find(const struct pattern *p, const char *s, size_t n, size_t off, size_t *a, size_t *b,
    size_t group[2])
{
	return pattern_find_in(p, s, n, off, s && pattern_ascii(s, n), a, b, group);
}

int
pattern_find_in(const struct pattern *p, const char *s, size_t n, size_t off, int ascii, size_t *a,
    size_t *b, size_t group[2])
{
	PCRE2_SIZE *ov;
	int rc;

	if (!md) {
		if (!(md = pcre2_match_data_create(2, NULL)) || !(mc = pcre2_match_context_create(NULL)))
			abort();
		pcre2_set_match_limit(mc, 1000000);	/* no text may stall us */
	}
	if (!s)
		return 0;
	if ((rc = pcre2_match(ascii ? p->ascii : p->ucp, (PCRE2_SPTR)s, n, off, 0, md,
	    mc)) < 0)
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
