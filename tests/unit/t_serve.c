/* serve: the pass interval, which bounds how long a session sits in IDLE. */
#include <limits.h>

#include "serve.h"
#include "tap.h"

int
main(void)
{
	ok(serve_pass_interval_ms(1) == 1000, "one second");
	ok(serve_pass_interval_ms(60) == 60000, "the default minute");
	ok(serve_pass_interval_ms(1500) == 1500000, "25 minutes exactly");
	ok(serve_pass_interval_ms(1501) == 1500000, "just over 25 minutes: capped");
	ok(serve_pass_interval_ms(1740) == 1500000, "29 minutes, RFC 2177's limit: capped below it");
	ok(serve_pass_interval_ms(86400) == 1500000, "a day (the largest poll_interval): capped");
	ok(serve_pass_interval_ms(INT_MAX) == 1500000, "no overflow");
	return tap_done();
}
