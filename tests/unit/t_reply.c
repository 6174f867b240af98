/* Unit tests for reply extraction: the project's own small cases. */
#include <stdlib.h>

#include "reply.h"
#include "tap.h"

static void
check(const char *in, const char *want, const char *name)
{
	char *got = reply_extract(in, strlen(in));

	is_str(got, want, "%s", name);
	free(got);
}

int
main(void)
{
	check("Thanks, see you Tuesday.\n\nOn Mon, 3 Mar 2025 at 10:02, Jo Smith <jo@school.test> wrote:\n> Shall we meet?\n",
	    "Thanks, see you Tuesday.\n", "On ... wrote: and its quote removed");
	check("Great idea!\n\nOn Mon, 3 Mar 2025 at 10:02, Jo Smith\n<jo@school.test> wrote:\n\n> Shall we?\n",
	    "Great idea!\n", "attribution wrapped over two lines");
	check("Ja, gerne.\n\nAm 03.03.2025 um 10:02 schrieb Jo Smith <jo@school.test>:\n> Hallo\n",
	    "Ja, gerne.\n", "German attribution");
	check("Oui.\n\nLe lun. 3 mars 2025 à 10:02, Jo <jo@school.test> a écrit :\n> Salut\n",
	    "Oui.\n", "French attribution with a space before the colon");
	check("Fine by me.\n\n________________________________\nFrom: Kim Lee <kim@nhs.test>\nSent: 03 March 2025 10:02\nTo: Sam <sam@nhs.test>\nSubject: Plan\n\nOld text\n",
	    "Fine by me.\n", "Outlook header block under a rule");
	check("Yes.\n\nFrom: Kim Lee <kim@nhs.test>\nDate: 3 March 2025\nSubject: Plan\n\nOld text\n",
	    "Yes.\n", "header block without a rule");
	check("See below.\n\n-----Original Message-----\nFrom: x@y.test\nOld\n",
	    "See below.\n", "Original Message separator");
	check("Here it is.\n\n---------- Forwarded message ---------\nFrom: a@b.test\n",
	    "Here it is.\n", "forwarded-message marker");
	check("Sounds good\n\nSent from my iPhone\n", "Sounds good\n", "device signature");
	check("Cheers\n\n-- \nAlex Example\nStudent\n", "Cheers\n", "'-- ' signature delimiter");
	check("> Do you like maths?\n\nYes, very much.\n", "> Do you like maths?\n\nYes, very much.\n",
	    "an inline quote with an answer below is kept");
	check("Top answer\n\n> old\n> older\n", "Top answer\n", "trailing quote removed");
	check("On Monday I wrote a poem and I am proud of it.\n", "On Monday I wrote a poem and I am proud of it.\n",
	    "a sentence starting with On that mentions writing is kept");
	check("The message was sent from my phone app.\n", "The message was sent from my phone app.\n",
	    "'sent from' inside a sentence is kept");
	check("reply On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:\n> Hi\n", "reply\n",
	    "reply and attribution sharing a line");
	check("Yes.\r\n\r\n2014-03-20 8:48 GMT+01:00 Jo <jo@x.test>:\r\n\r\nOld\r\n", "Yes.\n",
	    "CRLF line ends");
	check("Hello.\n\nOn Monday I wrote:\n\nmy story, part two.\n",
	    "Hello.\n\nOn Monday I wrote:\n\nmy story, part two.\n",
	    "a person's \"I wrote:\" without date, time, address or quote is kept");
	check("Hello.\n\nOn Nov 26, 2013 you wrote:\n\nOld text.\n", "Hello.\n",
	    "an attribution with a date needs no quote below it");
	check("Ok.\n\nI love my iPhone\n", "Ok.\n\nI love my iPhone\n", "a sentence about a phone is kept");
	check("Ok.\n\n\xe5\x8f\x91\xe8\x87\xaa\xe6\x88\x91\xe7\x9a\x84iPhone\n", "Ok.\n",
	    "Chinese 'sent from my iPhone'");
	check("Ok.\n\n\xe5\x8f\x91\xe4\xbb\xb6\xe4\xba\xba\xef\xbc\x9a John <j@x.test>\n"
	    "\xe4\xb8\xbb\xe9\xa2\x98\xef\xbc\x9a Hi\n\nold\n", "Ok.\n",
	    "Chinese Outlook header block with full-width colons");
	check("", "", "empty input");
	check("\n\n\n", "", "blank input");
	check("> only a quote\n", "> only a quote\n", "a message that is only a quote is kept whole");
	check("x\xff\xfe\n\nOn Mon, 3 Mar 2025, A <a@b.test> wrote:\n> y\n", "x\xff\xfe\n",
	    "invalid UTF-8 does not stop the match");
	return tap_done();
}
