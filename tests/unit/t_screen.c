/* Unit tests for screening: the spoken view and the shipped rules. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "plain.h"
#include "screen.h"
#include "tap.h"

/* A rules file NAME holding text, in a new directory made from dir (a
 * mkdtemp template): its path, or NULL (said) when it cannot be written. */
static char *
rules_file(char *dir, const char *name, const char *text)
{
	char *path;
	FILE *f;

	if (!mkdtemp(dir))
		return NULL;
	path = xasprintf("%s/%s", dir, name);
	if (!(f = fopen(path, "w"))) {
		ok(0, "%s: cannot write", path);
		free(path);
		rmdir(dir);
		return NULL;
	}
	fputs(text, f);
	fclose(f);
	return path;
}

static void
spoken(const char *in, const char *want)
{
	size_t *map, n;
	char *got = screen_spoken(in, strlen(in), &map, &n);

	is_str(got, want, "spoken view of [%.*s]", (int)strcspn(in, "\n"), in);
	ok(n == strlen(got) && map[n] == strlen(in), "map covers the view");
	for (size_t i = 0; i < n; i++)
		if (map[i] >= strlen(in) + 1) {
			ok(0, "map entry %zu out of range", i);
			break;
		}
	free(got);
	free(map);
}

static void
shipped_rules(void)
{
	struct rules *rs = NULL;
	struct buf errs = {0};
	struct screen_hit *h;
	const char *t = "Hi! text me on oh seven seven double oh nine double oh one two three x";
	size_t n;

	ok(rules_load("conf/rules", &rs, &errs) == MG_OK, "shipped rules load");
	if (errs.s)
		printf("# %s", errs.s);
	if (!rs)
		return;
	ok(rules_check(rs, &errs) == MG_OK, "every shipped rule passes its examples");
	if (errs.s)
		printf("# %s", errs.s);
	n = screen_text(rs, t, strlen(t), &h);
	size_t k;
	for (k = 0; k < n && strcmp(h[k].rule->name, "uk-mobile"); k++)
		;
	ok(k < n && !strcmp(h[k].rule->category, "contact-phone"), "a spoken number is a phone");
	if (k < n) {
		ok(h[k].start == 15 && !strncmp(t + h[k].start, "oh seven", 8), "hit starts at the number");
		ok(h[k].end == strlen(t) - 2, "and ends after its last word (%zu)", h[k].end);
	}
	for (size_t i = 1; i < n; i++)
		ok(h[i - 1].start <= h[i].start, "hits in text order");
	free(h);
	n = screen_text(rs, "See you at the session on Thursday.", 35, &h);
	ok(n == 0, "a clean sentence has no hits");
	free(h);
	/* (the shipped model rates this sentence contact-phone on its words) */
	t = "Childline's number is 0800 1111 if you ever need it.";
	n = screen_text_checked(rs, t, strlen(t), &h, NULL);
	ok(n == 0, "signposting a helpline: no hit, the model's neither (%zu)", n);
	free(h);
	rules_free(rs);
	buf_free(&errs);
}

/* Long text: searched in pieces, so ordinary long mail finishes; a search
 * that cannot finish says so (a message must not pass unread). */
static void
long_text(void)
{
	struct rules *rs = NULL;
	struct buf errs = {0}, t = {0};
	struct screen_hit *h;
	char dir[] = "/tmp/mg-rules-XXXXXX", *path;
	size_t n, k;
	int unfinished = -1;

	if (rules_load("conf/rules", &rs, &errs) != MG_OK)
		return;
	for (int i = 0; i < 300000; i++)
		buf_adds(&t, "a.");
	buf_adds(&t, " write to maya.p @ gmail . com");
	n = screen_text_checked(rs, t.s, t.len, &h, &unfinished);
	for (k = 0; k < n && strcmp(h[k].rule->category, "contact-email"); k++)
		;
	ok(k < n || unfinished == 1, "600 KB of 'a.' before an address: found, or said unfinished");
	ok(k < n && h[k].start > 600000, "found, after the padding");
	free(h);
	t.len = 0;
	for (int i = 0; i < 4000; i++)
		buf_adds(&t, "Thank you for the session on Thursday, I learnt a lot about the ward. ");
	buf_adds(&t, "My number is 07700 900 123.");
	n = screen_text_checked(rs, t.s, t.len, &h, &unfinished);
	for (k = 0; k < n && strcmp(h[k].rule->category, "contact-phone"); k++)
		;
	ok(unfinished == 0 && k < n, "280 KB of ordinary text finishes and finds the number");
	free(h);
	rules_free(rs);

	if (!(path = rules_file(dir, "10-slow.rules", "[rule slow]\ncategory = risk\naction = hold\npattern = ^(a|aa)+$\n"
	    "match = aaaa\nnomatch = b\n")))
		return;
	rs = NULL;
	ok(rules_load(dir, &rs, &errs) == MG_OK, "a rule that backtracks loads");
	t.len = 0;
	for (int i = 0; i < 60; i++)
		buf_addc(&t, 'a');
	buf_addc(&t, 'b');
	if (rs) {
		n = screen_text_checked(rs, t.s, t.len, &h, &unfinished);
		ok(n == 0 && unfinished == 1, "a search stopped by the match limit says so");
		free(h);
		rules_free(rs);
	}
	unlink(path);
	rmdir(dir);
	free(path);
	buf_free(&t);
	buf_free(&errs);
}

/* A directory without a rules file is a clear error (it once handed
 * qsort a NULL array, which UBSan stops at). */
static void
empty_rules(void)
{
	char dir[] = "/tmp/mg-rules-XXXXXX";
	struct rules *rs = NULL;
	struct buf errs = {0};

	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	ok(rules_load(dir, &rs, &errs) == MG_BADCONF && !rs && errs.s &&
	    strstr(errs.s, "no *.rules files"), "an empty rules directory says so");
	rmdir(dir);
	buf_free(&errs);
}

static void
bad_rules(void)
{
	char dir[] = "/tmp/mg-rules-XXXXXX", *path;
	struct rules *rs = NULL;
	struct buf errs = {0};

	if (!(path = rules_file(dir, "10-bad.rules", "[rule one]\ncategory = gossip\naction = shout\npattern = (unclosed\n"
	    "[rule two]\ncategory = risk\npattern = x\nmatch = x\n")))
		return;
	ok(rules_load(dir, &rs, &errs) == MG_BADCONF && rs == NULL, "a bad file loads nothing");
	ok(errs.s && strstr(errs.s, "10-bad.rules:2: unknown category gossip"), "file:line for a category");
	ok(errs.s && strstr(errs.s, "10-bad.rules:3: action is flag"), "file:line for an action");
	ok(errs.s && strstr(errs.s, "10-bad.rules:4: pattern: missing closing parenthesis"),
	    "file:line and PCRE2's reason for a pattern");
	ok(errs.s && strstr(errs.s, "rule two has no nomatch example"), "a rule needs both examples");
	unlink(path);
	rmdir(dir);
	free(path);
	buf_free(&errs);
}

/* Does rule name hit text? */
static int
hits(const struct rules *rs, const char *name, const char *text)
{
	struct screen_hit *h;
	size_t n = screen_text(rs, text, strlen(text), &h);
	int yes = 0;

	for (size_t i = 0; i < n; i++)
		yes |= !strcmp(h[i].rule->name, name);
	free(h);
	return yes;
}

/* Word lists, unless and [allow]. */
static void
words_unless_allow(void)
{
	char dir[] = "/tmp/mg-rules-XXXXXX", *path;
	struct rules *rs = NULL;
	struct buf errs = {0};
	FILE *f;

	if (!(path = rules_file(dir, "10-w.rules", "[allow]\nentry = 0800 1111\nentry = Example.ORG\n"
	    "[words meet]\nsource = test\nword = meet*\nword = catch up\nword = see you\n"
	    "[words place]\nsource = test\nword = park\nword = caf\xc3\xa9\nword = (x)\n"
	    "[fragment refusal]\nregex = \\b(?:don't|never)\\b\nregex = \\bnot\\s+{meet}\n"
	    "[rule meeting]\ncategory = meeting\naction = hold\npattern = {meet}\\W+(?:\\w+\\W+){0,3}?at\\W+the\\W+{place}\n"
	    "unless = {refusal}\nwhy = a meeting somewhere\n"
	    "match = let's meet up at the park\nnomatch = I don't think we should meet at the park\n"
	    "[rule phone]\ncategory = contact-phone\naction = hold\npattern = \\b0\\d{3} ?\\d{3,4}(?: ?\\d{3})?\\b\n"
	    "match = ring 0800 123 456\nnomatch = ring Childline on 0800 1111\n"
	    "[rule boundary]\ncategory = meeting\naction = flag\npattern = \\b{meet}\\b\n"
	    "match = meet\nnomatch = greet\n"
	    "[rule site]\ncategory = social\naction = flag\npattern = \\w+\\.org\\b\n"
	    "match = see other.org\nnomatch = see example.org\n"
	    "[words slur]\nobscured = yes\nsource = test\nword = gyppo*\nword = wog\n"
	    "[rule slur]\ncategory = abuse\naction = hold\npattern = {slur}\n"
	    "match = the g*ppos\nnomatch = jo_wo_ on snap\n")))
		return;
	ok(rules_load(dir, &rs, &errs) == MG_OK, "word lists, unless, why and [allow] load");
	if (errs.s)
		printf("# %s", errs.s);
	if (rs) {
		ok(rules_check(rs, &errs) == MG_OK, "their examples hold");
		ok(hits(rs, "meeting", "Shall we catch up at the caf\xc3\xa9?"), "a phrase of a list, any word");
		ok(hits(rs, "boundary", "we meet at noon"), "\\b{list} is a boundary and a list");
		ok(hits(rs, "meeting", "meeting\nat the park"), "a list's words across a line break");
		ok(!hits(rs, "meeting", "We never meet at the park. Fine."), "unless in the sentence drops it");
		ok(!hits(rs, "meeting", "Better not meet up at the park."),
		    "a fragment's second line, with a list in it, guards too");
		ok(hits(rs, "meeting", "I don't mind. Meet me at the park?"), "unless in another sentence does not");
		ok(!hits(rs, "meeting", "I don't write to x@a.test or meet at the park"),
		    "a stop inside an address ends no sentence");
		ok(!hits(rs, "meeting", "We never go before 9.30 to meet at the park"), "nor one inside a number");
		ok(hits(rs, "meeting", "I don't mind.Meet me at the park?"), "a stop before a word still ends one");
		ok(!hits(rs, "meeting", "we met at the parking"), "a list's word is matched whole");
		ok(!hits(rs, "phone", "Childline: 0800 1111."), "an allowed number is no hit");
		ok(hits(rs, "phone", "Childline 0800 1111, me 0800 123 456"), "a number after it still is");
		rules_allow(rs, "0800 123 456");
		ok(!hits(rs, "phone", "me 0800 123 456"), "a programme's own entry");
		ok(!hits(rs, "site", "at EXAMPLE.org today"), "an allowed text, case aside");
		ok(rs->v[0].why && !strcmp(rs->v[0].why, "a meeting somewhere"), "why is kept");
		ok(hits(rs, "slur", "the g#ppos from the site") && hits(rs, "slur", "some w0g"),
		    "an obscured list: a symbol inside, a digit for a letter");
		ok(hits(rs, "slur", "some w0g!!!"), "a word's trailing stops are not counted as symbols");
		ok(hits(rs, "slur", "GYPPO") && !hits(rs, "slur", "g**** off"),
		    "the word itself, and not three symbols in one");
		ok(!hits(rs, "slur", "wo* and w*g*") && !hits(rs, "slur", "*wog"),
		    "a symbol may stand for no last letter, nor stand before the word");
		rules_free(rs);
	}
	unlink(path);
	buf_free(&errs);
	/* an unknown list, a list without source */
	if ((f = fopen(path, "w"))) {
		fputs("[words a]\nword = x\n[rule r]\ncategory = risk\npattern = {nope}\\d{2}\\p{L}\n"
		    "match = x\nnomatch = y\n[fragment f]\nregex = (?:x\n[fragment g]\nword = x\n"
		    "[fragment h]\n", f);
		fclose(f);
		ok(rules_load(dir, &rs, &errs) == MG_BADCONF, "bad word lists refuse the set");
		ok(errs.s && strstr(errs.s, "10-w.rules:1: word list a has no source"), "a list needs a source");
		ok(errs.s && strstr(errs.s, "10-w.rules:5: pattern: unknown word list or fragment {nope}"),
		    "an unknown list at its line (\\d{2} and \\p{L} are no lists)");
		ok(errs.s && strstr(errs.s, "10-w.rules:9: regex: "), "a fragment's bad regex at its line");
		ok(errs.s && strstr(errs.s, "10-w.rules:11: a fragment holds regex = lines"),
		    "a fragment holds regex lines only");
		ok(errs.s && strstr(errs.s, "10-w.rules:12: fragment h has no regex"), "nor is it empty");
		unlink(path);
	}
	rmdir(dir);
	free(path);
	buf_free(&errs);
}

static void
plain(const char *in, const char *want)
{
	size_t *map, n;
	char *got = plain_view(in, strlen(in), &map, &n);

	is_str(got, want, "plain view of [%s]", in);
	ok(n == strlen(got) && map[n] == strlen(in), "map covers the view");
	for (size_t i = 0; i < n; i++)
		if (map[i] >= strlen(in)) {
			ok(0, "map entry %zu out of range", i);
			break;
		}
	free(got);
	free(map);
}

/* A rule with view = plain catches obscured words, and tells the place in
 * the text. */
static void
plain_rule(void)
{
	char dir[] = "/tmp/mg-rules-XXXXXX", *path;
	struct rules *rs = NULL;
	struct buf errs = {0};
	struct screen_hit *h;
	FILE *f;
	const char *t = "ok you are a L0000SER, k i l l it";
	size_t n;

	if (!(path = rules_file(dir, "10-p.rules", "[rule loser]\ncategory = abuse\naction = hold\nview = plain\npattern = \\bloser\\b\n"
	    "match = you l0s3r\nnomatch = you lost\n")))
		return;
	ok(rules_load(dir, &rs, &errs) == MG_OK && rules_check(rs, &errs) == MG_OK,
	    "view = plain loads and its examples hold");
	if (rs) {
		n = screen_text(rs, t, strlen(t), &h);
		ok(n == 1 && !strncmp(t + h[0].start, "L0000SER", h[0].end - h[0].start) &&
		    h[0].end - h[0].start == 8, "the hit is told in the text's places");
		free(h);
		rules_free(rs);
		rs = NULL;
	}
	/* view = text plain: what only the text shows, and what only the
	 * plain view shows, are both found */
	if ((f = fopen(path, "w"))) {
		fputs("[rule both]\ncategory = abuse\naction = hold\nview = text plain\n"
		    "pattern = \\bL0SER\\b\npattern = \\bidiot\\b\nmatch = what an id10t\n"
		    "match = L0SER\nnomatch = lose it\n", f);
		fclose(f);
	}
	ok(rules_load(dir, &rs, &errs) == MG_OK && rules_check(rs, &errs) == MG_OK,
	    "view = text plain loads and its examples hold%s%s", errs.s ? ": " : "", errs.s ? errs.s : "");
	if (rs) {
		const char *u = "L0SER and id10t";
		n = screen_text(rs, u, strlen(u), &h);
		ok(n == 2 && h[0].start == 0 && h[0].end == 5 && h[1].start == 10 && h[1].end == 15,
		    "the text's hit and the plain view's hit, each in its place");
		free(h);
		rules_free(rs);
	}
	unlink(path);
	rmdir(dir);
	free(path);
	buf_free(&errs);
}

/* A line written backwards is screened the right way round, and its hit
 * is told where the line is; ordinary text is not read backwards. */
static void
backwards(void)
{
	struct rules *rs = NULL;
	struct buf errs = {0};
	struct screen_hit *h;
	const char *t = "See you Thursday!\n321 009 00770 no em txet, terces ruo ti peek\nbye";
	size_t n, k;

	ok(plain_backwards("ti pans no em dda", 17), "a request written backwards reads as one");
	ok(!plain_backwards("no, it is on the list: add it to the notes", 42),
	    "a forward line is forward ('no' and 'on' tell nothing)");
	ok(!plain_backwards("eht", 3), "one word is not enough");
	char *r = plain_reverse("ab\xc3\xa9" "c", 5);
	is_str(r, "c\xc3\xa9" "ba", "a UTF-8 character keeps its bytes in order");
	free(r);
	if (rules_load("conf/rules", &rs, &errs) != MG_OK)
		return;
	n = screen_text(rs, t, strlen(t), &h);
	for (k = 0; k < n && strcmp(h[k].rule->category, "contact-phone"); k++)
		;
	ok(k < n && h[k].start >= 18 && h[k].end <= strlen(t) - 4 &&
	    !strncmp(t + h[k].start, "321 009 00770", 13), "a number written backwards is found where it is");
	free(h);
	t = "Thanks for the notes on the ward round, no rush on the reading list.";
	n = screen_text(rs, t, strlen(t), &h);
	ok(n == 0, "an ordinary line passes");
	free(h);
	rules_free(rs);
	buf_free(&errs);
}

/* A sentence the writer's client wrapped is read across the wrap; a short
 * line, or one that ends a sentence, is not joined to the next; a rule that
 * takes a newline for the end of a request still sees it. */
static void
wrapped(void)
{
	char dir[] = "/tmp/mg-wrap-XXXXXX", *path;
	struct rules *rs = NULL;
	struct buf errs = {0};
	struct screen_hit *h;
	static const char wrap[] = "Thanks for the notes on the application form, maybe we could meet\n"
	    "for a coffee on Saturday.",
	    shortline[] = "maybe we could meet\nfor a coffee.",
	    ended[] = "Thanks for the notes on the application form, we should all meet.\n"
	    "coffee is on the programme at the session.";

	if (!(path = rules_file(dir, "10-wrap.rules", "[rule wrap]\ncategory = meeting\naction = hold\n"
	    "pattern = \\bmeet\\b[^.!?\\n]{0,20}\\bcoffee\\b\nmatch = meet for a coffee\n"
	    "nomatch = coffee to meet\n"
	    "[rule line-end]\ncategory = contact-email\naction = hold\n"
	    "pattern = \\byour\\s+email(?=[ \\t]*\\n)\nmatch = can i have your email\n"
	    "nomatch = your email address\n")))
		return;
	ok(rules_load(dir, &rs, &errs) == MG_OK, "a rule with a gap that stops at a newline loads");
	if (rs) {
		size_t n = screen_text(rs, wrap, strlen(wrap), &h);
		ok(n == 1 && h[0].start == (size_t)(strstr(wrap, "meet") - wrap) &&
		    h[0].end == (size_t)(strstr(wrap, "coffee") - wrap) + 6,
		    "a wrapped sentence is read across its wrap, the hit in the text's offsets");
		free(h);
		ok(screen_text(rs, shortline, strlen(shortline), &h) == 0, "a short line is its own");
		free(h);
		ok(screen_text(rs, ended, strlen(ended), &h) == 0, "a line that ends a sentence too");
		free(h);
		static const char asked[] = "Thanks again for all the help with the forms, can i have your email\n"
		    "thanks so much for today";
		n = screen_text(rs, asked, strlen(asked), &h);
		ok(n == 1 && !strcmp(h[0].rule->name, "line-end"),
		    "a request ended by a newline is still one, though the line wraps");
		free(h);
		rules_free(rs);
	}
	unlink(path);
	rmdir(dir);
	free(path);
	buf_free(&errs);
}

int
main(void)
{
	wrapped();
	backwards();
	plain("f*ck off, you l0s3r!!", "fck off, you loser!!");
	plain("k.i.l.l y0urs3lf", "kill yourself");
	plain("k i l l yourself", "kill yourself");
	plain("soooo stupiiiid", "so stupid");
	plain("call 07700 900123 at 10:30", "call 07700 900123 at 10:30");
	plain("A&E, Year 12, 3rd, 10am, sh!t, a$$", "a&e, year 12, 3rd, 10am, shit, a$$");
	plain("", "");
	plain_rule();
	spoken("call 07700 900 123 now", "call 07700900123 now");
	spoken("zero seven seven zero zero, nine zero zero, four four one",
	    "07700900441");
	spoken("oh seven seven double oh nine double oh four five six", "07700900456");
	spoken("077 double 0 900 triple 3 after 4", "07700900333 after 4");
	spoken("O77OO 9OO 731", "07700900731");
	spoken("zero sevn seven zeroo zero nine zero zreo one two thre", "07700900123");
	spoken("seven even seen there, the tree", "7 even seen there, the tree");
	spoken("a fiev star review, sevn days", "a fiev star review, sevn days");
	spoken("jo dot b at live dot co dot uk", "jo.b@live.co.uk");
	spoken("liam[at]hotmail.co.uk", "liam@hotmail.co.uk");
	spoken("m a y a . p 0 7 @ y a h o o . c o m thanks", "maya.p07@yahoo.com thanks");
	spoken("(020) 7946 0000", "(02079460000");
	spoken("Ward 7, 2014-2015", "Ward 7, 20142015");
	spoken("at 07:45 and 06:50", "@07:45 and 06:50");
	spoken("oh seven seven double oh\nnine double oh", "07700900");
	spoken("7\n2014", "7\n2014");
	spoken("", "");
	shipped_rules();
	long_text();
	empty_rules();
	bad_rules();
	words_unless_allow();
	return tap_done();
}
