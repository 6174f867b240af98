/* quote: quoted history matched against a pair's exchanged texts. */
#include <stdlib.h>
#include <string.h>

#include "mg.h"
#include "mime.h"
#include "outbox.h"
#include "quote.h"
#include "reply.h"
#include "store_p.h"

static int
space(const char *s, const char *e)	/* bytes of white space at s, 0 if none */
{
	if (s < e && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\f' ||
	    *s == '\v'))
		return 1;
	if (e - s >= 2 && (unsigned char)s[0] == 0xc2 && (unsigned char)s[1] == 0xa0)
		return 2;	/* a no-break space */
	return 0;
}

char *
quote_norm(const char *s, size_t n)
{
	const char *e = s + n;
	char *out = xmalloc(n + 1), *w = out;	/* (never longer than s) */
	int bol = 1, gap = 0, k;

	while (s < e) {
		if (bol) {	/* quote marks and the blanks around them */
			while (s < e && (*s == '>' || *s == ' ' || *s == '\t'))
				s++;
			bol = 0;
			continue;
		}
		if (*s == '\n') {
			gap = 1;
			bol = 1;
			s++;
		} else if ((k = space(s, e))) {
			gap = 1;
			s += k;
		} else {
			if (gap && w > out)
				*w++ = ' ';
			gap = 0;
			*w++ = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;
			s++;
		}
	}
	*w = 0;
	return out;
}

/* A block shorter than this (normalised) is screened, matched or not:
 * short pieces of old messages would spell anything ("> 07", "> 700"). */
#define MIN_MATCH 20
/* Past this many parts every block is screened: matching is not worth it. */
#define MAX_PARTS 200

static int
wordch(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (unsigned char)c >= 0x80;
}

/* Does nb (normalised) lie within ref as whole words? */
static int
within(const char *ref, const char *nb, size_t n)
{
	for (const char *p = ref; (p = strstr(p, nb)); p++)
		if ((p == ref || !wordch(p[-1]) || !wordch(nb[0])) &&
		    (!p[n] || !wordch(p[n]) || !wordch(nb[n - 1])))
			return 1;
	return 0;
}

/* Every three words in a row of the texts, as a set: a block can lie
 * within a text only if each of its own trigrams does, and most blocks
 * that do not are told so without a search. */
struct grams {
	uint64_t *slot;
	size_t mask;
};

static uint64_t
rotl(uint64_t x, int k)
{
	return x << k | x >> (64 - k);
}

/* Call f on each trigram (three words in a row, hashed) of the words of s
 * (normalised: one space between words) that are whole words: all but the
 * first and the last when edge is 0 (those may be pieces of longer words
 * where s lies within a text).  Stops at f's first 0. */
static int
each_trigram(const char *s, int edge, int (*f)(struct grams *, uint64_t), struct grams *g)
{
	uint64_t h[3] = {0, 0, 0};
	size_t n = 0;

	for (const char *p = s; *p;) {
		uint64_t w = 14695981039346656037ULL;	/* FNV-1a of the word */
		int first = p == s;
		for (; *p && *p != ' '; p++)
			w = (w ^ (unsigned char)*p) * 1099511628211ULL;
		if (!*p && !edge)
			break;	/* the last word */
		if (*p)
			p++;
		if (first && !edge)
			continue;
		h[0] = h[1];
		h[1] = h[2];
		h[2] = w;
		if (++n >= 3 && !f(g, (h[0] ^ rotl(h[1], 21) ^ rotl(h[2], 42)) | 1))
			return 0;	/* (| 1: 0 marks an empty slot) */
	}
	return 1;
}

/* The slot holding h, or the empty one where it would go. */
static uint64_t *
gram_slot(struct grams *g, uint64_t h)
{
	size_t i = h & g->mask;

	while (g->slot[i] && g->slot[i] != h)
		i = (i + 1) & g->mask;
	return &g->slot[i];
}

static int
gram_add(struct grams *g, uint64_t h)
{
	*gram_slot(g, h) = h;
	return 1;
}

static int
gram_has(struct grams *g, uint64_t h)
{
	return *gram_slot(g, h) == h;
}

static void
grams_build(struct grams *g, char *const *v, size_t n)
{
	size_t words = 0;

	for (size_t i = 0; i < n; i++)
		for (const char *p = v[i]; *p; p++)
			words += *p == ' ';
	g->mask = 63;
	while (g->mask < 2 * (words + n))
		g->mask = g->mask * 2 + 1;
	g->slot = xcalloc(g->mask + 1, sizeof *g->slot);
	for (size_t i = 0; i < n; i++)
		each_trigram(v[i], 1, gram_add, g);
}

/* The texts to match against, and how many more searches a message may
 * cost (a stranger's quote must not buy unbounded work): past it, what is
 * left is read. */
struct refs {
	char *const *v;
	size_t n;
	int budget;
	struct grams g;
};
#define SEARCHES 400

/* Is s[0, n), normalised, within one of the texts (and long enough,
 * unless any_length)?  *empty: it normalises to nothing. */
static int
found(const char *s, size_t n, struct refs *r, int any_length, int *empty)
{
	char *nb = quote_norm(s, n);
	size_t len = strlen(nb);
	int ok = 0;

	*empty = !len;
	if (len && (any_length || len >= MIN_MATCH) && each_trigram(nb, 0, gram_has, &r->g) &&
	    r->budget-- > 0)
		for (size_t i = 0; i < r->n && !ok; i++)
			ok = within(r->v[i], nb, len);
	free(nb);
	return ok;
}

/* Past this many lines a block that does not match whole is read whole. */
#define MAX_LINES 400

/* What of block screening must read: nothing when it matches whole; else
 * its lines outside every run of whole lines that matches (a client's
 * banner or an appended link leaves the rest of a true quote matched).
 * Appended to out. */
static void
unmatched(struct buf *out, const char *block, struct refs *refs)
{
	const char *ln[MAX_LINES + 1], *p = block;
	size_t n = 0, i = 0, j;
	int empty, any = 0;

	if (found(block, strlen(block), refs, 0, &empty) || empty)
		return;
	for (; *p && n <= MAX_LINES; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] != 0))
		ln[n++] = p;
	if (n > MAX_LINES) {
		buf_adds(out, block);
		buf_adds(out, "\n\n");
		return;
	}
	ln[n] = block + strlen(block);
	while (i < n) {
		/* the longest run from line i that lies in one text (a
		 * run's prefix does too: extend while it does) */
		for (j = i; j < n && found(ln[i], (size_t)(ln[j + 1] - ln[i]), refs, 1, &empty);
		    j++)
			;
		if (j > i && found(ln[i], (size_t)(ln[j] - ln[i]), refs, 0, &empty)) {
			i = j;
			continue;
		}
		char *one = quote_norm(ln[i], (size_t)(ln[i + 1] - ln[i]));
		empty = !*one;
		free(one);
		if (!empty) {
			buf_add(out, ln[i], (size_t)(ln[i + 1] - ln[i]));
			if (ln[i + 1][-1] != '\n')
				buf_addc(out, '\n');
			any = 1;
		}
		i++;
	}
	if (any)
		buf_addc(out, '\n');
}

/* The parts screening must read (splitters too, unless blocks_only). */
static char *
unverified(const char *text, size_t len, char *const *refs, size_t nref, int blocks_only)
{
	struct reply_part *p;
	size_t n = reply_history(text, len, &p);
	struct buf out = {0};
	struct refs r = { refs, nref, SEARCHES, {0} };

	grams_build(&r.g, refs, nref);
	/* the splitters are always read: their free text ("On <anything>
	 * wrote:", a header block's Subject:) is the writer's own */
	for (size_t i = 0; i < n; i++)
		if (p[i].splitter && !blocks_only) {
			buf_adds(&out, p[i].text);
			buf_addc(&out, '\n');
		} else if (!p[i].splitter && n > MAX_PARTS) {
			buf_adds(&out, p[i].text);
			buf_adds(&out, "\n\n");
		} else if (!p[i].splitter)
			unmatched(&out, p[i].text, &r);
	for (size_t i = 0; i < n; i++)
		free(p[i].text);
	free(p);
	free(r.g.slot);
	return out.s ? buf_steal(&out) : NULL;
}

char *
quote_unverified(const char *text, size_t len, char *const *refs, size_t nref)
{
	return unverified(text, len, refs, nref, 0);
}

int
quote_any(const char *text, size_t len)
{
	struct reply_part *p;
	size_t n = reply_history(text, len, &p);

	for (size_t i = 0; i < n; i++)
		free(p[i].text);
	free(p);
	return n > 0;
}

/* Each id a message names, newest last; at most this many are looked up. */
#define MAX_IDS 16
/* what the gateway sent author or partner under Message-ID id: a relayed
 * copy, or mail about no message (a prompt, a digest); never a notice
 * about one (a rejection names the held subject) */
static const char q_sent[] =
	"SELECT " OUTBOX_TEXT " FROM outbox o JOIN outbox_data d ON d.id = o.id"
	" LEFT JOIN outbox_text t ON t.id = o.id WHERE o.message_id = ?1 AND o.recipient_id IN (?2, ?3)"
	" AND (o.kind = 'relay' OR o.message IS NULL) LIMIT 4";
/* what either of them wrote under Message-ID id, if it was relayed as
 * written (never a message held, rejected, redacted or edited: its
 * original is what nobody was given) */
#define AS_WRITTEN \
	" m.state = 'relayed' AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.message = m.id" \
	"  AND h.state IN ('redacted', 'edited'))"
static const char q_orig[] =
	"SELECT m.body FROM messages m WHERE m.message_id = ?1 AND m.pair_id = ?2"
	" AND m.body IS NOT NULL AND" AS_WRITTEN " LIMIT 4";
/* the pair's latest relayed messages, with the copy sent (standing in
 * for references a client did not keep) */
static const char q_recent[] =
	"SELECT CASE WHEN" AS_WRITTEN " THEN m.body END, " OUTBOX_TEXT " FROM messages m"
	" LEFT JOIN outbox o ON o.dedupe_key = 'relay:' || m.id || ':' || m.recipient_id"
	" LEFT JOIN outbox_data d ON d.id = o.id LEFT JOIN outbox_text t ON t.id = o.id"
	" WHERE m.pair_id = ?1 AND m.state = 'relayed' AND m.id <> ?2"
	" ORDER BY m.received DESC, m.id DESC LIMIT 20";

/* At most this much text (normalised) to match against, newest first. */
#define REF_BYTES (256 * 1024)

static void
add(char ***refs, size_t *n, const char *s, size_t len)
{
	size_t total = 0;

	for (size_t i = 0; i < *n; i++)
		total += strlen((*refs)[i]);
	if (total >= REF_BYTES)
		return;
	*refs = xrealloc(*refs, (*n + 1) * sizeof **refs);
	(*refs)[(*n)++] = quote_norm(s, len > REF_BYTES ? REF_BYTES : len);
}

/* a message's body at col, or (sent) the text of a copy the gateway sent */
static void
add_col(char ***refs, size_t *n, sqlite3_stmt *st, int col, int sent)
{
	const char *v = sqlite3_column_blob(st, col);
	size_t len = (size_t)sqlite3_column_bytes(st, col);
	char *text;

	if (!sent) {
		if (v && len)
			add(refs, n, v, len);
	} else if ((text = outbox_row_text(st, col))) {
		add(refs, n, text, strlen(text));
		free(text);
	}
}

static int
covered(const char *text, char **refs, size_t n)
{
	char *rest = unverified(text, strlen(text), refs, n, 1);
	int ok = !rest;

	free(rest);
	return ok;
}

size_t
quote_exchanged(struct store *s, int64_t pair, int64_t author, int64_t partner, int64_t self,
    const struct mime_list *ids, const char *text, char ***refs)
{
	size_t n = 0, from = ids->n > MAX_IDS ? ids->n - MAX_IDS : 0;
	sqlite3_stmt *st;

	*refs = NULL;
	for (size_t i = from; i < ids->n; i++) {
		if ((st = store_stmt(s, q_sent))) {
			store_bind_text(st, 1, ids->v[i]);
			sqlite3_bind_int64(st, 2, author);
			sqlite3_bind_int64(st, 3, partner);
			while (sqlite3_step(st) == SQLITE_ROW)
				add_col(refs, &n, st, 0, 1);
			sqlite3_reset(st);
		}
		if ((st = store_stmt(s, q_orig))) {
			store_bind_text(st, 1, ids->v[i]);
			sqlite3_bind_int64(st, 2, pair);
			while (sqlite3_step(st) == SQLITE_ROW)
				add_col(refs, &n, st, 0, 0);
			sqlite3_reset(st);
		}
	}
	if (covered(text, *refs, n) || !(st = store_stmt(s, q_recent)))
		return n;
	/* a client that keeps no references, or a quote of an older message */
	sqlite3_bind_int64(st, 1, pair);
	sqlite3_bind_int64(st, 2, self);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *body = sqlite3_column_blob(st, 0);
		size_t len = (size_t)sqlite3_column_bytes(st, 0);
		char *copy = outbox_row_text(st, 1);
		if (body && len)
			add(refs, &n, body, len);
		if (copy && (!body || strlen(copy) != len || memcmp(copy, body, len)))
			add(refs, &n, copy, strlen(copy));	/* (masked, or noted) */
		free(copy);
	}
	sqlite3_reset(st);
	return n;
}
