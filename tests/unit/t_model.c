/* Unit tests for the screen's statistical second opinion: its features,
 * its file, its scores and its place among the rules' hits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "rules.h"
#include "screen.h"
#include "tap.h"

/* A new directory (from template dir) holding each NAME, TEXT pair of
 * files[]; NULL-terminated. */
static int
write_dir(char *dir, const char *const *files)
{
	if (!mkdtemp(dir))
		return -1;
	for (size_t i = 0; files[i]; i += 2) {
		char *path = xasprintf("%s/%s", dir, files[i]);
		FILE *f = fopen(path, "w");
		if (f) {
			fputs(files[i + 1], f);
			fclose(f);
		}
		free(path);
		if (!f)
			return -1;
	}
	return 0;
}

static void
remove_dir(const char *dir, const char *const *files)
{
	for (size_t i = 0; files[i]; i += 2) {
		char *path = xasprintf("%s/%s", dir, files[i]);
		unlink(path);
		free(path);
	}
	rmdir(dir);
}

static void
features(const char *text, const char *want)
{
	struct buf b = {0};

	model_features(text, strlen(text), &b);
	is_str(b.s ? b.s : "", want, "features of [%s]", text);
	buf_free(&b);
}

static const char MODEL[] =
    "# a test model\n"
    "categories risk meeting\n"
    "bias -2 -3\n"
    "threshold 0.6 0.5\n"
    "floor 100\n"
    "u:hopeless 0:30\n"
    "b:no_point 0:14.5 1:-9.75\n"
    "u:cafe 1:25\n"
    "b:meet_up 1:20\n";

static void
scores(void)
{
	static const char *const files[] = { "screen.model", MODEL, NULL };
	char dir[] = "/tmp/t_model.XXXXXX";
	struct model *m = NULL;
	struct buf errs = {0};
	double p[MODEL_MAXCAT];
	size_t span[MODEL_MAXCAT][2];
	const char *t = "I feel HOPELESS, hopeless. No point, none at all";

	if (write_dir(dir, files)) {
		ok(0, "cannot write %s", dir);
		return;
	}
	char *path = xasprintf("%s/screen.model", dir);
	ok(model_load(path, &m, &errs) == MG_OK, "a model loads: %s", errs.s ? errs.s : "");
	free(path);
	if (!m)
		goto out;
	ok(model_ncat(m) == 2 && !strcmp(model_category(m, 1), "meeting"), "its categories");
	model_score(m, t, strlen(t), p, span);
	/* hopeless once (present, not counted), no_point, over sqrt(100):
	 * -2 + (30 + 14.5) / 10 */
	ok(fabs(p[0] - 1 / (1 + exp(-2.45))) < 1e-6, "risk: a word once however often, and a pair");
	ok(fabs(p[1] - 1 / (1 + exp(3.975))) < 1e-6, "meeting: the pair weighs against");
	ok(model_hit(m, 0, p[0]) && !model_hit(m, 1, p[1]), "hit from the threshold on");
	ok(span[0][0] == 7 && span[0][1] == 15, "the span: the word weighing most (%zu-%zu)",
	    span[0][0], span[0][1]);
	ok(span[1][0] == 0 && span[1][1] == 0, "nothing weighs for meeting: no span");
	t = "shall we MEET   UP at the cafe";
	model_score(m, t, strlen(t), p, span);
	ok(fabs(p[1] - 1 / (1 + exp(3.0))) < 1e-6, "under 8 words: no opinion, the bias alone");
	t = "shall we MEET   UP at the cafe on Friday";
	model_score(m, t, strlen(t), p, span);
	ok(model_hit(m, 1, p[1]) && span[1][0] == 26 && span[1][1] == 30, "a pair across spaces");
	/* padding with words it does not know changes nothing */
	struct buf b = {0};
	buf_adds(&b, "I feel HOPELESS, hopeless. No point, none at all");
	for (int i = 0; i < 301; i++)
		buf_adds(&b, " word");
	model_score(m, b.s, b.len, p, span);
	ok(fabs(p[0] - 1 / (1 + exp(-2.45))) < 1e-6, "padding changes nothing (%f)", p[0]);
	buf_free(&b);
	model_free(m);
out:
	buf_free(&errs);
	remove_dir(dir, files);
}

/* A text with more of the model's features than its floor weighs each
 * less: 1 / sqrt(known features). */
static void
long_text(void)
{
	static const char *files[] = { "screen.model", NULL, NULL };
	char dir[] = "/tmp/t_model.XXXXXX";
	struct buf model = {0}, t = {0};
	struct model *m = NULL;
	struct buf errs = {0};
	double p[MODEL_MAXCAT];
	size_t span[MODEL_MAXCAT][2];

	buf_adds(&model, "categories risk\nbias -2\nthreshold 0.6\nfloor 4\nu:hopeless 0:3\n");
	buf_adds(&t, "hopeless");
	for (int i = 0; i < 99; i++) {
		buf_printf(&model, "u:w%c%c\n", 'a' + i / 26, 'a' + i % 26);	/* (no weight) */
		buf_printf(&t, " w%c%c", 'a' + i / 26, 'a' + i % 26);
	}
	files[1] = model.s;
	if (write_dir(dir, files)) {
		ok(0, "cannot write %s", dir);
		return;
	}
	char *path = xasprintf("%s/screen.model", dir);
	ok(model_load(path, &m, &errs) == MG_OK, "a model of 100 features loads: %s",
	    errs.s ? errs.s : "");
	if (m) {
		model_score(m, t.s, t.len, p, span);
		ok(fabs(p[0] - 1 / (1 + exp(2 - 3 / 10.0))) < 1e-6 && !model_hit(m, 0, p[0]),
		    "100 known features: each weighs a tenth (%f)", p[0]);
		model_score(m, t.s, 8 + 4 * 7, p, span);	/* "hopeless" and 7 more: 8 known */
		ok(fabs(p[0] - 1 / (1 + exp(2 - 3 / sqrt(8.0)))) < 1e-6, "8 known: 1/sqrt(8) (%f)", p[0]);
		model_free(m);
	}
	free(path);
	buf_free(&errs);
	buf_free(&model);
	buf_free(&t);
	remove_dir(dir, files);
}

/* Word classes: a listed word also has its class's feature, once a text
 * however many of its words it holds; classes do not count as words. */
static void
classes(void)
{
	static const char *const files[] = { "screen.model",
		"categories risk\nbias -2\nthreshold 0.6\nfloor 1\n"
		"u:bruises 0:2\nk:7 0:6\nk:8 0:-1\n"
		"c:bruises 7\nc:scars 7\nc:cake 8\nc:tea 9\n"
		"c:scars 8\n", NULL };	/* (given twice: the first class is kept) */
	char dir[] = "/tmp/t_model.XXXXXX";
	struct model *m = NULL;
	struct buf errs = {0};
	double p[MODEL_MAXCAT];
	size_t span[MODEL_MAXCAT][2];
	const char *t;

	if (write_dir(dir, files)) {
		ok(0, "cannot write %s", dir);
		return;
	}
	char *path = xasprintf("%s/screen.model", dir);
	ok(model_load(path, &m, &errs) == MG_OK, "a model with classes loads: %s",
	    errs.s ? errs.s : "");
	free(path);
	if (!m)
		goto out;
	/* scars, scars: k:7 once, the one feature known: -2 + 6 / sqrt(1) */
	t = "there are scars and scars on my arm from it";
	model_score(m, t, strlen(t), p, span);
	ok(fabs(p[0] - 1 / (1 + exp(-4.0))) < 1e-6, "a class word counts its class once (%f)",
	    p[0]);
	ok(span[0][0] == 10 && span[0][1] == 15, "the span: the class's word (%zu-%zu)",
	    span[0][0], span[0][1]);
	/* bruises: its own word and its class, two known: -2 + (2 + 6) / sqrt(2) */
	t = "there are bruises and scars on my arm from it";
	model_score(m, t, strlen(t), p, span);
	ok(fabs(p[0] - 1 / (1 + exp(-(-2 + 8 / sqrt(2))))) < 1e-6,
	    "a word and its class both weigh (%f)", p[0]);
	/* classes are not words: seven words stay too short for an opinion */
	t = "scars bruises cake and more on my";
	model_score(m, t, strlen(t), p, span);
	ok(fabs(p[0] - 1 / (1 + exp(2.0))) < 1e-6, "seven words with classes: the bias alone");
	t = "Cake, CAKE and more cake for all of us";
	model_score(m, t, strlen(t), p, span);
	ok(fabs(p[0] - 1 / (1 + exp(3.0))) < 1e-6, "a class read in any case (%f)", p[0]);
	/* tea: a class the model gives no weight: nothing, and not known */
	t = "so much cake tea scars nobody here at all, sadly";
	model_score(m, t, strlen(t), p, span);
	ok(fabs(p[0] - 1 / (1 + exp(-(-2 + 5 / sqrt(2))))) < 1e-6,
	    "a class with no weights counts for nothing (%f)", p[0]);
	model_free(m);
out:
	buf_free(&errs);
	remove_dir(dir, files);
}

static void
bad_file(const char *text, const char *want)
{
	static const char *files[] = { "screen.model", NULL, NULL };
	char dir[] = "/tmp/t_model.XXXXXX";
	struct model *m = NULL;
	struct buf errs = {0};

	files[1] = text;
	if (write_dir(dir, files)) {
		ok(0, "cannot write %s", dir);
		return;
	}
	char *path = xasprintf("%s/screen.model", dir);
	ok(model_load(path, &m, &errs) == MG_BADCONF && !m && errs.s && strstr(errs.s, want),
	    "refused with [%s]: %s", want, errs.s ? errs.s : "(nothing said)");
	free(path);
	buf_free(&errs);
	remove_dir(dir, files);
}

/* In a rules directory: a category the model rates is a hit of
 * model-CATEGORY, unless a rule that holds hit it already; redaction
 * leaves the model's words alone. */
static void
among_rules(void)
{
	static const char *const files[] = {
		"10-t.rules", "[rule cafe-meet]\ncategory = meeting\naction = hold\n"
		    "pattern = \\bcafe\\b\nmatch = the cafe\nnomatch = the park\n",
		"screen.model", MODEL, NULL };
	char dir[] = "/tmp/t_model.XXXXXX";
	struct rules *rs = NULL;
	struct buf errs = {0};
	struct screen_hit *h;
	const char *t = "honestly it all feels so hopeless right now";
	size_t n;

	if (write_dir(dir, files)) {
		ok(0, "cannot write %s", dir);
		return;
	}
	ok(rules_load(dir, &rs, &errs) == MG_OK, "rules and a model load: %s", errs.s ? errs.s : "");
	if (!rs)
		goto out;
	n = screen_text(rs, t, strlen(t), &h);
	ok(n == 1 && h[0].rule->model && !strcmp(h[0].rule->name, "model-risk") &&
	    h[0].rule->action == RULE_HOLD && h[0].start == 25 && h[0].end == 33,
	    "the model's hit, on the word that weighs most");
	free(h);
	t = "shall we meet up at the cafe on Friday";
	n = screen_text(rs, t, strlen(t), &h);
	ok(n == 1 && !strcmp(h[0].rule->name, "cafe-meet"), "a rule's hit of the category stands alone");
	free(h);
	t = "see you at the meeting on Friday, all of us";
	n = screen_text(rs, t, strlen(t), &h);
	ok(n == 0, "nothing rated, nothing hit");
	free(h);
	rules_free(rs);
out:
	buf_free(&errs);
	remove_dir(dir, files);
}

/* A model that names a category the rules do not know refuses the set,
 * naming the file and the category. */
static void
unknown_category(void)
{
	static const char *const files[] = {
		"10-t.rules", "[rule cafe]\ncategory = meeting\naction = hold\npattern = \\bcafe\\b\n"
		    "match = the cafe\nnomatch = the park\n",
		"screen.model", "categories risk gossip\nbias -2 -2\nthreshold 0.6 0.6\nu:a 0:1\n", NULL };
	char dir[] = "/tmp/t_model.XXXXXX";
	struct rules *rs = NULL;
	struct buf errs = {0};

	if (write_dir(dir, files)) {
		ok(0, "cannot write %s", dir);
		return;
	}
	ok(rules_load(dir, &rs, &errs) == MG_BADCONF && !rs, "a model of an unknown category refuses the set");
	ok(errs.s && strstr(errs.s, "screen.model: unknown category gossip (one of: "),
	    "and says which: %s", errs.s ? errs.s : "");
	rules_free(rs);
	buf_free(&errs);
	remove_dir(dir, files);
}

int
main(void)
{
	features("Don't  stop, it's 2 o’clock!", "u:dont\nu:stop\nb:dont_stop\nu:its\nb:stop_its\n"
	    "u:oclock\nb:its_oclock\n");
	features("abc123DEF 07700 900123", "u:abc\nu:def\nb:abc_def\n");
	features("café 'quoted'", "u:caf\nu:quoted\nb:caf_quoted\n");
	features("", "");
	features("... !!", "");
	scores();
	unknown_category();
	bad_file("bias 1\n", ":1: \"categories\" must come first");
	bad_file("", "screen.model: empty");
	bad_file("categories risk\nbias 1 2\nthreshold 0.5\n", ":2: bias: one number per category");
	bad_file("categories risk\nbias 1\nthreshold 1.5\n", ":3: threshold: one probability");
	bad_file("categories risk\nbias 1\nthreshold 0.5\nu:a 0:1\nu:a 0:2\n", ":5: feature given twice");
	bad_file("categories risk\nbias 1\nthreshold 0.5\nu:a 3:1\n", ":4: weights are INDEX:WEIGHT");
	bad_file("categories risk\nbias 1\nthreshold 0.5\nword 0:1\n", ":4: a feature is u:WORD");
	bad_file("categories risk\nbias 1\n", "no threshold line");
	bad_file("categories risk\nbias 1\nthreshold 0.5\nfloor 0\n", ":4: floor: a whole number");
	bad_file("categories risk\nbias 1\nthreshold 0.7\n", "risk: the threshold is not above the bias");
	bad_file("categories risk risk\nbias 1 1\nthreshold 0.5 0.5\n", ":1: a category given twice");
	bad_file("categories risk\nbias -1\nthreshold 0.5\nu:a 0:1 0:2\n", ":4: weights are INDEX");
	bad_file("categories risk\nbias -1\nthreshold 0.5\nu:a 0:1e300\n", ":4: weights are INDEX");
	/* weights are read in thousandths, as the trainer writes them */
	bad_file("categories risk\nbias -1\nthreshold 0.5\nu:a 0:1.2345\n", ":4: weights are INDEX");
	bad_file("categories risk\nbias -1\nthreshold 0.5\nu:a 0:30.001\n", ":4: weights are INDEX");
	bad_file("categories risk\nbias -1\nthreshold 0.5\nu:a 0:-0.000\n", ":4: weights are INDEX");
	bad_file("categories risk\nbias -1\nthreshold 0.5\nu:a 0:.\n", ":4: weights are INDEX");
	bad_file("categories risk\nbias -1\nthreshold 0.5\nu:a 0:1.5x\n", ":4: weights are INDEX");
	bad_file("categories risk\nbias -1\nthreshold 0.5\nu:a 0:99999999999999999999\n",
	    ":4: weights are INDEX");
	bad_file("categories risk\nbias -1\nthreshold 0.5\nc:scars k:7\n",
	    ":4: a word's class is c:WORD NUMBER");
	bad_file("categories risk\nbias -1\nthreshold 0.5\nc:Scars 7\n",
	    ":4: a word's class is c:WORD NUMBER");
	bad_file("categories risk\nbias -1\nthreshold 0.5\nc:scars -7\n",
	    ":4: a word's class is c:WORD NUMBER");
	bad_file("categories risk\nbias -1\nthreshold 0.5\nc:scars 1000000\n",
	    ":4: a word's class is c:WORD NUMBER");
	bad_file("categories risk\nbias -1\nthreshold 0.5\nx:scars 0:1\n",
	    ":4: a feature is u:WORD, b:WORD_WORD or k:CLASS");
	classes();
	long_text();
	among_rules();
	return tap_done();
}
