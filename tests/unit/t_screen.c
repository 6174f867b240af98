/* Unit tests for screening: the spoken view and the shipped rules. */
#include <stdlib.h>

#include "screen.h"
#include "tap.h"

static void
spoken(const char *in, const char *want)
{
	size_t *map, n;
	char *got = screen_spoken(in, strlen(in), &map, &n);

	is_str(got, want, "spoken view of [%s]", in);
	ok(n == strlen(got) && map[n] == strlen(in), "map covers the view");
	for (size_t i = 0; i < n; i++)
		if (map[i] >= strlen(in) + 1) {
			ok(0, "map entry %zu out of range", i);
			break;
		}
	free(got);
	free(map);
}

int
main(void)
{
	spoken("call 07700 900 123 now", "call 07700900123 now");
	spoken("zero seven seven zero zero, nine zero zero, four four one",
	    "07700900441");
	spoken("oh seven seven double oh nine double oh four five six", "07700900456");
	spoken("077 double 0 900 triple 3 after 4", "07700900333 after 4");
	spoken("O77OO 9OO 731", "07700900731");
	spoken("jo dot b at live dot co dot uk", "jo.b@live.co.uk");
	spoken("liam[at]hotmail.co.uk", "liam@hotmail.co.uk");
	spoken("m a y a . p 0 7 @ y a h o o . c o m thanks", "maya.p07@yahoo.com thanks");
	spoken("(020) 7946 0000", "(02079460000");
	spoken("Ward 7, 2014-2015", "Ward 7, 20142015");
	spoken("at 07:45 and 06:50", "@07:45 and 06:50");
	spoken("oh seven seven double oh\nnine double oh", "07700900");
	spoken("7\n2014", "7\n2014");
	spoken("", "");
	return tap_done();
}
