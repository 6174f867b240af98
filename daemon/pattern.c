/* pattern: compile once, match with a per-thread match block. */
#include <stdio.h>
#include <stdlib.h>

#include "pattern.h"

static _Thread_local pcre2_match_data *md;	/* one per thread, kept */
static _Thread_local pcre2_match_context *mc;

void
pattern_compile(pcre2_code **out, const char *const *src, size_t n, uint32_t extra)
{
	int err;
	PCRE2_SIZE off;

	for (size_t i = 0; i < n; i++) {
		out[i] = pcre2_compile((PCRE2_SPTR)src[i], PCRE2_ZERO_TERMINATED,
		    PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_MATCH_INVALID_UTF | extra,
		    &err, &off, NULL);
		if (!out[i]) {
			PCRE2_UCHAR msg[160];
			pcre2_get_error_message(err, msg, sizeof msg);
			fprintf(stderr, "pattern %zu does not compile at %zu: %s\n", i, (size_t)off,
			    (char *)msg);
			abort();
		}
		pcre2_jit_compile(out[i], PCRE2_JIT_COMPLETE);
	}
}

pcre2_code *
pattern_compile_one(const char *src, uint32_t extra, char *err, size_t errlen)
{
	pcre2_code *re;
	PCRE2_UCHAR msg[160];
	PCRE2_SIZE off;
	int code;

	re = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_UCP | PCRE2_CASELESS | PCRE2_MATCH_INVALID_UTF | extra, &code, &off,
	    NULL);
	if (!re) {
		pcre2_get_error_message(code, msg, sizeof msg);
		snprintf(err, errlen, "%s at offset %zu", (char *)msg, (size_t)off);
		return NULL;
	}
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	return re;
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
pattern_find(const pcre2_code *re, const char *s, size_t n, size_t off, size_t *a, size_t *b,
    size_t group[2])
{
	PCRE2_SIZE *ov;

	if (!md) {
		if (!(md = pcre2_match_data_create(2, NULL)) || !(mc = pcre2_match_context_create(NULL)))
			abort();
		pcre2_set_match_limit(mc, 1000000);	/* no text may stall us */
	}
	if (!s || pcre2_match(re, (PCRE2_SPTR)s, n, off, 0, md, mc) < 0)
		return 0;
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
