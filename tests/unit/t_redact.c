/* Unit tests for redact: a detail taken out wherever and however it is
 * written. */
#include <stdlib.h>

#include "mg.h"
#include "redact.h"
#include "rules.h"
#include "tap.h"

#define M REDACT_MARK

int
main(void)
{
	char *ex[] = { "07700 900 123" }, *cats[] = { "contact-phone" };
	char *s;

	s = redact_text("ring 07700 900 123 or 07700900123 or +44 7700 900123 or 0044-7700-900-123.\n"
	    "> 07700 900 123 or +44 (0)7700 900123\nnot 07700 900 124, not 107700900123", ex, 1, NULL,
	    NULL, 0, NULL);
	is_str(s, "ring " M " or " M " or " M " or " M ".\n> " M " or " M "\nnot 07700 900 124, not 107700900123",
	    "the number in every layout, only that number");
	free(s);

	char *mail[] = { "jo.bloggs@gmail.com" };
	s = redact_text("write to Jo.Bloggs@Gmail.com", mail, 1, NULL, NULL, 0, NULL);
	is_str(s, "write to " M, "an excerpt, case aside");
	free(s);

	s = redact_text("nothing here", ex, 1, NULL, NULL, 0, NULL);
	is_str(s, "nothing here", "no occurrence: unchanged");
	free(s);

	/* with the shipped rules: the same detail spelt out is a hit of its
	 * category; other categories are left alone */
	struct rules *rs;
	struct buf err = {0};
	if (rules_load("conf/rules", &rs, &err) != MG_OK) {
		ok(0, "rules load: %s", err.s);
		return tap_done();
	}
	s = redact_text("text me on oh seven seven double oh nine double oh one two three\n"
	    "my snapchat is jo_b99", ex, 1, rs, cats, 1, NULL);
	ok(!strstr(s, "seven") && strstr(s, M) && strstr(s, "snapchat is jo_b99"),
	    "a spelt-out number in the category goes, another category stays");
	free(s);
	rules_free(rs);
	return tap_done();
}
