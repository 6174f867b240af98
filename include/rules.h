/* rules: the screening rule sets (conf/rules/NN-name.rules), parsed, compiled
 * (PCRE2: UTF, UCP, caseless, JIT, a match limit) and self-checked against
 * their own examples.
 *
 * A file holds stanzas:
 *     [rule NAME]
 *     category = contact-phone   one of the eight categories below
 *     action = hold              flag | hold | escalate
 *     view = spoken              optional: match the spoken view (see screen.h)
 *     pattern = REGEX            one or more; any may match
 *     match = EXAMPLE            one or more lines the rule must catch
 *     nomatch = EXAMPLE          one or more it must not
 * Blank lines and lines starting with '#' are ignored. */
#ifndef RULES_H
#define RULES_H

#include <stddef.h>

#include "mg.h"
#include "pattern.h"
#include "prefilter.h"

#define RULES_CATEGORIES "contact-phone contact-email social address meeting money risk abuse"

enum rule_action { RULE_FLAG, RULE_HOLD, RULE_ESCALATE };
enum rule_view { RULE_VIEW_TEXT, RULE_VIEW_SPOKEN };

struct rule {
	char *name, *category;
	enum rule_action action;
	enum rule_view view;
	struct pattern **re;
	char **src;		/* the patterns as written */
	size_t nre;
	size_t pf_first;	/* prefilter index of re[0] */
	char **match, **nomatch;
	size_t nmatch, nnomatch;
	char *file;
	int line;
};

struct rules {
	struct rule *v;
	size_t n;
	struct prefilter *pf;	/* which patterns a text could match */
};

/* Every file in dir whose name ends in ".rules", in name order.  Errors are appended to errs as
 * "file:line: why" lines (all of them); MG_BADCONF then. */
enum mg_status rules_load(const char *dir, struct rules **out, struct buf *errs);
void rules_free(struct rules *);

/* Does every rule catch its match examples and none of its nomatch ones
 * (screened exactly as a message would be)?  Failures appended to errs. */
enum mg_status rules_check(const struct rules *, struct buf *errs);

const char *rules_action_name(enum rule_action);

#endif
