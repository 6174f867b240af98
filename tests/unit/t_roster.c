/* Unit tests for roster_born: the last day a born column may mean, and
 * who is under 18 on a given day. */
#include "roster.h"
#include "tap.h"

/* 2026-12-06 12:00 UTC */
#define NOW 1796558400

static int
under18(const char *born, int day)
{
	int last = roster_born(born, NOW);

	return last > 0 && day < last + 180000;
}

int
main(void)
{
	ok(roster_born("2009-03-14", NOW) == 20090314, "a full date is itself");
	ok(roster_born("2009-03", NOW) == 20090331, "a month: its last day (31 is enough to compare)");
	ok(roster_born("2009", NOW) == 20091231, "a year: its 31 December");
	ok(roster_born("1958-11-02", NOW) == 19581102, "a mentor born before 1970");
	ok(roster_born("2027-01-01", NOW) < 0, "after today: refused");
	ok(roster_born("2026-12-07", NOW) < 0, "tomorrow: refused");
	ok(roster_born("2026-12-06", NOW) == 20261206, "today: taken");
	ok(roster_born("09-03-14", NOW) < 0 && roster_born("2009-3-14", NOW) < 0 &&
	    roster_born("2009/03/14", NOW) < 0 && roster_born(" 2009", NOW) < 0 &&
	    roster_born("+2009", NOW) < 0 && roster_born("", NOW) < 0, "only YYYY, YYYY-MM, YYYY-MM-DD");
	ok(roster_born("2009-13-01", NOW) < 0 && roster_born("2009-00", NOW) < 0 &&
	    roster_born("2009-02-32", NOW) < 0 && roster_born("1899", NOW) < 0, "impossible dates refused");
	ok(under18("2009-03-14", 20270313), "17 the day before the 18th birthday");
	ok(!under18("2009-03-14", 20270314), "18 on the birthday");
	ok(under18("2009", 20271230), "a year alone: under 18 until its last possible birthday");
	ok(!under18("2009", 20271231), "a year alone: 18 by 31 December 18 years on");
	ok(under18("2008-02-29", 20260228) && !under18("2008-02-29", 20260301), "a leap-day birthday");
	return tap_done();
}
