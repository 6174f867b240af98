/* Cohorts, participants and pairs.  Tokens are 16 base32 characters from
 * getrandom (80 bits): unguessable, and safe in the local part of an address. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "calendar.h"
#include "dname.h"
#include "roster.h"
#include "store_p.h"

void
roster_person_clear(struct roster_person *p)
{
	free(p->role);
	free(p->name);
	free(p->email);
	free(p->segment);
	free(p->first);
	memset(p, 0, sizeof *p);
}

void
roster_pair_clear(struct roster_pair *p)
{
	free(p->state);
	free(p->to_mentor_token);
	free(p->to_mentee_token);
	roster_person_clear(&p->mentee);
	roster_person_clear(&p->mentor);
	memset(p, 0, sizeof *p);
}

static int
valid_date(const char *s)
{
	struct tm tm = {0};
	char *end;

	if (strlen(s) != 10)
		return 0;
	end = strptime(s, "%Y-%m-%d", &tm);
	return end && *end == 0;
}

static const char q_cohort_add[] =
	"INSERT INTO cohorts(name, start_date, weeks, created) VALUES (?1, ?2, ?3, ?4)";

enum mg_status
roster_cohort_add(struct store *s, const char *name, const char *start, int weeks,
    int64_t *id, struct buf *err)
{
	sqlite3_stmt *st;
	enum mg_status rc;

	if (!*name || mg_has_crlf(name)) {
		buf_printf(err, "cohort name must be a non-empty single line");
		return MG_BADINPUT;
	}
	if (!valid_date(start)) {
		buf_printf(err, "start '%s' is not a date YYYY-MM-DD", start);
		return MG_BADINPUT;
	}
	if (weeks < 1 || weeks > 520) {
		buf_printf(err, "weeks must be 1..520");
		return MG_BADINPUT;
	}
	if (!(st = store_stmt(s, q_cohort_add)))
		return MG_INTERNAL;
	store_bind_text(st, 1, name);
	store_bind_text(st, 2, start);
	sqlite3_bind_int(st, 3, weeks);
	sqlite3_bind_int64(st, 4, mg_now());
	rc = store_exec(st);
	if (rc == MG_DUPLICATE)
		buf_printf(err, "cohort '%s' exists already", name);
	else if (rc != MG_OK)
		buf_printf(err, "%s", store_errmsg(s));
	else
		*id = sqlite3_last_insert_rowid(sqlite3_db_handle(st));
	return rc;
}

/* --- CSV import --------------------------------------------------------- */

/* Split one CSV record (RFC 4180 quoting, no line breaks inside fields) into
 * at most max fields, in place.  Returns the count, or -1 on bad quoting. */
static int
csv_split(char *line, char **f, int max)
{
	int n = 0;
	char *r = line, *w;

	for (;;) {
		if (n == max)
			return -1;
		while (*r == ' ' || *r == '\t')
			r++;
		f[n++] = w = r;
		if (*r == '"') {
			f[n - 1] = w = ++r;
			for (;;) {
				if (!*r)
					return -1;
				if (*r == '"' && r[1] == '"') {
					*w++ = '"';
					r += 2;
				} else if (*r == '"') {
					r++;
					break;
				} else
					*w++ = *r++;
			}
			while (*r == ' ' || *r == '\t')
				r++;
			if (*r && *r != ',')
				return -1;
		} else {
			while (*r && *r != ',')
				*w++ = *r++;
			while (w > f[n - 1] && (w[-1] == ' ' || w[-1] == '\t'))
				w--;
		}
		if (!*r) {
			*w = 0;
			return n;
		}
		r++;
		*w = 0;
	}
}

static int
has_ctl(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

int
roster_born(const char *b, int64_t now)
{
	static const char shape[] = "dddd-dd-dd";
	size_t n = strlen(b);
	int y, m = 1, d = 1;

	if (n != 4 && n != 7 && n != 10)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (shape[i] == 'd' ? !isdigit((unsigned char)b[i]) : b[i] != '-')
			return -1;
	y = atoi(b);
	if (n >= 7)
		m = atoi(b + 5);
	if (n == 10)
		d = atoi(b + 8);
	if (y < 1900 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	if (y * 10000 + m * 100 + d > cal_ymd(NULL, now))
		return -1;	/* begins after today */
	return y * 10000 + (n == 4 ? 1231 : n == 7 ? m * 100 + 31 : m * 100 + d);
}

static const char q_cohort_id[] = "SELECT id FROM cohorts WHERE name = ?1";
static const char q_person_role[] = "SELECT role FROM participants WHERE email = ?1";
static const char q_person_upsert[] =
	"INSERT INTO participants(role, name, email, cohort_id, segment, created, first_name, born)"
	" VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT(email) DO UPDATE SET"
	" name = excluded.name, cohort_id = excluded.cohort_id, segment = excluded.segment,"
	" first_name = excluded.first_name, born = excluded.born";

struct row_err {
	const char *path;
	int line;
	struct buf *err;
	int n;
};

static void
rowbad(struct row_err *e, const char *why, const char *what)
{
	if (e->n++ < 50)
		buf_printf(e->err, "%s:%d: %s%s\n", e->path, e->line, why, what ? what : "");
}

static int64_t
cohort_id(struct store *s, const char *name)
{
	sqlite3_stmt *st = store_stmt(s, q_cohort_id);
	int64_t id = 0;

	if (!st)
		return -1;
	store_bind_text(st, 1, name);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return id;
}

/* The name reaches the From of relayed mail: it must not hide an address
 * or an encoded word, and a participant's must not pass for the programme
 * or its staff. */
static void
check_name(struct row_err *e, const char *col, const char *name, int participant,
    const char *programme)
{
	struct buf why = {0};
	char *clean = dname_clean(name), *m = NULL;
	const char *hit;

	if (!*clean)
		rowbad(e, m = xasprintf("%s is empty", col), NULL);
	else if (dname_check(name, &why))
		rowbad(e, m = xasprintf("%s ", col), why.s);
	else if (participant && (hit = dname_imitates(name, programme)))
		rowbad(e, m = xasprintf("a mentee's or mentor's %s must not read as the programme or"
		    " its staff: ", col), hit);
	buf_free(&why);
	free(clean);
	free(m);
}

/* A mentee's or mentor's name of this file (at its line). */
struct named {
	int line;
	char *name;
};

static const char q_staff[] =
	"SELECT name FROM participants WHERE role = 'coordinator' OR role = 'safeguarding'";

/* Refuse each participant in v whose name reads as a staff member's
 * (the same skeleton: look-alike letters, case and spacing aside), staff
 * of this file included. */
static void
check_staff_names(struct store *s, struct row_err *e, const struct named *v, size_t n)
{
	sqlite3_stmt *st = store_stmt(s, q_staff);
	char **staff = NULL;
	size_t nstaff = 0;

	if (!st || !n)
		return;
	while (sqlite3_step(st) == SQLITE_ROW) {
		staff = xrealloc(staff, (nstaff + 1) * sizeof *staff);
		staff[nstaff++] = dname_fold((const char *)sqlite3_column_text(st, 0));
	}
	sqlite3_reset(st);
	for (size_t i = 0; i < n; i++) {
		char *fold = dname_fold(v[i].name);
		for (size_t k = 0; k < nstaff; k++)
			if (*fold && !strcmp(fold, staff[k])) {
				e->line = v[i].line;
				rowbad(e, "a mentee's or mentor's name must not read as a coordinator's or"
				    " safeguarding lead's: ", v[i].name);
				break;
			}
		free(fold);
	}
	for (size_t k = 0; k < nstaff; k++)
		free(staff[k]);
	free(staff);
}

static void
import_row(struct store *s, struct row_err *e, char **f, const char *programme)
{
	static const char *const roles[] = { "mentee", "mentor", "coordinator", "safeguarding" };
	char *email = mg_lower(f[2]), *name = NULL, *first = NULL;
	const char *role = NULL, *why;
	sqlite3_stmt *st;
	int64_t cid = 0;
	size_t i;

	for (i = 0; i < 4; i++)
		if (!strcmp(f[0], roles[i]))
			role = roles[i];
	if (!role)
		rowbad(e, "role must be mentee, mentor, coordinator or safeguarding, not ", f[0]);
	int participant = role && (!strcmp(role, "mentee") || !strcmp(role, "mentor"));
	check_name(e, "name", f[1], participant, programme);
	if (*f[5]) {	/* an explicit first name reaches the From just as the name does */
		check_name(e, "first_name", f[5], participant, programme);
		first = dname_clean(f[5]);
	}
	if ((why = conf_address_error(email))) {
		char *m = xasprintf("not an email address (%s): ", why);
		rowbad(e, m, f[2]);
		free(m);
	}
	if (*f[3]) {
		if ((cid = cohort_id(s, f[3])) == 0)
			rowbad(e, "no such cohort (create it with 'cohort add'): ", f[3]);
	} else if (participant)
		rowbad(e, "a mentee or mentor needs a cohort", NULL);
	if (has_ctl(f[4]))
		rowbad(e, "segment has control characters", NULL);
	if (*f[6] && roster_born(f[6], mg_now()) < 0)
		rowbad(e, "born must be YYYY, YYYY-MM or YYYY-MM-DD, not in the future: ", f[6]);
	if (e->n || !role)
		goto out;
	if ((st = store_stmt(s, q_person_role))) {
		store_bind_text(st, 1, email);
		if (sqlite3_step(st) == SQLITE_ROW &&
		    strcmp((const char *)sqlite3_column_text(st, 0), role)) {
			char *old = xstrdup((const char *)sqlite3_column_text(st, 0));
			sqlite3_reset(st);
			rowbad(e, "address is already registered with another role: ", old);
			free(old);
			goto out;
		}
		sqlite3_reset(st);
	}
	if (!(st = store_stmt(s, q_person_upsert))) {
		rowbad(e, "database: ", store_errmsg(s));
		goto out;
	}
	name = dname_clean(f[1]);	/* only runs of spaces differ */
	if (!first)
		first = dname_first(name);
	store_bind_text(st, 1, role);
	store_bind_text(st, 2, name);
	store_bind_text(st, 3, email);
	store_bind_id(st, 4, cid);
	store_bind_text(st, 5, *f[4] ? f[4] : NULL);
	sqlite3_bind_int64(st, 6, mg_now());
	store_bind_text(st, 7, first);
	store_bind_text(st, 8, *f[6] ? f[6] : NULL);
	if (store_exec(st) != MG_OK)
		rowbad(e, "database: ", store_errmsg(s));
out:
	free(first);
	free(name);
	free(email);
}

/* The CSV columns, in the order import_row reads them; the first NREQ are
 * required. */
static const char *const cols[] = { "role", "name", "email", "cohort", "segment", "first_name",
	"born" };
#define NCOLS 7
#define NREQ 5

/* col[k]: where the header puts cols[k] (-1: absent).  The number of
 * columns, or -1 for a header without a required column, with an unknown
 * one or one twice. */
static int
header_cols(char **f, int n, int *col)
{
	for (int k = 0; k < NCOLS; k++)
		col[k] = -1;
	for (int i = 0; i < n; i++) {
		int k = 0;
		while (k < NCOLS && strcmp(f[i], cols[k]))
			k++;
		if (k == NCOLS || col[k] >= 0)
			return -1;
		col[k] = i;
	}
	for (int k = 0; k < NREQ; k++)
		if (col[k] < 0)
			return -1;
	return n;
}

enum mg_status
roster_import(struct store *s, const char *path, const char *programme, int *count,
    struct buf *err)
{
	struct row_err e = { path, 0, err, 0 };
	char *line = NULL, *f[NCOLS + 1], *g[NCOLS], **seen = NULL;
	int col[NCOLS], ncol = 0;
	size_t cap = 0, nseen = 0, nnamed = 0;
	struct named *named = NULL;
	enum mg_status rc;
	ssize_t len;
	FILE *fp;
	int header = 0, n;

	*count = 0;
	if (!(fp = fopen(path, "r"))) {
		buf_printf(err, "%s: %s\n", path, strerror(errno));
		return MG_BADINPUT;
	}
	if ((rc = store_begin(s)) != MG_OK) {
		fclose(fp);
		buf_printf(err, "%s: database busy: %s\n", path, store_errmsg(s));
		return rc;
	}
	while ((len = getline(&line, &cap, fp)) >= 0) {
		char *p = line;
		e.line++;
		while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
			p[--len] = 0;
		if (e.line == 1 && !strncmp(p, "\xef\xbb\xbf", 3))
			p += 3;
		if (!*p || *p == '#')
			continue;
		n = csv_split(p, f, NCOLS + 1);
		if (!header) {
			header = 1;
			if ((ncol = header_cols(f, n, col)) < 0) {
				rowbad(&e, "the header names the columns role,name,email,cohort,segment"
				    " and optionally first_name and born, each once", NULL);
				break;
			}
			continue;
		}
		if (n != ncol) {
			char *m = xasprintf(n < 0 ? "bad quoting or more than %d fields" :
			    "expected %d fields", ncol);
			rowbad(&e, m, NULL);
			free(m);
			continue;
		}
		for (int k = 0; k < NCOLS; k++)
			g[k] = col[k] < 0 ? "" : f[col[k]];
		memcpy(f, g, sizeof g);
		char *low = mg_lower(f[2]);
		size_t i;
		for (i = 0; i < nseen && strcmp(seen[i], low); i++)
			;
		if (i < nseen) {
			rowbad(&e, "address appears twice in this file: ", f[2]);
			free(low);
			continue;
		}
		seen = xrealloc(seen, (nseen + 1) * sizeof *seen);
		seen[nseen++] = low;
		int before = e.n;
		import_row(s, &e, f, programme);
		if (e.n == before)
			(*count)++;
		if (!strcmp(f[0], "mentee") || !strcmp(f[0], "mentor")) {
			named = xrealloc(named, (nnamed + 1) * sizeof *named);
			named[nnamed++] = (struct named){ e.line, xstrdup(f[1]) };
		}
	}
	if (!e.n)	/* (every row is in: staff listed after their mentees count) */
		check_staff_names(s, &e, named, nnamed);
	for (size_t i = 0; i < nnamed; i++)
		free(named[i].name);
	free(named);
	if (!header)
		rowbad(&e, "empty file: expected a header such as role,name,email,cohort,segment", NULL);
	free(line);
	fclose(fp);
	for (size_t i = 0; i < nseen; i++)
		free(seen[i]);
	free(seen);
	if (e.n) {
		store_rollback(s);
		*count = 0;
		if (e.n > 50)
			buf_printf(err, "%s: %d more errors\n", path, e.n - 50);
		return MG_BADINPUT;
	}
	if ((rc = store_commit(s)) != MG_OK)
		buf_printf(err, "%s: commit failed: %s\n", path, store_errmsg(s));
	return rc;
}

/* --- pairs -------------------------------------------------------------- */

#define PERSON_COLS(p) p ".id, " p ".role, " p ".name, " p ".email, " p ".segment, " \
	p ".cohort_id, " p ".paused, " p ".first_name"
#define PERSON_NCOLS 8
#define PAIR_SELECT \
	"SELECT pairs.id, pairs.state, pairs.to_mentor_token, pairs.to_mentee_token, " \
	PERSON_COLS("a") ", " PERSON_COLS("b") \
	" FROM pairs JOIN participants a ON a.id = pairs.mentee_id" \
	" JOIN participants b ON b.id = pairs.mentor_id "
static const char q_pair_get[] = PAIR_SELECT "WHERE pairs.id = ?1";
static const char q_pair_token[] =
	PAIR_SELECT "WHERE pairs.to_mentor_token = ?1 OR pairs.to_mentee_token = ?1";
static const char q_pairs_all[] = PAIR_SELECT "ORDER BY pairs.id";
static const char q_pairs_of[] =
	PAIR_SELECT "WHERE pairs.mentee_id = ?1 OR pairs.mentor_id = ?1 ORDER BY pairs.id";

static void
person_row(sqlite3_stmt *st, int c, struct roster_person *p)
{
	p->id = sqlite3_column_int64(st, c);
	p->role = store_col_text(st, c + 1);
	p->name = store_col_text(st, c + 2);
	p->email = store_col_text(st, c + 3);
	p->segment = store_col_text(st, c + 4);
	p->cohort_id = sqlite3_column_int64(st, c + 5);
	p->paused = sqlite3_column_int64(st, c + 6);
	/* (a row imported before first names were kept has none) */
	p->first = sqlite3_column_type(st, c + 7) == SQLITE_NULL ? dname_first(p->name) :
	    store_col_text(st, c + 7);
}

static void
pair_row(sqlite3_stmt *st, struct roster_pair *p)
{
	p->id = sqlite3_column_int64(st, 0);
	p->state = store_col_text(st, 1);
	p->to_mentor_token = store_col_text(st, 2);
	p->to_mentee_token = store_col_text(st, 3);
	person_row(st, 4, &p->mentee);
	person_row(st, 4 + PERSON_NCOLS, &p->mentor);
}

static enum mg_status
pair_one(sqlite3_stmt *st, struct roster_pair *out)
{
	int rc = sqlite3_step(st);

	memset(out, 0, sizeof *out);
	if (rc == SQLITE_ROW)
		pair_row(st, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MG_OK;
	return rc == SQLITE_DONE ? MG_NOTFOUND : store_status(rc);
}

enum mg_status
roster_pair_get(struct store *s, int64_t id, struct roster_pair *out)
{
	sqlite3_stmt *st = store_stmt(s, q_pair_get);

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	return pair_one(st, out);
}

enum mg_status
roster_pair_by_token(struct store *s, const char *token, struct roster_pair *out, int *to_mentor)
{
	sqlite3_stmt *st = store_stmt(s, q_pair_token);
	enum mg_status rc;

	if (!st)
		return MG_INTERNAL;
	store_bind_text(st, 1, token);
	if ((rc = pair_one(st, out)) == MG_OK)
		*to_mentor = !strcmp(out->to_mentor_token, token);
	return rc;
}

static enum mg_status
walk_pairs(sqlite3_stmt *st, int (*cb)(const struct roster_pair *, void *), void *arg)
{
	struct roster_pair p;
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&p, 0, sizeof p);
		pair_row(st, &p);
		int stop = cb(&p, arg);
		roster_pair_clear(&p);
		if (stop) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MG_OK : store_status(rc);
}

enum mg_status
roster_pairs(struct store *s, int (*cb)(const struct roster_pair *, void *), void *arg)
{
	sqlite3_stmt *st = store_stmt(s, q_pairs_all);

	return st ? walk_pairs(st, cb, arg) : MG_INTERNAL;
}

enum mg_status
roster_pairs_of(struct store *s, int64_t person,
    int (*cb)(const struct roster_pair *, void *), void *arg)
{
	sqlite3_stmt *st = store_stmt(s, q_pairs_of);

	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, person);
	return walk_pairs(st, cb, arg);
}

static const char q_pause[] =
	"UPDATE participants SET paused = ?2, paused_reason = ?3 WHERE id = ?1 AND paused IS NULL";
static const char q_resume[] =
	"UPDATE participants SET paused = NULL, paused_reason = NULL WHERE email = ?1";

enum mg_status
roster_pause(struct store *s, int64_t person, const char *why, int *newly)
{
	sqlite3_stmt *st = store_stmt(s, q_pause);
	enum mg_status rc;

	*newly = 0;
	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, person);
	sqlite3_bind_int64(st, 2, mg_now());
	store_bind_text(st, 3, why);
	if ((rc = store_exec(st)) == MG_OK)
		*newly = sqlite3_changes(sqlite3_db_handle(st)) > 0;
	return rc;
}

enum mg_status
roster_resume(struct store *s, const char *email)
{
	sqlite3_stmt *st = store_stmt(s, q_resume);
	char *low = mg_lower(email);
	enum mg_status rc;

	if (!st) {
		free(low);
		return MG_INTERNAL;
	}
	store_bind_text(st, 1, low);
	free(low);
	if ((rc = store_exec(st)) == MG_OK && sqlite3_changes(sqlite3_db_handle(st)) == 0)
		rc = MG_NOTFOUND;
	return rc;
}

static const char q_person_id[] =
	"SELECT " PERSON_COLS("p") " FROM participants p WHERE id = ?1";

enum mg_status
roster_person_by_id(struct store *s, int64_t id, struct roster_person *out)
{
	sqlite3_stmt *st = store_stmt(s, q_person_id);
	int rc;

	memset(out, 0, sizeof *out);
	if (!st)
		return MG_INTERNAL;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		person_row(st, 0, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MG_OK;
	return rc == SQLITE_DONE ? MG_NOTFOUND : store_status(rc);
}

static const char q_person_email[] =
	"SELECT " PERSON_COLS("p") " FROM participants p WHERE email = ?1";

enum mg_status
roster_person_by_email(struct store *s, const char *email, struct roster_person *out)
{
	sqlite3_stmt *st = store_stmt(s, q_person_email);
	char *low = mg_lower(email);
	int rc;

	memset(out, 0, sizeof *out);
	if (!st) {
		free(low);
		return MG_INTERNAL;
	}
	store_bind_text(st, 1, low);
	free(low);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		person_row(st, 0, out);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return MG_OK;
	return rc == SQLITE_DONE ? MG_NOTFOUND : store_status(rc);
}

static const char q_cohorts[] = "SELECT id, name, start_date, weeks FROM cohorts ORDER BY id";

enum mg_status
roster_cohorts(struct store *s, struct roster_cohort **out, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, q_cohorts);
	int rc;

	*out = NULL;
	*n = 0;
	if (!st)
		return MG_INTERNAL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*out = xrealloc(*out, (*n + 1) * sizeof **out);
		(*out)[*n].id = sqlite3_column_int64(st, 0);
		(*out)[*n].name = store_col_text(st, 1);
		(*out)[*n].start = cal_date((const char *)sqlite3_column_text(st, 2));
		(*out)[*n].weeks = sqlite3_column_int(st, 3);
		(*n)++;
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return MG_OK;
	roster_cohorts_free(*out, *n);
	*out = NULL;
	*n = 0;
	return store_status(rc);
}

void
roster_cohorts_free(struct roster_cohort *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

static const char q_pair_add[] =
	"INSERT INTO pairs(mentee_id, mentor_id, to_mentor_token, to_mentee_token, created)"
	" VALUES (?1, ?2, ?3, ?4, ?5)";

enum mg_status
roster_pair(struct store *s, const char *mentee_email, const char *mentor_email,
    struct roster_pair *out, struct buf *err)
{
	struct roster_person a = {0}, b = {0};
	char t1[17], t2[17];
	sqlite3_stmt *st;
	enum mg_status rc;

	memset(out, 0, sizeof *out);
	if ((rc = roster_person_by_email(s, mentee_email, &a)) != MG_OK || !a.role ||
	    strcmp(a.role, "mentee")) {
		buf_printf(err, "%s is not a registered mentee", mentee_email);
		rc = rc == MG_OK ? MG_BADINPUT : rc;
		goto out;
	}
	if ((rc = roster_person_by_email(s, mentor_email, &b)) != MG_OK || !b.role ||
	    strcmp(b.role, "mentor")) {
		buf_printf(err, "%s is not a registered mentor", mentor_email);
		rc = rc == MG_OK ? MG_BADINPUT : rc;
		goto out;
	}
	mg_random_token(t1, sizeof t1);
	mg_random_token(t2, sizeof t2);
	if (!(st = store_stmt(s, q_pair_add))) {
		rc = MG_INTERNAL;
		goto out;
	}
	sqlite3_bind_int64(st, 1, a.id);
	sqlite3_bind_int64(st, 2, b.id);
	store_bind_text(st, 3, t1);
	store_bind_text(st, 4, t2);
	sqlite3_bind_int64(st, 5, mg_now());
	if ((rc = store_exec(st)) == MG_DUPLICATE)
		buf_printf(err, "%s and %s are paired already", mentee_email, mentor_email);
	else if (rc != MG_OK)
		buf_printf(err, "%s", store_errmsg(s));
	else
		rc = roster_pair_get(s, sqlite3_last_insert_rowid(sqlite3_db_handle(st)), out);
out:
	roster_person_clear(&a);
	roster_person_clear(&b);
	return rc;
}

static const char q_addresses[] = "SELECT email FROM participants ORDER BY id";
static const char q_is_address[] = "SELECT 1 FROM participants WHERE email = ?1";

int
roster_is_address(struct store *s, const char *email)
{
	sqlite3_stmt *st = store_stmt(s, q_is_address);
	int rc;

	if (!st)
		return 1;
	store_bind_text(st, 1, email);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	return rc != SQLITE_DONE;	/* a row, or an error: masking too much is safe */
}

enum mg_status
roster_addresses(struct store *s, char ***emails, size_t *n)
{
	sqlite3_stmt *st = store_stmt(s, q_addresses);
	int rc;

	*emails = NULL;
	*n = 0;
	if (!st)
		return MG_INTERNAL;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*emails = xrealloc(*emails, (*n + 1) * sizeof **emails);
		(*emails)[(*n)++] = store_col_text(st, 0);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? MG_OK : store_status(rc);
}
