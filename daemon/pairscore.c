/* pairscore: distinct flag rules per author and pair, over a window. */
#include <stdlib.h>
#include <string.h>

#include "pairscore.h"
#include "store_p.h"

static const char q_signals[] =
	"SELECT DISTINCT f.rule FROM messages m JOIN flags f ON f.message = m.id"
	" WHERE m.pair_id = ?1 AND m.author_id = ?2 AND m.id <> ?3 AND m.received >= ?4"
	" AND f.action = 'flag' ORDER BY f.rule";

static int
add(struct buf *names, const char *rule)
{
	size_t n = strlen(rule);

	for (const char *p = names->s; p && (p = strstr(p, rule)); p += n)
		if ((p == names->s || p[-1] == ' ') && (p[n] == 0 || p[n] == ','))
			return 0;
	buf_adds(names, names->len ? ", " : "");
	buf_adds(names, rule);
	return 1;
}

/* count plus the distinct flag rules author set off in pair lately, not
 * in names already */
static int
past(sqlite3_stmt *st, int64_t pair, int64_t author, int64_t self, struct buf *names, int count)
{
	int rc;

	sqlite3_bind_int64(st, 1, pair);
	sqlite3_bind_int64(st, 2, author);
	sqlite3_bind_int64(st, 3, self);
	sqlite3_bind_int64(st, 4, mg_now() - (int64_t)PAIRSCORE_DAYS * 86400);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		count += add(names, (const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? count : -1;
}

int
pairscore_signals(struct store *s, int64_t pair, int64_t author, int64_t self,
    const struct screen_hit *hits, size_t n, struct buf *names)
{
	sqlite3_stmt *st = store_stmt(s, q_signals);
	int count = 0;

	if (!st)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (hits[i].rule->action == RULE_FLAG)
			count += add(names, hits[i].rule->name);
	if (!count)
		return 0;	/* nothing new: the count stands where it was */
	return past(st, pair, author, self, names, count);
}

int
pairscore_past(struct store *s, int64_t pair, int64_t author, int64_t self)
{
	sqlite3_stmt *st = store_stmt(s, q_signals);
	struct buf names = {0};
	int count = st ? past(st, pair, author, self, &names, 0) : -1;

	buf_free(&names);
	return count;
}
