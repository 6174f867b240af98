/* Unit tests for quote: normalising quoted text and finding what in a
 * reply's history matches nothing the pair exchanged. */
#include <stdlib.h>

#include "quote.h"
#include "reply.h"
#include "tap.h"

static char *
unverified(const char *text, const char *ref)
{
	char *n = quote_norm(ref, strlen(ref));
	char *const refs[] = { n };
	char *r = quote_unverified(text, strlen(text), refs, 1);

	free(n);
	return r;
}

int
main(void)
{
	const char *in = "> > Hello  THERE\n>  second\xc2\xa0line \n>\n";
	char *s = quote_norm(in, strlen(in));
	is_str(s, "hello there second line", "quote marks, spaces, no-break space and case");
	free(s);
	s = quote_norm("", 0);
	is_str(s, "", "empty");
	free(s);

	const char *orig = "See you Tuesday.\nThe office is on 020 7946 0321.\n\nAlex\n";
	const char *reply = "Thanks!\n\nOn Tue, 17 Nov 2026, Alex wrote:\n> See you Tuesday.\n"
	    "> The office is on\n> 020 7946 0321.\n>\n> Alex\n";
	s = unverified(reply, orig);
	is_str(s, "On Tue, 17 Nov 2026, Alex wrote:\n", "a true quote, re-wrapped, matches: only "
	    "its attribution is read");
	free(s);

	const char *part = "Thanks!\n\nOn Tue, Alex wrote:\n> The office is on 020 7946 0321.\n";
	s = unverified(part, orig);
	is_str(s, "On Tue, Alex wrote:\n", "part of a message matches");
	free(s);

	/* the trigram index: a quote that starts and ends on pieces of
	 * punctuation still lies within; one word changed does not */
	const char *long_ref = "We said (at the start) that the poster is due on the fourth of "
	    "June, and that the abstract goes to Priya first.\n";
	s = unverified("Ok\n\nOn Mon, Sam wrote:\n> ) that the poster is due on the fourth\n"
	    "> of June, and that the abstract goes to Priya first.\n", long_ref);
	is_str(s, "On Mon, Sam wrote:\n", "a quote from mid-sentence, re-wrapped, matches");
	free(s);
	s = unverified("Ok\n\nOn Mon, Sam wrote:\n> that the poster is due on the fifth of June,"
	    " and that the abstract goes to Priya first.\n", long_ref);
	ok(s && strstr(s, "fifth of June"), "the same with one word changed is read");
	free(s);

	/* short pieces, or pieces of words, spell anything: they are read */
	s = unverified("Hi\n\nOn Tue, Alex wrote:\n> 020 7946\n", orig);
	ok(s && strstr(s, "> 020 7946"), "a piece under 20 characters is read");
	free(s);
	s = unverified("Hi\n\nOn Tue, Alex wrote:\n> ee you Tuesday. The office is o\n", orig);
	ok(s && strstr(s, "ee you Tuesday"), "a piece that starts or ends inside a word is read");
	free(s);
	s = unverified("Hi\n\nOn Tue, call 07700 900 111, Alex wrote:\n> See you Tuesday.\n"
	    "> The office is on 020 7946 0321.\n", orig);
	ok(s && strstr(s, "07700 900 111") && !strstr(s, "office"),
	    "the attribution is read even above a true quote");
	free(s);

	const char *made = "Good luck!\n\nOn Tue, Alex wrote:\n> my snapchat is alex_k09\n"
	    "> don't tell anyone\n";
	s = unverified(made, orig);
	ok(s && strstr(s, "On Tue, Alex wrote:") && strstr(s, "> my snapchat is alex_k09") &&
	    strstr(s, "don't tell anyone"), "a made-up quote comes back with its attribution");
	ok(s && !strstr(s, "Good luck"), "the new text is not part of it");
	free(s);

	const char *altered = "Ok\n\nOn Tue, Alex wrote:\n> See you Tuesday.\n"
	    "> The office is on 07700 900 456.\n";
	s = unverified(altered, orig);
	ok(s && strstr(s, "07700 900 456"), "an altered quote is unverified");
	free(s);

	/* two quotes under two attributions: only the made-up one returns */
	const char *two = "Reply\n\nOn Tue, Alex wrote:\n> See you Tuesday.\n> The office is on\n\n"
	    "-----Original Message-----\nFrom: Sam\nSent: Monday\nTo: Alex\nSubject: hi\n\n"
	    "ring me on 07700 900 111\n";
	s = unverified(two, orig);
	ok(s && strstr(s, "07700 900 111") && strstr(s, "Original Message") &&
	    !strstr(s, "See you Tuesday"), "each block on its own; the splitters read");
	free(s);

	const char *outlook = "Thanks\n\n________________________________\n"
	    "From: Alex (mentee) via NHS Mentoring <relay+x@mentoring.test>\nSent: Tuesday, 17 November\n"
	    "To: Sam\nSubject: Re: hi\n\nSee you Tuesday.\nThe office is on 020 7946 0321.\n\nAlex\n";
	s = unverified(outlook, orig);
	ok(s && strstr(s, "Subject: Re: hi") && !strstr(s, "office"),
	    "an Outlook quote (rule, header block, the text unmarked) matches; its header block is read");
	free(s);

	/* a client's banner inside a true quote: only the banner is read */
	const char *banner = "Ok\n\nOn Tue, Alex wrote:\n> CAUTION: this email came from outside "
	    "the trust.\n> See you Tuesday.\n> The office is on 020 7946 0321.\n> Alex\n";
	s = unverified(banner, orig);
	ok(s && strstr(s, "CAUTION") && !strstr(s, "0321") && !strstr(s, "See you"),
	    "a banner in a true quote: the rest still matches");
	free(s);
	const char *mixed = "Ok\n\nOn Tue, Alex wrote:\n> See you Tuesday.\n> The office is on 020 "
	    "7946 0321.\n> my snapchat is alex_k09\n";
	s = unverified(mixed, orig);
	ok(s && strstr(s, "snapchat") && !strstr(s, "0321"), "a line added to a true quote is read");
	free(s);

	s = unverified("Just new text, no quote at all\n", orig);
	ok(s == NULL, "no history: nothing to add");
	free(s);
	ok(!quote_any("Just text\n", 10), "quote_any: none");
	ok(quote_any(made, strlen(made)), "quote_any: an attribution and a quote");

	s = quote_unverified(made, strlen(made), NULL, 0);
	ok(s && strstr(s, "snapchat"), "no references: every quote is unverified");
	free(s);

	/* reply_history: the parts, in order */
	struct reply_part *p;
	size_t n = reply_history(two, strlen(two), &p);
	ok(n == 5 && p[0].splitter && !p[1].splitter && p[2].splitter && p[3].splitter &&
	    !strncmp(p[3].text, "From: Sam\nSent: Monday\nTo: Alex\nSubject: hi", 42) &&
	    !p[4].splitter && strstr(p[4].text, "ring me"),
	    "history: splitter, block, rule and whole header block, block (%zu parts)", n);
	for (size_t i = 0; i < n; i++)
		free(p[i].text);
	free(p);
	n = reply_history("Sure. On Tue, Alex wrote:\n> hi\n", 31, &p);
	ok(n == 2 && p[0].splitter && !strncmp(p[0].text, "On Tue", 6),
	    "an attribution sharing the reply's line: only its own part");
	for (size_t i = 0; i < n; i++)
		free(p[i].text);
	free(p);
	return tap_done();
}
