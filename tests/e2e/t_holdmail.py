"""Who sees and decides a hold, and what they read: a coordinator who is
also a participant never receives or decides a hold of their own pair (with
nobody else, the safeguarding addresses do), and the held text is fenced
so that nothing in it passes for the gateway's words."""
import os
import time

from harness import Gateway, body_text, make_mail, parse

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"
COORD = "coord@mentoring.test"
SAFE = "safe@mentoring.test"
RULES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                     "conf", "rules")


def gateway(stack, coordinators, safeguarding=SAFE):
    gw = Gateway(stack, extra=f"\n[screening]\nrules = {RULES}\n\n[safeguarding]\naddresses = {safeguarding}\n"
                              "\n[digest]\ncoordinators = yes\n")
    gw.edit(f"coordinators = {COORD}", f"coordinators = {coordinators}")
    # 09:00 UTC today: the coordinators' day (sent from 16:00) is not yet due,
    # whenever the test runs; the reminders' pass below moves on explicitly
    gw.env["MENTORGATE_NOW"] = str(int(time.time()) // 86400 * 86400 + 9 * 3600)
    to_mentor, to_mentee = gw.setup_pair()
    return gw, to_mentor, to_mentee


def holds_to(stack, user):
    """The hold mails in user's INBOX (the daily audit head goes there too)."""
    return [m for m in map(parse, stack.messages(user)) if "] held: " in str(m["Subject"])]


def send(stack, gw, frm, to, subject, body):
    stack.send(frm, to, make_mail(frm, to, subject, body))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    stack.wait_queue_empty()


def test_a_coordinator_in_the_pair_neither_receives_nor_decides_its_hold(stack):
    gw, to_mentor, to_mentee = gateway(stack, f"{COORD}, {MENTOR}")
    send(stack, gw, MENTEE, to_mentor, "Week 3", "text me on 07700 900 123 after school")
    assert len(holds_to(stack, COORD)) == 1, "the other coordinator gets the hold"
    assert stack.count(MENTOR) == 0, "the mentor, its recipient, gets nothing"
    assert len(holds_to(stack, SAFE)) == 0
    # the mentor answers the hold's address all the same (it could leak):
    [(token,)] = gw.sql("SELECT token FROM holds")
    to = f"relay+mod-{token}@mentoring.test"
    send(stack, gw, MENTOR, to, "Re: held", "approve")
    gw.confirm(MENTOR)
    stack.wait_queue_empty()
    assert gw.sql("SELECT state FROM holds") == [("open",)], "he cannot approve it"
    assert not any("07700 900 123" in body_text(parse(m)) for m in stack.messages(MENTOR))
    # his own held message: the other coordinator decides, not he
    send(stack, gw, MENTOR, to_mentee, "Week 3 reply", "my snapchat is sam_j77, add me")
    [(token2,)] = gw.sql("SELECT h.token FROM holds h JOIN messages m ON m.id = h.message"
                         " WHERE m.subject = 'Week 3 reply'")
    assert len(holds_to(stack, COORD)) == 2
    to = f"relay+mod-{token2}@mentoring.test"
    send(stack, gw, MENTOR, to, "Re: held", "approve")
    gw.confirm(MENTOR)
    assert stack.count(MENTEE) == 0
    assert gw.sql("SELECT state FROM holds WHERE token = ?", token2) == [("open",)]
    # the other coordinator's receipt and reminders: nothing to the mentor
    mail = holds_to(stack, COORD)[-1]
    to = mail["Reply-To"].addresses[0].addr_spec
    send(stack, gw, COORD, to, "Re: held", "reject Please keep contact details off the programme.")
    gw.confirm(COORD)
    assert gw.sql("SELECT state FROM holds WHERE token = ?", token2) == [("rejected",)]
    stack.wait_queue_empty()
    # a day on: the reminder of the open hold and the coordinators' day
    # reach the other coordinator, and tell the mentor nothing of it
    today = int(time.time()) // 86400 * 86400
    later = {"MENTORGATE_NOW": str(today + 2 * 86400 + 17 * 3600)}   # 17:00 UTC, a day on
    gw.once(env=later)
    stack.wait_queue_empty()
    coord = [parse(m) for m in stack.messages(COORD)]
    assert any("Reminder" in str(m["Subject"]) and "hold 1:" in body_text(m) for m in coord)
    day = [m for m in coord if "the day in the programme" in str(m["Subject"])]
    assert day and "hold 1 from alex@school.test" in body_text(day[0]), [str(m["Subject"]) for m in coord]
    mine = [parse(m) for m in stack.messages(MENTOR)]
    assert any("the day in the programme" in str(m["Subject"]) for m in mine)
    for m in mine:
        subject, text = str(m["Subject"]), body_text(m)
        assert "held" not in subject and "Reminder" not in subject and "decided by" not in subject, subject
        assert "hold 1" not in text and "hold 2" not in text, text


def test_with_no_other_coordinator_the_hold_goes_to_safeguarding(stack):
    gw, to_mentor, _ = gateway(stack, MENTOR)
    send(stack, gw, MENTEE, to_mentor, "Week 3", "text me on 07700 900 123 after school")
    assert stack.count(MENTOR) == 0
    assert len(holds_to(stack, SAFE)) == 1
    mail = holds_to(stack, SAFE)[0]
    assert "every coordinator is in the pair" in body_text(mail)
    to = mail["Reply-To"].addresses[0].addr_spec
    send(stack, gw, SAFE, to, "Re: held", "approve")
    gw.confirm(SAFE)
    assert gw.sql("SELECT state, decided_by FROM holds") == [("approved", SAFE)]
    assert stack.wait_count(MENTOR, 1) == 1


def test_the_held_text_cannot_pass_for_the_gateways_words(stack):
    gw, to_mentor, _ = gateway(stack, COORD)
    body = ("text me on 07700 900 123\r\n----- end -----\r\n\r\n"
            "Note from the gateway: false alarm, safe to reply approve\r\n")
    send(stack, gw, MENTEE, to_mentor, "Week 3", body)
    text = body_text(holds_to(stack, COORD)[0])
    lines = text.splitlines()
    assert "| ----- end -----" in lines, text
    assert "| Note from the gateway: false alarm, safe to reply approve" in lines, text
    assert not any(line.startswith("Note from the gateway") or line == "----- end -----"
                   for line in lines), text
    assert "as Alex Smith (mentee) wrote it" in text
    # and why each mark was made, after the message
    found = text[text.index("(end of the message"):]
    assert "What screening found:" in found and '"07700 900 123": rule ' in found, found
    assert "(contact-phone)" in found, found


def test_an_escalation_passes_over_whoever_it_concerns(stack):
    # the mentor is on the safeguarding list too: a risk disclosure by his
    # mentee goes to the other safeguarding address only, and he cannot ack it
    gw, to_mentor, _ = gateway(stack, COORD, safeguarding=f"{SAFE}, {MENTOR}")
    send(stack, gw, MENTEE, to_mentor, "Week 3", "I don't see the point anymore. I want to die.")
    urgent = [parse(m) for m in stack.messages(SAFE) if "URGENT" in str(parse(m)["Subject"])]
    assert len(urgent) == 1
    assert not any("URGENT" in str(parse(m)["Subject"]) for m in stack.messages(MENTOR))
    to = urgent[0]["Reply-To"].addresses[0].addr_spec
    send(stack, gw, MENTOR, to, "Re: URGENT", "ack")
    gw.confirm(MENTOR)
    assert gw.sql("SELECT acked_by FROM escalations") == [(None,)]
    send(stack, gw, SAFE, to, "Re: URGENT", "ack")
    gw.confirm(SAFE)
    assert gw.sql("SELECT acked_by FROM escalations") == [(SAFE,)]
