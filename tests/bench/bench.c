/* Benchmark: normalisation + reply extraction in one process.
 *   bench eml|text|screen LISTFILE [MIN_SECONDS [RULES_DIR]]
 * LISTFILE names one input per line.  eml: raw messages through mime_parse
 * and reply_extract; text: bodies through reply_extract alone; screen: raw
 * messages through mime_parse and screening as the relay does it
 * (screen_message_text, then every rule of RULES_DIR).  Repeats
 * whole passes until MIN_SECONDS (default 2) have gone by, then prints
 *   messages=N seconds=S rate=R max_ms=M
 * where max_ms is the slowest single message seen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mg.h"
#include "mime.h"
#include "reply.h"
#include "rules.h"
#include "screen.h"

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
load(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *s;

	if (!f)
		return NULL;
	s = mg_read_all(f, len);
	fclose(f);
	return s;
}

int
main(int argc, char **argv)
{
	char line[4096], **data = NULL;
	size_t *lens = NULL, n = 0, done = 0;
	double min = argc > 3 ? atof(argv[3]) : 2.0, start, t0, t, worst = 0;
	int eml, scr;
	FILE *list;
	struct rules *rs = NULL;
	struct buf errs = {0};

	if (argc < 3 || (strcmp(argv[1], "eml") && strcmp(argv[1], "text") &&
	    strcmp(argv[1], "screen")) || !(list = fopen(argv[2], "r"))) {
		fprintf(stderr, "usage: bench eml|text|screen LISTFILE [MIN_SECONDS [RULES_DIR]]\n");
		return 64;
	}
	eml = !strcmp(argv[1], "eml");
	scr = !strcmp(argv[1], "screen");
	if (scr && rules_load(argc > 4 ? argv[4] : "conf/rules", &rs, &errs) != MG_OK) {
		fprintf(stderr, "%s", errs.s ? errs.s : "rules do not load\n");
		return 78;
	}
	while (fgets(line, sizeof line, list)) {
		line[strcspn(line, "\n")] = 0;
		data = xrealloc(data, (n + 1) * sizeof *data);
		lens = xrealloc(lens, (n + 1) * sizeof *lens);
		if ((data[n] = load(line, &lens[n])))
			n++;
	}
	fclose(list);
	if (!n)
		return 66;
	start = now();
	do {
		for (size_t i = 0; i < n; i++) {
			t0 = now();
			if (scr) {
				struct mime_msg *m = mime_parse(data[i], lens[i]);
				char *text = screen_message_text(m);
				struct screen_hit *h;
				screen_text_checked(rs, text, strlen(text), &h, NULL);
				free(h);
				free(text);
				mime_free(m);
			} else if (eml) {
				struct mime_msg *m = mime_parse(data[i], lens[i]);
				free(reply_extract(m->text ? m->text : "", m->text ? strlen(m->text) : 0));
				mime_free(m);
			} else
				free(reply_extract(data[i], lens[i]));
			if ((t = now() - t0) > worst)
				worst = t;
		}
		done += n;
	} while (now() - start < min);
	t = now() - start;
	printf("messages=%zu seconds=%.3f rate=%.0f max_ms=%.3f\n", done, t, (double)done / t,
	    worst * 1000);
	for (size_t i = 0; i < n; i++)
		free(data[i]);
	free(data);
	free(lens);
	rules_free(rs);
	return 0;
}
