/* Unit tests for reading survey answers in every accepted form. */
#include <stdlib.h>
#include <string.h>

#include "sched.h"
#include "survey.h"
#include "tap.h"

static void
answer(const char *text, const char *want, const char *want_text, const char *name)
{
	int s[20], change;
	char *free_text, why[200], got[64] = "";

	if (survey_parse(text, 4, s, &free_text, &change, why, sizeof why) != MG_OK) {
		ok(want == NULL, "%s: refused (%s)", name, why);
		return;
	}
	if (change)
		snprintf(got, sizeof got, "change %d %d", s[0], s[1]);
	else
		snprintf(got, sizeof got, "%d %d %d %d", s[0], s[1], s[2], s[3]);
	is_str(got, want, "%s", name);
	is_str(free_text, want_text, "%s: free text", name);
	free(free_text);
}

int
main(void)
{
	answer("1) 4 2) 5 3) 3 4) 4", "4 5 3 4", NULL, "numbered");
	answer("4 5 3 4", "4 5 3 4", NULL, "bare");
	answer("4,5,3,4\n", "4 5 3 4", NULL, "commas");
	answer("4\n5\n3\n4\n", "4 5 3 4", NULL, "one per line");
	answer("2) 5 1) 4 4) 4 3) 3", "4 5 3 4", NULL, "numbered out of order");
	answer("1. 4\n2. 5\n3. 3\n4. 4\n5. I liked the videos", "4 5 3 4", "I liked the videos",
	    "numbered with dots, then the free text");
	answer("4 5 3 4\nIt was great, thank you!\n", "4 5 3 4", "It was great, thank you!",
	    "free text below bare scores");
	answer("CHANGE 2 3", "change 2 3", NULL, "CHANGE");
	answer("change 9 3", NULL, NULL, "CHANGE a question that does not exist");
	answer("4 5", NULL, NULL, "too few scores");
	answer("4 6 3 4", NULL, NULL, "a score out of range");
	answer("great thanks", NULL, NULL, "words only");
	answer("1) 4 2) 0 3) 3 4) 4", NULL, NULL, "a numbered zero");

	struct sched_conf sc = {0};
	char why[200];
	ok(survey_conf_section(&sc, "final", 1, why, sizeof why) == 0 &&
	    sc.surveys[0].close_days == -1, "close_days: unset by default (the reminder period)");
	ok(survey_conf_key(&sc, "close_days", "0", why, sizeof why) == 0 && sc.surveys[0].close_days == 0,
	    "close_days = 0: at the wave's end");
	ok(survey_conf_key(&sc, "close_days", "14", why, sizeof why) == 0 &&
	    sc.surveys[0].close_days == 14, "close_days = 14");
	ok(survey_conf_key(&sc, "close_days", "366", why, sizeof why) == -1, "close_days: at most 365");
	ok(survey_conf_key(&sc, "close_days", "-1", why, sizeof why) == -1, "close_days: not negative");
	survey_conf_free(&sc);
	/* the fuzzer's find: a key under a refused [survey NAME] line */
	struct sched_conf none = {0};
	ok(survey_conf_section(&none, "bad name!", 1, why, sizeof why) == -1 && !none.nsurveys,
	    "[survey bad name!] is refused");
	ok(survey_conf_key(&none, "week", "5", why, sizeof why) == -1 && strstr(why, "in no survey"),
	    "a key under it is refused, not written before the first survey");
	survey_conf_free(&none);
	return tap_done();
}
