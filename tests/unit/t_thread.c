/* Unit tests for conversation topics. */
#include <stdlib.h>

#include "tap.h"
#include "thread.h"

static void
topic(const char *subject, const char *want)
{
	char *t = thread_topic(subject);

	is_str(t, want, "topic of [%s]", subject ? subject : "(null)");
	free(t);
}

int
main(void)
{
	topic("Week 1: my favourite clips", "week 1: my favourite clips");
	topic("Re: Week 1: my favourite clips", "week 1: my favourite clips");
	topic("RE: re: Fwd: Week 1", "week 1");
	topic("AW: WG: Praktikum", "praktikum");
	topic("SV: Vs: Re[2]: plans", "plans");
	topic("Re(3):  lots   of   space ", "lots of space");
	topic("[mentoring] Re: [EXT] Careers fair", "careers fair");
	topic("Careers fair (fwd)", "careers fair");
	topic("回复：面试", "面试");
	topic("Réf : Stage", "stage");
	topic("Rezept: Kuchen", "rezept: kuchen");	/* "Re" must be a whole prefix */
	topic("Reading list", "reading list");
	topic("", "");
	topic(NULL, "");
	topic("[unclosed tag", "[unclosed tag");
	return tap_done();
}
