/* libFuzzer target: the prefilter's reading of a pattern.  Input: a
 * pattern, a NUL, a text.  Whatever PCRE2 finds in the text, the prefilter
 * must name the pattern a candidate for it. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mg.h"
#include "pattern.h"
#include "prefilter.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nul = memchr(data, 0, size);
	char err[200], *src;
	const char *text;
	size_t tlen;
	struct pattern *re;

	if (!nul)
		return 0;
	src = xstrndup((const char *)data, (size_t)(nul - (const char *)data));
	text = nul + 1;
	tlen = size - (size_t)(nul - (const char *)data) - 1;
	free(prefilter_describe(src));	/* any string: no crash */
	if ((re = pattern_compile_one(src, 0, err, sizeof err))) {
		struct prefilter *pf = prefilter_new();
		uint64_t cand[1];
		prefilter_add(pf, src);
		prefilter_scan(pf, text, tlen, cand);
		if (pattern_find(re, text, tlen, 0, NULL, NULL, NULL) > 0 && !(cand[0] & 1)) {
			char *lits = prefilter_describe(src);
			fprintf(stderr, "%s matches, but needs %s\n", src, lits ? lits : "(none)");
			abort();	/* a match the prefilter ruled out */
		}
		prefilter_free(pf);
		pattern_free(re);
	}
	free(src);
	return 0;
}
