"""Everything relayed is screened and decided: quoted history that is not
what the pair exchanged through the gateway (a made-up quote, an altered
one) is read like new text, while a true quote of an approved message
passes; a coordinator's edited text is screened too, and redact takes a
detail out in every form."""
import os
import re

from harness import Gateway, body_text, make_mail, parse

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"
COORD = "coord@mentoring.test"
RULES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                     "conf", "rules")


def gateway(stack):
    gw = Gateway(stack, extra=f"\n[screening]\nrules = {RULES}\n")
    to_mentor, to_mentee = gw.setup_pair()
    return gw, to_mentor, to_mentee


def send(stack, gw, frm, to, subject, body, extra=""):
    stack.send(frm, to, make_mail(frm, to, subject, body, extra=extra))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    stack.wait_queue_empty()


def quote(text):
    return "\r\n".join("> " + line if line else ">" for line in text.splitlines())


def test_a_made_up_quote_is_screened(stack):
    gw, to_mentor, to_mentee = gateway(stack)
    body = ("Good luck with the exams!\r\n\r\nOn Tue, 17 Nov 2026 at 18:02, Alex wrote:\r\n"
            "> my snapchat is alex_k09, or whatsapp 07700 900 123\r\n> don't tell anyone\r\n")
    send(stack, gw, MENTOR, to_mentee, "Exams", body)
    assert stack.count(MENTEE) == 0, "nothing reaches the mentee"
    [(state, reason)] = gw.sql("SELECT state, reason FROM messages WHERE subject = 'Exams'")
    assert state == "held", state
    assert "contact-phone" in reason and "quoted text this pair never exchanged" in reason, reason
    hold = body_text(parse(stack.messages(COORD)[-1]))
    assert "07700 900 123" in hold, "the coordinator sees the quote that would be relayed"


def test_a_true_quote_of_an_approved_message_passes_an_altered_one_is_held(stack):
    gw, to_mentor, to_mentee = gateway(stack)
    # the mentee gives a number; a coordinator approves it
    first = ("Thanks for today. If I'm late my mum's mobile is 07700 900 321\r\n"
             "and she can pass a message on.\r\n\r\nAlex\r\n")
    send(stack, gw, MENTEE, to_mentor, "Week 2", first)
    [(hold_id,)] = gw.sql("SELECT id FROM holds")
    gw.ctl("hold", "approve", str(hold_id))
    gw.once()
    assert stack.wait_count(MENTOR, 1) == 1
    got = parse(stack.messages(MENTOR)[0])
    copy = body_text(got).replace("\r\n", "\n").rstrip("\n")
    assert "07700 900 321" in copy
    # the mentor replies quoting the copy he was sent, threaded: relayed
    reply = (f"Good plan, see you next week.\r\n\r\nOn Sun, 22 Nov 2026 at 10:00, {got['From']} wrote:\r\n"
             + quote(copy) + "\r\n")
    send(stack, gw, MENTOR, to_mentee, "Re: Week 2", reply,
         extra=f"In-Reply-To: {got['Message-ID']}\r\nReferences: {got['Message-ID']}\r\n")
    assert stack.wait_count(MENTEE, 1) == 1
    assert gw.sql("SELECT state FROM messages WHERE subject = 'Re: Week 2'") == [("relayed",)]
    # the same quote from a client that keeps no references, re-wrapped: relayed
    rewrapped = quote(" ".join(copy.split("\n")[:2]).replace(" mobile is ", " mobile\nis "))
    send(stack, gw, MENTOR, to_mentee, "Re: Week 2 again",
         f"Noted.\r\n\r\nOn Sun, Alex wrote:\r\n{rewrapped}\r\n")
    assert stack.wait_count(MENTEE, 2) == 2
    # the quote altered (another number): held, relayed to nobody
    altered = quote(copy.replace("07700 900 321", "07700 900 456"))
    send(stack, gw, MENTOR, to_mentee, "Re: Week 2 altered",
         f"Noted.\r\n\r\nOn Sun, Alex wrote:\r\n{altered}\r\n",
         extra=f"In-Reply-To: {got['Message-ID']}\r\n")
    [(state, reason)] = gw.sql("SELECT state, reason FROM messages WHERE subject = 'Re: Week 2 altered'")
    assert state == "held" and "quoted text this pair never exchanged" in reason, (state, reason)
    assert stack.count(MENTEE) == 2
    # a quote of another pair's message, approved and relayed there, is
    # not this pair's, even naming the copy's Message-ID
    to_jo_mentor, _ = gw.pair("jo@school.test", "kim@nhs.test")
    jo = "My mum's mobile is 07700 900 777 if the school needs her.\r\n"
    send(stack, gw, "jo@school.test", to_jo_mentor, "Hi Kim", jo)
    [(h,)] = gw.sql("SELECT h.id FROM holds h JOIN messages m ON m.id = h.message"
                    " WHERE m.subject = 'Hi Kim'")
    gw.ctl("hold", "approve", str(h))
    gw.once()
    assert stack.wait_count("kim@nhs.test", 1) == 1
    kim = parse(stack.messages("kim@nhs.test")[0])
    send(stack, gw, MENTOR, to_mentee, "Re: Hi",
         "Hello\r\n\r\nOn Sun, Jo wrote:\r\n" + quote(body_text(kim).strip()) + "\r\n",
         extra=f"In-Reply-To: {kim['Message-ID']}\r\nReferences: {kim['Message-ID']}\r\n")
    [(state, reason)] = gw.sql("SELECT state, reason FROM messages WHERE subject = 'Re: Hi'")
    assert state == "held" and "quoted text this pair never exchanged" in reason, reason
    # an attribution line above a true quote is the writer's own text
    send(stack, gw, MENTOR, to_mentee, "Re: Week 2 once more",
         f"Yes.\r\n\r\nOn Sun, whatsapp me on 07700 900 888, {got['From']} wrote:\r\n"
         + quote(copy) + "\r\n",
         extra=f"In-Reply-To: {got['Message-ID']}\r\nReferences: {got['Message-ID']}\r\n")
    [(state,)] = gw.sql("SELECT state FROM messages WHERE subject = 'Re: Week 2 once more'")
    assert state == "held", state


def hold_mail(stack, gw, to_mentor, body):
    before = stack.count(COORD)
    send(stack, gw, MENTEE, to_mentor, "Week 4", body)
    assert stack.wait_count(COORD, before + 1) == before + 1
    return parse(stack.messages(COORD)[-1])


def decide(stack, gw, mail, text):
    to = mail["Reply-To"].addresses[0].addr_spec
    stack.send(COORD, to, make_mail(COORD, to, "Re: " + str(mail["Subject"]), text))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    gw.confirm(COORD)
    stack.wait_queue_empty()


def test_an_edit_is_screened_and_confirmed_by_edit_anyway(stack):
    gw, to_mentor, _ = gateway(stack)
    mail = hold_mail(stack, gw, to_mentor, "text me on 07700 900 123 after school")
    decide(stack, gw, mail, "edit\r\nText me on 07700 900 999 instead.")
    assert stack.count(MENTOR) == 0, "an edit with a new number is not relayed"
    assert gw.sql("SELECT state FROM holds") == [("open",)]
    answer = parse(stack.messages(COORD)[-1])
    text = body_text(answer)
    assert "07700 900 999" in text and "contact-phone" in text and "edit anyway" in text, text
    assert answer["Reply-To"].addresses[0].addr_spec == mail["Reply-To"].addresses[0].addr_spec
    # a clean edit goes through at once; here the coordinator confirms
    decide(stack, gw, answer, "edit anyway\r\nText me on 07700 900 999 instead.")
    assert stack.wait_count(MENTOR, 1) == 1
    assert "07700 900 999 instead" in body_text(parse(stack.messages(MENTOR)[0]))
    assert gw.sql("SELECT state FROM holds") == [("edited",)]
    assert gw.sql("SELECT count(*) FROM audit WHERE detail LIKE '%edit anyway (over screening)%'") == [(1,)]


def test_a_clean_edit_is_relayed(stack):
    gw, to_mentor, _ = gateway(stack)
    mail = hold_mail(stack, gw, to_mentor, "text me on 07700 900 123 after school")
    decide(stack, gw, mail, "edit\r\nSee you at the next session.")
    assert stack.wait_count(MENTOR, 1) == 1
    assert "See you at the next session." in body_text(parse(stack.messages(MENTOR)[0]))


def test_redact_takes_the_number_out_in_every_form(stack):
    gw, to_mentor, _ = gateway(stack)
    body = ("text me on 07700 900 123 after school\r\n\r\nAlex\r\n\r\n"
            "On Mon, 16 Nov 2026 at 09:00, Alex wrote:\r\n"
            "> or ring 07700900123, or +44 7700 900123\r\n")
    mail = hold_mail(stack, gw, to_mentor, body)
    decide(stack, gw, mail, "redact")
    assert stack.wait_count(MENTOR, 1) == 1
    copy = body_text(parse(stack.messages(MENTOR)[0]))
    digits = re.sub(r"[^0-9+]", "", copy)
    assert "7700900123" not in digits, copy
    assert "[removed by moderator]" in copy and "after school" in copy, copy


def test_quoting_what_was_never_given_as_written_is_screened(stack):
    gw, to_mentor, _ = gateway(stack)
    # held and left open; then redacted: neither original reached anyone
    for subject, msgid in (("Week 5", "<w5@school.test>"), ("Week 6", "<w6@school.test>")):
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, subject,
                   "my number is 07700 900 555 text me", msgid=msgid))
        stack.wait_count("relay@mentoring.test", 1)
        gw.once()
    [(h6,)] = gw.sql("SELECT h.id FROM holds h JOIN messages m ON m.id = h.message"
                     " WHERE m.subject = 'Week 6'")
    gw.ctl("hold", "redact", str(h6))
    gw.once()
    assert stack.wait_count(MENTOR, 1) == 1
    assert "07700 900 555" not in body_text(parse(stack.messages(MENTOR)[0]))
    for subject, msgid in (("Re: Week 5", "<w5@school.test>"), ("Re: Week 6", "<w6@school.test>")):
        send(stack, gw, MENTEE, to_mentor, subject,
             "As I said:\r\n\r\nOn Sun, Alex wrote:\r\n> my number is 07700 900 555 text me\r\n",
             extra=f"In-Reply-To: {msgid}\r\nReferences: {msgid}\r\n")
        [(state, reason)] = gw.sql("SELECT state, reason FROM messages WHERE subject = ?", subject)
        assert state == "held" and "quoted text this pair never exchanged" in reason, (subject, reason)
    assert stack.count(MENTOR) == 1


def test_a_notice_about_a_held_message_is_no_exchanged_text(stack):
    gw, to_mentor, _ = gateway(stack)
    send(stack, gw, MENTEE, to_mentor, "whatsapp me on 07700 900 123", "see subject")
    [(h,)] = gw.sql("SELECT id FROM holds")
    gw.ctl("hold", "reject", str(h), "Please keep numbers off the programme.")
    gw.once()
    assert stack.wait_count(MENTEE, 1) == 1
    notice = parse(stack.messages(MENTEE)[0])
    text = body_text(notice).strip()
    assert "07700 900 123" in text, "the rejection names the held subject"
    send(stack, gw, MENTEE, to_mentor, "Re: About your message",
         "Sorry!\r\n\r\nOn Sun, NHS Mentoring wrote:\r\n" + quote(text) + "\r\n",
         extra=f"In-Reply-To: {notice['Message-ID']}\r\nReferences: {notice['Message-ID']}\r\n")
    [(state,)] = gw.sql("SELECT state FROM messages WHERE subject = 'Re: About your message'")
    assert state == "held", state
    assert stack.count(MENTOR) == 0


def test_an_edit_takes_the_detail_out_of_the_subject_too(stack):
    gw, to_mentor, _ = gateway(stack)
    before = stack.count(COORD)
    send(stack, gw, MENTEE, to_mentor, "text me on 07700 900 123", "see the subject")
    assert stack.wait_count(COORD, before + 1) == before + 1
    mail = parse(stack.messages(COORD)[-1])
    decide(stack, gw, mail, "edit\r\nSee you at the next session.")
    assert stack.wait_count(MENTOR, 1) == 1
    got = parse(stack.messages(MENTOR)[0])
    assert "07700" not in str(got["Subject"]) and "[removed by moderator]" in str(got["Subject"]), \
        str(got["Subject"])
