/* model: the screen's statistical second opinion.  A linear model per
 * category (logistic regression) over a text's words, word pairs and word
 * classes,
 * trained by `make model` (tests/corpus/train_model.py) and kept as text
 * in the rules directory (screen.model):
 *
 *     categories CAT ...          the categories it scores, in this order
 *     bias W ...                  one per category
 *     threshold P ...             a hit from this probability on (0 < P < 1)
 *     floor N                     optional (1): see below
 *     FEATURE IDX:W ...           a feature's weights, by category index
 *                                 (three decimals, at most MODEL_MAXWEIGHT)
 *     c:WORD CLASS                the word's class, a number (after the
 *                                 features: its weights are k:CLASS's)
 *
 * Features: the text's words (runs of ASCII letters, lower-cased; an
 * apostrophe inside is dropped; digits and all else separate them: numbers
 * are the detectors' to judge, the model reads words), each as
 * "u:TOKEN", and each two in a row as "b:FIRST_SECOND"; a word with a
 * class (words whose published vectors lie close: "bruises", "scars",
 * "wounds") also as "k:CLASS".  A category's
 * probability is the logistic of its bias plus the weights of the
 * features present (once each) divided by the square root of how many
 * of the model's features the text has, or of N if that is more: a long
 * text does not add up to a hit by its length alone, and words the model
 * does not know (padding) change nothing.  A text of fewer than
 * MODEL_MINWORDS words gets no opinion: its bias alone, which the loader
 * makes sure is under every threshold. */
#ifndef MODEL_H
#define MODEL_H

#include <stddef.h>

#include "mg.h"

#define MODEL_MAXCAT 16
#define MODEL_MINWORDS 8
#define MODEL_MAXWEIGHT 30	/* (kept in thousandths: int16_t) */
#define MODEL_MAXCLASS 999999

struct model;

/* Errors are appended to errs as "path:line: why"; MG_BADCONF then. */
enum mg_status model_load(const char *path, struct model **out, struct buf *errs);
void model_free(struct model *);
size_t model_ncat(const struct model *);
const char *model_category(const struct model *, size_t i);

/* For each category, the probability p[i] that text is of it, and where
 * the feature that weighs most for it lies ([span[i][0], span[i][1]),
 * both 0 when none weighs for it).  Returns ncat. */
size_t model_score(const struct model *, const char *text, size_t len, double *p,
    size_t (*span)[2]);
int model_hit(const struct model *, size_t i, double p);

/* The features of text, one per line (for training). */
void model_features(const char *text, size_t len, struct buf *out);

#endif
