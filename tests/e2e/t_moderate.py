"""Moderation by reply: each verb round trip, the first decision wins, only
coordinators decide, forged Authentication-Results are refused, and the
shell does the same."""
import os
import re

from harness import Gateway, body_text, make_mail, parse

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"
COORD = "coord@mentoring.test"
COORD2 = "safe@mentoring.test"
RULES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                     "conf", "rules")
NUMBER = "oh seven seven double oh nine double oh one two three"


def gateway(stack, extra=""):
    gw = Gateway(stack, extra=f"\ncoordinators = {COORD2}\n\n[screening]\nrules = {RULES}\n{extra}")
    to_mentor, to_mentee = gw.setup_pair()
    return gw, to_mentor, to_mentee


def held_mail(stack, gw, to_mentor, text=f"Great session! text me on {NUMBER} if easier"):
    """The mentee writes something screening holds; returns the coordinator's hold mail."""
    before = stack.count(COORD)
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "Week 3", text))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    assert stack.wait_count(COORD, before + 1) == before + 1
    return parse(stack.messages(COORD)[-1])


def answer(stack, gw, coord, mail, text, extra=""):
    """coord replies to a hold mail with text; one gateway pass."""
    to = mail["Reply-To"].addresses[0].addr_spec
    stack.send(coord, to, make_mail(coord, to, "Re: " + str(mail["Subject"]),
                                    text + "\r\n\r\nOn Sun, the gateway wrote:\r\n> held", extra=extra))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    gw.confirm(coord)
    return to


def test_hold_mail_then_approve_and_a_second_coordinator_too_late(stack):
    gw, to_mentor, _ = gateway(stack)
    mail = held_mail(stack, gw, to_mentor)
    assert mail["Auto-Submitted"] == "auto-generated"
    assert re.fullmatch(r"relay\+mod-[a-z2-7]{24}@mentoring\.test", mail["Reply-To"].addresses[0].addr_spec)
    text = body_text(mail)
    assert f"[[text me on {NUMBER}]]" in text, text      # the spans, marked (merged)
    assert "Alex Smith (mentee)" in text and "Sam Jones (mentor)" in text
    assert "screening: contact-phone" in text and "approve" in text and "redact" in text
    assert "http" not in text, "no action by following a link"
    assert stack.count(COORD2) == 1, "every coordinator gets the hold"
    answer(stack, gw, COORD, mail, "approve")
    assert stack.wait_count(MENTOR, 1) == 1
    assert NUMBER in body_text(parse(stack.messages(MENTOR)[0]))
    assert gw.sql("SELECT state, decided_by FROM holds") == [("approved", COORD)]
    assert gw.sql("SELECT state FROM messages WHERE subject = 'Week 3'") == [("relayed",)]
    # the other coordinator: a receipt, then too late with their own answer
    assert stack.wait_count(COORD2, 2) == 2
    receipt = parse(stack.messages(COORD2)[1])
    assert f"decided by {COORD}: approve" in str(receipt["Subject"])
    answer(stack, gw, COORD2, mail, "reject not suitable")
    assert stack.wait_count(COORD2, 3) == 3
    late = body_text(parse(stack.messages(COORD2)[2]))
    assert f"already been decided by {COORD}" in late, late
    assert stack.count(MENTOR) == 1 and stack.count(MENTEE) == 0, "nothing relayed twice, no notice"
    assert gw.sql("SELECT state FROM holds") == [("approved",)]


def test_reject_tells_the_author_kindly(stack):
    gw, to_mentor, _ = gateway(stack)
    mail = held_mail(stack, gw, to_mentor)
    answer(stack, gw, COORD, mail, "reject Please keep phone numbers off the programme.")
    assert stack.wait_count(MENTEE, 1) == 1
    note = parse(stack.messages(MENTEE)[0])
    assert note["Auto-Submitted"] == "auto-generated"
    assert "Please keep phone numbers off the programme." in body_text(note)
    assert "Week 3" in body_text(note)
    assert stack.count(MENTOR) == 0
    assert gw.sql("SELECT state, kind FROM messages WHERE subject = 'Week 3'") == [("ignored", "rejected")]
    assert gw.sql("SELECT state, note FROM holds") == [
        ("rejected", "Please keep phone numbers off the programme.")]


def test_redact_and_edit(stack):
    gw, to_mentor, _ = gateway(stack)
    mail = held_mail(stack, gw, to_mentor)
    answer(stack, gw, COORD, mail, "redact")
    assert stack.wait_count(MENTOR, 1) == 1
    got = body_text(parse(stack.messages(MENTOR)[0]))
    # what the hold mail marks ([[text me on NUMBER]]) is what goes
    assert "Great session! [removed by moderator] if easier" in got, got
    assert "seven" not in got
    mail = held_mail(stack, gw, to_mentor, text=f"Week 4 is fun. call me {NUMBER}")
    answer(stack, gw, COORD, mail, "edit\r\nWeek 4 is fun. (A coordinator removed a phone number.)")
    assert stack.wait_count(MENTOR, 2) == 2
    got = body_text(parse(stack.messages(MENTOR)[1]))
    assert got.strip() == "Week 4 is fun. (A coordinator removed a phone number.)", got
    assert [s for (s,) in gw.sql("SELECT state FROM holds ORDER BY id")] == ["redacted", "edited"]


def test_only_coordinators_decide_and_nonsense_gets_help(stack):
    gw, to_mentor, _ = gateway(stack)
    mail = held_mail(stack, gw, to_mentor)
    answer(stack, gw, "mallory@school.test", mail, "approve")
    assert gw.sql("SELECT state FROM holds") == [("open",)]
    assert stack.count(MENTOR) == 0
    assert stack.count("mallory@school.test") == 0, "a stranger gets no answer"
    assert "not a coordinator" in gw.sql("SELECT reason FROM messages WHERE kind = 'moderation'")[0][0]
    # a coordinator's out-of-office is recorded, never answered
    answer(stack, gw, COORD, mail, "I am away until Monday.", extra="Auto-Submitted: auto-replied\r\n")
    assert stack.count(COORD) == 1 and gw.sql("SELECT state FROM holds") == [("open",)]
    answer(stack, gw, COORD, mail, "looks fine to me")
    assert stack.wait_count(COORD, 2) == 2
    assert "approve" in body_text(parse(stack.messages(COORD)[1]))
    assert gw.sql("SELECT state FROM holds") == [("open",)]


def test_forged_authentication_results_are_refused(stack):
    gw, to_mentor, _ = gateway(stack, extra="\n[moderation]\nrequire_authentication = yes\n"
                                             "authserv_id = mx.mentoring.test\n")
    mail = held_mail(stack, gw, to_mentor)
    # our server's header says nothing passed; a pass claimed below it is the sender's own
    answer(stack, gw, COORD, mail, "approve",
           extra="Authentication-Results: mx.mentoring.test; spf=fail smtp.mailfrom=x\r\n"
                 "Authentication-Results: mx.mentoring.test; dkim=pass header.d=mentoring.test\r\n")
    assert gw.sql("SELECT state FROM holds") == [("open",)]
    # another server's id is not trusted either
    answer(stack, gw, COORD, mail, "approve",
           extra="Authentication-Results: evil.test; dkim=pass header.d=mentoring.test\r\n")
    assert gw.sql("SELECT state FROM holds") == [("open",)]
    answer(stack, gw, COORD, mail, "approve",
           extra="Authentication-Results: mx.mentoring.test; dkim=pass header.d=mentoring.test\r\n")
    assert gw.sql("SELECT state FROM holds") == [("approved",)]
    assert stack.wait_count(MENTOR, 1) == 1


def test_shell_list_show_approve(stack):
    gw, to_mentor, _ = gateway(stack)
    held_mail(stack, gw, to_mentor)
    out = gw.ctl("hold", "list").stdout
    assert out.startswith("1\t") and "screening: contact-phone" in out, out
    show = gw.ctl("hold", "show", "1").stdout
    assert "flag: contact-phone uk-mobile hold: " + NUMBER in show, show
    assert "approved" not in show
    assert gw.ctl("hold", "approve", "1").stdout.strip() == "hold 1: approve"
    r = gw.ctl("hold", "approve", "1", check=False)
    assert r.returncode == 65 and "already decided by shell:" in r.stderr, r
    gw.once()
    assert stack.wait_count(MENTOR, 1) == 1
    assert gw.ctl("hold", "list").stdout == ""
    assert gw.ctl("hold", "show", "9", check=False).returncode == 66


def test_a_question_is_not_a_decision(stack):
    """Issue 20, 3: "Approve? ..." and "Edit?" get help; the hold stays open."""
    gw, to_mentor, _ = gateway(stack)
    mail = held_mail(stack, gw, to_mentor)
    answer(stack, gw, COORD, mail, "Approve? I am not sure, the number is a problem - let us discuss.")
    answer(stack, gw, COORD, mail, "Edit?\r\nShould we point them to the school office instead?")
    assert gw.sql("SELECT state FROM holds") == [("open",)]
    assert gw.sql("SELECT count(*) FROM confirmations") == [(0,)]
    stack.wait_queue_empty()
    helps = [m for m in stack.messages(COORD) if b"was not understood" in m]
    assert len(helps) == 2 and stack.count(MENTOR) == 0
