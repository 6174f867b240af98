/* libFuzzer target: the spoken view and the shipped rules over any text;
 * with the prefilter, screening finds exactly what it finds without. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "screen.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct rules *rs;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct screen_hit *h;
	size_t *map, n;
	char *v;

	if (!rs) {
		struct buf errs = {0};
		const char *dir = getenv("MENTORGATE_RULES") ? getenv("MENTORGATE_RULES") : "conf/rules";
		if (rules_load(dir, &rs, &errs) != MG_OK)
			abort();	/* run from the source tree */
		buf_free(&errs);
	}
	v = screen_spoken((const char *)data, size, &map, &n);
	for (size_t i = 0; i <= n; i++)
		if (map[i] > size)
			abort();	/* every view byte maps into the text */
	free(v);
	free(map);
	n = screen_text(rs, (const char *)data, size, &h);
	for (size_t i = 0; i < n; i++)
		if (h[i].start > h[i].end || h[i].end > size)
			abort();
	struct prefilter *pf = rs->pf;
	struct screen_hit *all;
	rs->pf = NULL;
	size_t nall = screen_text(rs, (const char *)data, size, &all);
	rs->pf = pf;
	if (nall != n || (n && memcmp(h, all, n * sizeof *h)))
		abort();	/* the prefilter skipped a pattern that matches */
	free(all);
	free(h);
	return 0;
}
