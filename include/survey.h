/* survey: questionnaires answered by email.
 *     [survey interim]
 *     week = 5                     sent on day 1 of that week, at the send hour
 *     audience = mentees           mentees, mentors or both
 *     question = The programme is useful to me      (repeat: rated 1-5)
 *     free_text = Anything else you want to tell us?  (optional)
 *     link = https://forms.example.org/s?t={{token}}  (optional web form;
 *                                  following it changes nothing here)
 *     reminder_days = 3            reminders to non-responders,
 *     max_reminders = 2            at most this many
 *     close_days = 6               answers taken until this many days after
 *                                  the wave's end (default reminder_days x
 *                                  max_reminders); later ones are refused
 * The invitation answers to LOCAL+survey-TOKEN@DOMAIN, a token per person.
 * Replies are read in any of "1) 4 2) 5 3) 3", "4 5 3", "4,5,3" or one
 * number per line (quoted text below is ignored), the free text after;
 * "CHANGE 2 3" corrects question 2 to 3 of an answer given.  Each answer is
 * confirmed; a malformed, early CHANGE or late one gets a helpful reply.
 * Owns the survey tables. */
#ifndef SURVEY_H
#define SURVEY_H

#include <stddef.h>

#include "mg.h"

struct conf;
struct mime_msg;
struct sched_conf;
struct store;

struct survey_def {
	char *name;
	int week, audience;		/* enum sched_audience */
	char **questions;
	size_t nquestions;
	char *free_text, *link;
	int reminder_days, max_reminders;
	int close_days;			/* -1: reminder_days * max_reminders */
	int line;
};

/* [survey NAME] opens a definition; then its keys. 0, or -1 with why. */
int survey_conf_section(struct sched_conf *, const char *name, int line, char *why, size_t n);
int survey_conf_key(struct sched_conf *, const char *key, const char *value, char *why, size_t n);
void survey_conf_free(struct sched_conf *);

/* Parse an answer to nq questions: scores[i] (1-5) for each, *free the
 * rest (caller frees), or *change set for "CHANGE Q S" (then scores[0] = Q,
 * scores[1] = S).  MG_BADINPUT with why for anything else. */
enum mg_status survey_parse(const char *text, size_t nq, int *scores, char **free_text,
    int *change, char *why, size_t whylen);

/* Invitations and reminders that are due; *queued = mails enqueued. */
enum mg_status survey_run(struct store *, const struct conf *, int *queued);

/* Mail to LOCAL+survey-TOKEN. */
enum mg_status survey_reply(struct store *, const struct conf *, int64_t message, const char *token,
    const struct mime_msg *);

/* CSV "token,q1,...,qN[,text]" from a web form, all or nothing (file:line
 * errors in err); *count = responses stored. */
enum mg_status survey_import(struct store *, const struct conf *, const char *path, int *count,
    struct buf *err);

#endif
