/* Unit tests for classify: the project's own bounces and auto-replies. */
#include <stdlib.h>

#include "classify.h"
#include "tap.h"

static void
check(const char *raw, const char *want, const char *name)
{
	struct classify c;
	char *line;

	classify_message(raw, strlen(raw), &c);
	line = classify_line(&c);
	is_str(line, want, "%s", name);
	free(line);
	classify_clear(&c);
}

#define DSN_HEAD \
	"Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.school.test (Mail Delivery System)\r\n" \
	"To: relay+bounce-17@mentoring.test\r\nSubject: Undelivered Mail Returned to Sender\r\n" \
	"Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n" \
	"Content-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\r\n\r\n" \
	"--B\r\nContent-Type: text/plain\r\n\r\nThis is the mail system.\r\n\r\n" \
	"--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.school.test\r\n\r\n"

int
main(void)
{
	check(DSN_HEAD "Final-Recipient: rfc822; Alex@School.test\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n"
	    "Final-Recipient: rfc822; jo@school.test\r\nAction: delivered\r\nStatus: 2.0.0\r\n\r\n--B--\r\n",
	    "bounce permanent alex@school.test", "RFC 3464: failed recipient, lower case; delivered one left out");
	check(DSN_HEAD "Final-Recipient: rfc822; alex@school.test\r\nAction: delayed\r\nStatus: 4.4.1\r\n\r\n--B--\r\n",
	    "bounce transient alex@school.test", "RFC 3464 delay is transient");
	check(DSN_HEAD "Original-Recipient: rfc822; kim@nhs.test\r\nFinal-Recipient: x400; /S=kim/C=GB/\r\n"
	    "Action: failed\r\nStatus: 5.0.0\r\n\r\n--B--\r\n",
	    "bounce permanent kim@nhs.test", "X.400 Final-Recipient: the Original-Recipient is used");
	check("Return-Path: <>\r\nFrom: Mail Delivery System <Mailer-Daemon@mx.test>\r\n"
	    "Subject: Mail delivery failed: returning message to sender\r\nX-Failed-Recipients: sam@nhs.test\r\n\r\n"
	    "This message was created automatically by mail delivery software.\r\n\r\n"
	    "A message that you sent could not be delivered to one or more of its\r\nrecipients. "
	    "This is a permanent error. The following address(es) failed:\r\n\r\n  sam@nhs.test\r\n"
	    "    host mx.nhs.test said: 550 no such user\r\n",
	    "bounce permanent sam@nhs.test", "Exim: X-Failed-Recipients");
	check("Return-Path: <>\r\nFrom: MAILER-DAEMON@mx.test\r\nSubject: failure notice\r\n\r\n"
	    "Hi. This is the qmail-send program at mx.test.\r\n"
	    "I'm afraid I wasn't able to deliver your message to the following addresses.\r\n\r\n"
	    "<jo@school.test>:\r\nSorry, no mailbox here by that name. (#5.1.1)\r\n\r\n"
	    "--- Below this line is a copy of the message.\r\n\r\nTo: other@school.test\r\n",
	    "bounce permanent jo@school.test", "qmail text bounce; the copied original is not read");
	check("From: Jo <jo@school.test>\r\nSubject: Out of Office: Week 3\r\n"
	    "Auto-Submitted: auto-replied\r\n\r\nI am away until Monday.\r\n",
	    "autoreply", "RFC 3834 Auto-Submitted");
	check("From: Jo <jo@school.test>\r\nSubject: Abwesenheitsnotiz: Woche 3\r\n\r\nIch bin bis Montag weg.\r\n",
	    "autoreply", "German vacation subject alone");
	check("From: Jo <jo@school.test>\r\nSubject: Re: hello\r\nX-Autoreply: yes\r\n\r\nAway.\r\n",
	    "autoreply", "X-Autoreply");
	check("From: Jo <jo@school.test>\r\nSubject: news\r\nPrecedence: bulk\r\n\r\nNewsletter.\r\n",
	    "autoreply", "Precedence: bulk");
	check("Return-Path: <>\r\nFrom: Jo <jo@school.test>\r\nSubject: Re: hello\r\n"
	    "X-Auto-Response-Suppress: All\r\n\r\nAway.\r\n",
	    "autoreply", "null Return-Path with X-Auto-Response-Suppress");
	check("From: Kim <kim@nhs.test>\r\nSubject: Re: week 2\r\n"
	    "X-Auto-Response-Suppress: DR, RN, NRN, OOF, AutoReply\r\n\r\nSee you then.\r\n",
	    "message", "X-Auto-Response-Suppress alone is an ordinary Outlook message");
	check("From: Kim <kim@nhs.test>\r\nSubject: Re: the message could not be delivered?\r\n\r\n"
	    "My last email was undeliverable, so I am writing again.\r\n",
	    "message", "a person writing about a failed delivery is not a bounce");
	check("From: Kim <kim@nhs.test>\r\nSubject: Thank you for your message about week 2\r\n"
	    "Auto-Submitted: no\r\n\r\nHello.\r\n",
	    "autoreply", "typical acknowledgement subject");
	check("From: Kim <kim@nhs.test>\r\nSubject: Re: plans\r\nAuto-Submitted: no\r\n\r\nHello.\r\n",
	    "message", "Auto-Submitted: no is a person");
	check("", "message", "empty input");
	return tap_done();
}
