/* replay: flags gained and lost per category under the current rules. */
#include <stdlib.h>
#include <string.h>

#include "mime.h"
#include "replay.h"
#include "screen.h"
#include "store_p.h"

#define NCAT 8
static const char *const cats[NCAT] = {
	"contact-phone", "contact-email", "social", "address", "meeting", "money", "risk", "abuse",
};

static const char q_messages[] =
	"SELECT m.id, r.raw FROM messages m JOIN message_raw r ON r.id = m.id"
	" WHERE m.author_id IS NOT NULL AND m.received >= ?1 ORDER BY m.id";
static const char q_flags[] = "SELECT DISTINCT category FROM flags WHERE message = ?1";

static int
cat_index(const char *c)
{
	for (int i = 0; i < NCAT; i++)
		if (!strcmp(cats[i], c))
			return i;
	return -1;
}

enum mg_status
replay_rules(struct store *s, const struct rules *rs, int days, FILE *out)
{
	sqlite3_stmt *st = store_stmt(s, q_messages), *fl;
	int now_n[NCAT] = {0}, before_n[NCAT] = {0}, gained[NCAT] = {0}, lost[NCAT] = {0};
	int r, count = 0;
	struct buf changes = {0};

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, mg_now() - (int64_t)days * 86400);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(st, 0);
		int now[NCAT] = {0}, before[NCAT] = {0};
		struct mime_msg *m = mime_parse(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1));
		char *text = screen_message_text(m);
		struct screen_hit *h;
		size_t n = screen_text(rs, text, strlen(text), &h);

		for (size_t i = 0; i < n; i++) {
			int c = cat_index(h[i].rule->category);
			if (c >= 0)
				now[c] = 1;
		}
		free(h);
		free(text);
		mime_free(m);
		if (!(fl = store_stmt(s, q_flags)))
			break;
		sqlite3_bind_int64(fl, 1, id);
		while (sqlite3_step(fl) == SQLITE_ROW) {
			int c = cat_index((const char *)sqlite3_column_text(fl, 0));
			if (c >= 0)
				before[c] = 1;
		}
		sqlite3_reset(fl);
		for (int c = 0; c < NCAT; c++) {
			now_n[c] += now[c];
			before_n[c] += before[c];
			if (now[c] != before[c]) {
				(now[c] ? gained : lost)[c]++;
				buf_printf(&changes, "message %lld: %s %s\n", (long long)id,
				    now[c] ? "gains" : "loses", cats[c]);
			}
		}
		count++;
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return store_status(r);
	fprintf(out, "rules replay: %d messages from the last %d days (nothing is changed)\n", count, days);
	fprintf(out, "%-14s %6s %7s %7s %5s\n", "category", "now", "before", "gained", "lost");
	for (int c = 0; c < NCAT; c++)
		fprintf(out, "%-14s %6d %7d %7d %5d\n", cats[c], now_n[c], before_n[c], gained[c], lost[c]);
	if (changes.len)
		fputs(changes.s, out);
	buf_free(&changes);
	return MG_OK;
}
