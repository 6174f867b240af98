/* libFuzzer target: the spoken view and the shipped rules over any text. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

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
	free(h);
	return 0;
}
