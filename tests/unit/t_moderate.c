/* Unit tests for moderate_parse: a decision is a verb alone on the first
 * line, or with its documented argument; anything else is not one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "moderate.h"
#include "tap.h"

static void
yes(const char *text, enum moderate_verb verb, const char *note)
{
	struct moderate_decision d = {0};
	char *n = NULL;

	if (moderate_parse(text, &d, &n) != MG_OK) {
		ok(0, "[%.*s] is a decision", (int)strcspn(text, "\n"), text);
		return;
	}
	ok(d.verb == verb && (note ? n && !strcmp(n, note) : !n || !*n),
	    "[%.*s] is %s%s%s", (int)strcspn(text, "\n"), text, moderate_verb(verb),
	    note ? ": " : "", note ? note : "");
	free(n);
}

static void
no(const char *text)
{
	struct moderate_decision d = {0};
	char *n = NULL;

	ok(moderate_parse(text, &d, &n) == MG_BADINPUT, "[%.*s] is no decision",
	    (int)strcspn(text, "\n"), text);
	free(n);
}

int
main(void)
{
	yes("approve", MOD_APPROVE, NULL);
	yes("  Approve \r\n\r\nOn Sun, the gateway wrote:\n> held", MOD_APPROVE, NULL);
	yes("APPROVE.", MOD_APPROVE, NULL);
	yes("redact\n", MOD_REDACT, NULL);
	yes("reject Please keep to the platform.", MOD_REJECT, "Please keep to the platform.");
	yes("Reject: not suitable\r\n", MOD_REJECT, "not suitable");
	yes("reject", MOD_REJECT, NULL);
	yes("close Called the school", MOD_CLOSE, "Called the school");
	yes("edit\nHello Alex, see you next week.\n", MOD_EDIT, "Hello Alex, see you next week.\n");
	yes("Edit:\r\n\r\nNew text", MOD_EDIT, "New text");
	no("Approve? I am not sure, the number is a problem - let us discuss.");
	no("approve?");
	no("approve it if you think so");
	no("Approved by me yesterday");
	no("redact? or reject?");
	no("Edit?\nShould we change the number to the school office?");
	no("edit this please\nnew text");
	no("edit\n");
	no("rejected");
	no("Reject?  maybe");
	no("closer look needed");
	no("looks fine to me");
	no("");
	return tap_done();
}
