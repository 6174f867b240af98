/* Unit tests for spotcheck: the chance of a second look. */
#include <math.h>

#include "spotcheck.h"
#include "tap.h"

static int
near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

int
main(void)
{
	struct spotcheck_risk none = {0}, all = { 1, 1, 1, 1, 1, 1 }, two = { 1, 0, 1, 0, 0, 0 };
	struct spotcheck_risk young = { .minor = 1 }, rising = { .rising = 1, .to_mentee = 1 };

	ok(near(spotcheck_chance(3, &none), 0.03), "the share itself without a sign of risk");
	ok(near(spotcheck_chance(3, &two), 0.09), "each sign counts once more");
	ok(near(spotcheck_chance(3, &young), 0.06), "a mentee under 18 counts");
	ok(near(spotcheck_chance(3, &rising), 0.09), "rising pair signals count");
	ok(near(spotcheck_chance(3, &all), 0.21), "at most seven times the share");
	ok(near(spotcheck_chance(30, &all), 1.0), "never above certain");
	ok(near(spotcheck_chance(0, &all), 0.0), "0 turns it off");
	ok(near(spotcheck_chance(100, &none), 1.0), "100: every message");
	return tap_done();
}
