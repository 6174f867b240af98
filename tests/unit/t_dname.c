/* Unit tests for dname (display names: check, clean, fold, imitation) and
 * the import's address grammar (conf_address_error). */
#include <stdlib.h>

#include "conf.h"
#include "dname.h"
#include "tap.h"

/* name refused, with why holding want */
static void
refused(const char *name, const char *want, const char *what)
{
	struct buf why = {0};
	int rc = dname_check(name, &why);

	ok(rc == -1 && why.s && strstr(why.s, want), "refused: %s (%s)", what,
	    why.s ? why.s : "accepted");
	buf_free(&why);
}

static void
cleaned(const char *name, const char *want, const char *what)
{
	char *s = dname_clean(name);

	is_str(s, want, "cleaned: %s", what);
	ok(!strpbrk(s, "<>@=") && !strstr(s, "\xe2\x80\xae") && !strstr(s, "\xc2\xa0"),
	    "cleaned: %s holds no '<', '>', '@', '=', U+202E or U+00A0", what);
	free(s);
}

static void
folded(const char *name, const char *want, const char *what)
{
	char *s = dname_fold(name);

	is_str(s, want, "folded: %s", what);
	free(s);
}

static void
first(const char *name, const char *want, const char *what)
{
	char *s = dname_first(name);

	is_str(s, want, "first name: %s", what);
	free(s);
}

int
main(void)
{
	static const char *const fine[] = {
		"O'Brien", "Anne-Marie", "Jos\xc3\xa9", "Zo\xc3\xab", "\xe6\x9d\x8e",
		"Nguy\xe1\xbb\x85n", "Jones, Sam", "Sam \"S\" Lee", "Dr. A. Smith (Jr)",
		"Zo\xc3\xab (mentee) via NHS Mentoring", "\xd0\x90\xd0\xbd\xd0\xbd\xd0\xb0",
	};
	struct buf why = {0};

	for (size_t i = 0; i < sizeof fine / sizeof *fine; i++) {
		char *s = dname_clean(fine[i]);
		ok(dname_check(fine[i], &why) == 0 && !why.s, "accepted: %s", fine[i]);
		is_str(s, fine[i], "unchanged by cleaning: %s", fine[i]);
		ok(!dname_imitates(fine[i], "Mentoring Programme"), "imitates nothing: %s", fine[i]);
		free(s);
	}

	/* what the import refuses */
	refused("=?utf-8?B?UHJvZ3JhbW1lIENvb3JkaW5hdG9y?= <x@evil.test>", "encoded word",
	    "an encoded word and an address");
	refused("Alex =?utf-8?Q?x?=", "encoded word", "an encoded word alone");
	refused("Programme\xc2\xa0" "Coordinator\xc2\xa0<coord@mentoring.test>", "holds '<'",
	    "a no-break-space-joined address");
	refused("Alex\xe2\x80\xae" "tset.live", "bidirectional control (U+202E)", "RLO");
	refused("\xe2\x80\x8e" "Alex", "bidirectional control (U+200E)", "LRM");
	refused("Alex\xe2\x81\xa6x", "bidirectional control (U+2066)", "LRI");
	refused("Jo\xe2\x80\x8b" "Brown", "invisible character (U+200B)", "zero-width space");
	refused("Jo\xef\xbb\xbf", "invisible character (U+FEFF)", "BOM");
	/* Unicode spaces pass: cleaning makes them plain (a spreadsheet's no-break space) */
	ok(dname_check("Alex\xc2\xa0Smith", &why) == 0 &&
	    dname_check("Jo\xe2\x80\x83" "Brown", &why) == 0 &&
	    dname_check("\xe6\x9d\x8e\xe3\x80\x80\xe6\x98\x8e", &why) == 0 && !why.s,
	    "accepted: a no-break, an em and an ideographic space");
	buf_free(&why);
	refused("Jo <jo>", "holds '<'", "an angle bracket");
	refused("Jo>", "holds '>'", "a closing angle bracket");
	refused("jo@home", "holds '@'", "an at sign");
	refused("jo\xef\xbc\xa0home", "look-alike of '@'", "a fullwidth at sign");
	refused("\xef\xb9\xa4x", "look-alike of an angle bracket", "a small less-than sign");
	refused("Jo\r\nBcc: x", "control character (U+000D)", "CR LF");
	refused("Jo\tBrown", "control character (U+0009)", "a tab");
	refused("Jo\xc2\x85", "control character (U+0085)", "a C1 control");
	refused("Jo\xc3", "not valid UTF-8", "a truncated sequence");
	refused("\xc0\xbc" "x", "not valid UTF-8", "an overlong '<'");
	refused("\xed\xa0\x80", "not valid UTF-8", "a surrogate");
	refused("a=b", "holds '='", "an equals sign");
	refused("a;b", "letters, digits, spaces", "a semicolon");

	/* what every display name becomes on the way out */
	cleaned("Programme\xc2\xa0" "Coordinator\xc2\xa0<coord@mentoring.test>",
	    "Programme Coordinator coordmentoring.test", "no-break spaces and an address");
	cleaned("\xe2\x80\xae" "Alex\xe2\x80\xac (mentee)", "Alex (mentee)", "bidi controls");
	cleaned("=?utf-8?B?QQ==?= <x@evil.test>", "?utf-8?B?QQ? xevil.test", "an encoded word");
	cleaned("  Anne \xc2\xa0\xe2\x80\x83\t Marie\xe3\x80\x80", "Anne Marie",
	    "Unicode spaces and runs collapsed, ends trimmed");
	cleaned("Jo\xe2\x80\x8b\xe2\x80\x8d\xf3\xa0\x81\x81" "Brown", "JoBrown",
	    "zero-width and tag characters");
	cleaned("a\xef\xbc\x9c" "b\xef\xbc\x9e\xef\xbc\xa0\xc0\xbc", "ab",
	    "fullwidth look-alikes and an overlong '<'");
	cleaned("", "", "empty");

	/* skeletons */
	folded("NHS Mentoring", "nhsmentoring", "plain");
	folded("N\xd0\x9dS M\xd0\xb5ntoring", "nhsmentoring", "Cyrillic En and ie");
	folded("\xce\xa1rogramme \xd0\xa1oordinator", "programmecoordinator", "Greek Rho, Cyrillic Es");
	folded("\xd0\xb0\xd0\xb5\xd0\xbe\xd1\x80\xd1\x81\xd1\x85\xd1\x83\xd1\x96\xd1\x98\xd1\x95",
	    "aeopcxyijs", "Cyrillic small look-alikes");
	folded("\xce\x91\xce\x92\xce\x95\xce\x96\xce\x97\xce\x99\xce\x9a\xce\x9c\xce\x9d\xce\x9f"
	    "\xce\xa1\xce\xa4\xce\xa5\xce\xa7", "abezhikmnoptyx", "Greek capital look-alikes");
	folded("\xef\xbc\xb3\xef\xbd\x81\xef\xbd\x86\xef\xbd\x85", "safe", "fullwidth Latin");
	folded("M0derat0r 1ee", "moderatorlee", "digits 0 and 1");
	folded("Jos\xc3\xa9 Nguy\xe1\xbb\x85n", "josenguyen", "accents");
	folded("Co\xcc\x88ordinator", "coordinator", "a combining mark");
	folded("Coord\xc2\xb7in.ator\xe2\x80\x94!", "coordinator", "punctuation");
	folded("\xf0\x9d\x90\x82\xf0\x9d\x90\xa8", "co", "mathematical bold");
	folded("\xe6\x9d\x8e Lee", "\xe6\x9d\x8elee", "another script kept");

	/* imitation of the programme or its staff */
	is_str(dname_imitates("NHS Mentoring", "NHS Mentoring"), "NHS Mentoring", "the programme");
	is_str(dname_imitates("n\xd0\xbd\xd1\x95-MENTORING team", "NHS Mentoring"), "NHS Mentoring",
	    "the programme in look-alikes, inside a longer name");
	is_str(dname_imitates("Programme \xd0\xa1oordinator", "NHS Mentoring"), "coordinator",
	    "coordinator");
	is_str(dname_imitates("\xef\xbc\xb3\xef\xbd\x81\xef\xbd\x86\xef\xbd\x85guarding Lead", NULL),
	    "safeguarding", "safeguarding, partly fullwidth");
	is_str(dname_imitates("Sam M0derat0r", "NHS Mentoring"), "moderator", "moderator");
	ok(dname_imitates("Pat", "P") == NULL, "a short programme name only matches whole");
	is_str(dname_imitates("p.", "P"), "P", "...and does match whole");
	ok(dname_imitates("\xe6\x9d\x8e", "\xe5\xb0\x8e\xe5\xb8\xab") == NULL, "other scripts differ");

	/* the import's addresses: RFC 5322 addr-spec, dot-atom local part */
	static const char *const good[] = {
		"alex@school.test", "a.b+tag@sub.school.test", "o'brien@x.org", "A_B@X-Y.Z9",
		"!#$%&'*+-/=?^_`{|}~@x.test",
	};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		ok(conf_address_error(good[i]) == NULL && conf_valid_address(good[i]),
		    "address: %s", good[i]);
	static const char *const bad[][2] = {
		{ "a@b@school.test", "more than one '@'" }, { "alexschool.test", "no '@'" },
		{ "@school.test", "empty" }, { ".a@x.test", "local part" },
		{ "a.@x.test", "local part" }, { "a..b@x.test", "local part" },
		{ "a b@x.test", "local part" }, { "\"a b\"@x.test", "local part" },
		{ "a<b@x.test", "local part" }, { "\xc3\xa9@x.test", "local part" },
		{ "a@x", "single label" }, { "a@-x.test", "domain" }, { "a@x-.test", "domain" },
		{ "a@x..test", "domain" }, { "a@x.test.", "domain" }, { "a@[1.2.3.4]", "domain" },
		{ "a@x_y.test", "domain" }, { "a@x.test>", "domain" }, { "a@", "domain" },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa@x.test",
		  "too long" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		const char *e = conf_address_error(bad[i][0]);
		ok(e && strstr(e, bad[i][1]) && !conf_valid_address(bad[i][0]),
		    "not an address: %s (%s)", bad[i][0], e ? e : "accepted");
	}
	first("Alex Smith", "Alex", "first word");
	first("Smith, Alex", "Alex", "Surname, First");
	first("Smith,Alex", "Alex", "Surname,First without a space");
	first("van der Berg, Anne Marie", "Anne", "a surname of three words");
	first("Alex\xc2\xa0Smith", "Alex", "a no-break space separates");
	first("Alex\xe2\x80\xaf" "Smith", "Alex", "a narrow no-break space separates");
	first("Alex\xe2\x80\x87" "Smith", "Alex", "a figure space separates");
	first("\xe6\x9d\x8e\xe3\x80\x80\xe6\x98\x8e", "\xe6\x9d\x8e", "an ideographic space separates");
	first("  Alex   Smith ", "Alex", "spaces around");
	first("Sam Jones, Jr", "Sam", "a suffix after the comma is not a first name");
	first("Sam Jones, III", "Sam", "nor a numeral");
	first("Smith,", "Smith", "nothing after the comma");
	first("Cher", "Cher", "one word");
	first("O'Brien, Pat", "Pat", "an apostrophe in the surname");
	first("Al\xe2\x80\xae" "ex Smith", "Alex", "cleaned as a display name");
	first("", "", "empty");
	return tap_done();
}
