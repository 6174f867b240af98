/* rules: the screening rule sets (conf/rules/NN-name.rules), parsed, compiled
 * (PCRE2: UTF, UCP, caseless, a match limit) and self-checked against
 * their own examples.
 *
 * A file holds stanzas:
 *     [rule NAME]
 *     category = contact-phone   one of the eight categories below
 *     action = hold              flag | hold | escalate
 *     view = spoken              optional: match the spoken view (see screen.h),
 *                                or the plain view (plain.h: leetspeak,
 *                                symbols in words, stretched letters undone),
 *                                or "text plain": the text, then the plain
 *                                view (words obscured or not)
 *     pattern = REGEX            one or more; any may match
 *     match = EXAMPLE            one or more lines the rule must catch
 *     nomatch = EXAMPLE          one or more it must not
 *     unless = REGEX             optional, repeatable: a hit is dropped when
 *                                this matches in the same sentence (a
 *                                negation, a refusal, a figure of speech)
 *     why = TEXT                 optional: what the rule looks for, in words
 * A word list, usable in any later pattern or unless as {NAME}:
 *     [words NAME]
 *     source = TEXT              where its entries come from (required)
 *     word = ENTRY               one or more: a word or phrase (a space
 *                                matches any white space, a final '*' any
 *                                ending), matched whole, caseless
 *     obscured = yes             optional: also match each word with up to
 *                                two letters in leetspeak or, inside it,
 *                                a symbol (* # @ % $): "g*ppo", "tr@nny"
 * What is never a hit, however a rule reads it (signposting):
 *     [allow]
 *     entry = TEXT               a number (matched by its digits, however
 *                                written) or a text such as an address
 * Blank lines and lines starting with '#' are ignored.
 * The directory's screen.model, if any (model.h), is a second opinion: a
 * category it rates at its threshold or above, where no rule hit, is a hit
 * of the rule "model-CATEGORY" (action hold), marking the words that
 * weigh most. */
#ifndef RULES_H
#define RULES_H

#include <stddef.h>

#include "mg.h"
#include "model.h"
#include "pattern.h"
#include "prefilter.h"

#define RULES_CATEGORIES "contact-phone contact-email social address meeting money risk abuse"

enum rule_action { RULE_FLAG, RULE_HOLD, RULE_ESCALATE };
enum rule_view { RULE_VIEW_TEXT, RULE_VIEW_SPOKEN, RULE_VIEW_PLAIN };

struct rule {
	char *name, *category;
	enum rule_action action;
	enum rule_view view;
	int also_plain;		/* view = text plain: the plain view searched too */
	struct pattern **re;
	char **src;		/* the patterns as written */
	size_t nre;
	size_t pf_first;	/* prefilter index of re[0] */
	char **match, **nomatch;
	size_t nmatch, nnomatch;
	struct pattern **unless;
	size_t nunless;
	char *why;
	char *file;
	int line;
	int model;		/* the model's hit for its category (no pattern) */
};

struct rules {
	struct rule *v;
	size_t n;
	struct prefilter *pf;	/* which patterns a text could match */
	char **allow;		/* [allow] entries: digits only, or lower-case text */
	size_t nallow;
	struct model *model;	/* screen.model, when the directory holds one */
	size_t model_rule[MODEL_MAXCAT];	/* rs->v index of each category's rule */
};

/* One more [allow] entry (a programme's own, from its configuration). */
void rules_allow(struct rules *, const char *entry);
/* Is the text of a hit allowed (signposting)? */
int rules_allowed(const struct rules *, const char *text, size_t len);

/* Every file in dir whose name ends in ".rules", in name order.  Errors are appended to errs as
 * "file:line: why" lines (all of them); MG_BADCONF then. */
enum mg_status rules_load(const char *dir, struct rules **out, struct buf *errs);
void rules_free(struct rules *);

/* Does every rule catch its match examples and none of its nomatch ones
 * (screened exactly as a message would be)?  Failures appended to errs. */
enum mg_status rules_check(const struct rules *, struct buf *errs);

const char *rules_action_name(enum rule_action);

#endif
