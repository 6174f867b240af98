/* Unit tests for the programme calendar: send hour across a clock change,
 * quiet hours, excluded dates. */
#include <stdlib.h>
#include <time.h>

#include "calendar.h"
#include "tap.h"

static void
utc(int64_t t, char *out, size_t n)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, n, "%Y-%m-%d %H:%M", &tm);
}

int
main(void)
{
	struct cal_range holidays[] = { { 20261026, 20261030 } };
	struct calendar c = { "Europe/London", 16, 21, 8, NULL, 0 };
	int start = cal_date("2026-09-07");
	char got[32];

	ok(start == 20260907, "dates parse");
	ok(cal_date("2026-13-01") == -1 && cal_date("07/09/2026") == -1 && cal_date("2026-09-07x") == -1,
	    "bad dates are refused");
	utc(cal_due(&c, start, 1, 1), got, sizeof got);
	is_str(got, "2026-09-07 15:00", "week 1: 16:00 British Summer Time is 15:00 UTC");
	utc(cal_due(&c, start, 7, 1), got, sizeof got);
	is_str(got, "2026-10-19 15:00", "week 7: still summer time");
	utc(cal_due(&c, start, 8, 1), got, sizeof got);
	is_str(got, "2026-10-26 16:00", "week 8, after the clocks went back: 16:00 GMT, the same local hour");
	utc(cal_due(&c, start, 2, 3), got, sizeof got);
	is_str(got, "2026-09-16 15:00", "day 3 of week 2");
	c.excluded = holidays;
	c.nexcluded = 1;
	utc(cal_due(&c, start, 8, 1), got, sizeof got);
	is_str(got, "2026-10-31 16:00", "half term moves week 8 to the first day after it");
	/* 22:30 local on a school night is quiet: the send waits until 08:00 */
	utc(cal_next_allowed(&c, cal_local("Europe/London", 20261102, 22) + 1800), got, sizeof got);
	is_str(got, "2026-11-03 08:00", "quiet hours across midnight end at 08:00");
	utc(cal_next_allowed(&c, cal_local("Europe/London", 20261102, 12)), got, sizeof got);
	is_str(got, "2026-11-02 12:00", "an allowed time stays");
	struct calendar none = { NULL, 9, 0, 0, NULL, 0 };
	utc(cal_due(&none, cal_date("2027-01-04"), 1, 1), got, sizeof got);
	is_str(got, "2027-01-04 09:00", "no zone: UTC, no quiet hours");
	return tap_done();
}
