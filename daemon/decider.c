/* decider: the coordinators (or safeguarding addresses) a hold may reach. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "decider.h"
#include "mg.h"
#include "store_p.h"

/* everyone the message concerns: its pair's people (outside a pair, those
 * of its author's pairs), its author, recipient and sender */
static const char q_involved[] =
	"SELECT lower(p.email) FROM messages m JOIN pairs pr ON pr.id = m.pair_id"
	"  OR (m.pair_id IS NULL AND m.author_id IN (pr.mentee_id, pr.mentor_id))"
	" JOIN participants p ON p.id IN (pr.mentee_id, pr.mentor_id) WHERE m.id = ?1"
	" UNION SELECT lower(p.email) FROM messages m JOIN participants p"
	"  ON p.id IN (m.author_id, m.recipient_id) WHERE m.id = ?1"
	" UNION SELECT lower(from_addr) FROM messages WHERE id = ?1 AND from_addr IS NOT NULL";

static void
pick(struct deciders *d, char *const *list, size_t n, char **out, size_t nout)
{
	for (size_t i = 0; i < n; i++) {
		if (conf_listed(out, nout, list[i]))
			continue;
		d->v = xrealloc(d->v, (d->n + 1) * sizeof *d->v);
		d->v[d->n++] = list[i];
	}
}

/* The addresses message concerns (lower-case); *n of them. */
static enum mg_status
involved(struct store *s, int64_t message, char ***out, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, q_involved);
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, message);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) == SQLITE_NULL)
			continue;
		*out = xrealloc(*out, (*n + 1) * sizeof **out);
		(*out)[(*n)++] = store_col_text(st, 0);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MG_OK : store_status(rc);
}

static void
free_list(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

enum mg_status
decider_list(struct store *s, const struct conf *c, int64_t message, struct deciders *d)
{
	char **out;
	size_t nout;
	enum mg_status rc = involved(s, message, &out, &nout);

	memset(d, 0, sizeof *d);
	if (rc == MG_OK) {
		pick(d, c->coordinators, c->ncoordinators, out, nout);
		if (!d->n) {
			d->safeguarding = 1;
			pick(d, c->safeguarding, c->nsafeguarding, out, nout);
		}
	}
	free_list(out, nout);
	return rc;
}

int
decider_concerns(struct store *s, int64_t message, const char *addr)
{
	char **out;
	size_t nout;
	int yes = involved(s, message, &out, &nout) != MG_OK;

	for (size_t i = 0; i < nout && !yes; i++)
		yes = !strcasecmp(out[i], addr);
	free_list(out, nout);
	return yes;
}

int
decider_has(const struct deciders *d, const char *addr)
{
	for (size_t i = 0; i < d->n; i++)
		if (!strcasecmp(d->v[i], addr))
			return 1;
	return 0;
}

void
decider_clear(struct deciders *d)
{
	free(d->v);
	memset(d, 0, sizeof *d);
}

int
decider_may(const struct conf *c, const char *addr)
{
	return conf_listed(c->coordinators, c->ncoordinators, addr) ||
	    conf_listed(c->safeguarding, c->nsafeguarding, addr);
}
