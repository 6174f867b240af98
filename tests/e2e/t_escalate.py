"""Escalation: a risk disclosure goes to the safeguarding list at once, then
up the chain each escalation_minutes until someone answers "ack" (the clock
is moved with MENTORGATE_NOW, never slept on); long-waiting holds are
mailed again."""
import os

from harness import Gateway, body_text, make_mail, parse

MENTEE = "alex@school.test"
SAFE = "safe@mentoring.test"
COORD = "coord@mentoring.test"
CHAIN1, CHAIN2 = "kim@nhs.test", "jo@school.test"
RULES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                     "conf", "rules")
T0 = 1795000000


def urgent(stack, user):
    """The escalation mails in user's INBOX (the daily audit head goes there too)."""
    return [m for m in map(parse, stack.messages(user)) if "URGENT" in str(m["Subject"])]


def at(gw, minutes):
    gw.once(env={"MENTORGATE_NOW": str(T0 + int(minutes * 60))})


def test_escalation_climbs_the_chain_until_ack(stack):
    gw = Gateway(stack, extra=f"\n[screening]\nrules = {RULES}\n\n[safeguarding]\naddresses = {SAFE}\n"
                              f"escalation_chain = {CHAIN1}, {CHAIN2}\nescalation_minutes = 30\n")
    to_mentor, _ = gw.setup_pair()
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "sorry",
                                            "I don't see the point anymore. Sorry I missed it."))
    stack.wait_count("relay@mentoring.test", 1)
    at(gw, 0)
    assert stack.wait_count(SAFE, 2) == 2
    alert = urgent(stack, SAFE)[0]
    assert "URGENT" in str(alert["Subject"]) and alert["Auto-Submitted"] == "auto-generated"
    text = body_text(alert)
    assert "see the point anymore]]" in text and "Alex Smith (mentee)" in text, text
    esc = alert["Reply-To"].addresses[0].addr_spec
    assert esc.startswith("relay+esc-")
    assert stack.wait_count(COORD, 1) == 1, "the coordinators get the hold as well"
    assert gw.sql("SELECT state, reason FROM messages") == [("held", "screening (escalate): risk")]
    at(gw, 29)
    stack.wait_queue_empty()
    assert stack.count(CHAIN1) == 0, "not before the deadline"
    at(gw, 31)
    assert stack.wait_count(CHAIN1, 1) == 1, "the second address after the deadline"
    assert "not yet acknowledged" in str(urgent(stack, CHAIN1)[0]["Subject"])
    assert gw.sql("SELECT step FROM escalations") == [(1,)]
    # a stranger's "ack" does nothing; the chain member's does
    stack.send("mallory@school.test", esc, make_mail("mallory@school.test", esc, "Re", "ack"))
    stack.wait_count("relay@mentoring.test", 1)
    at(gw, 40)
    assert gw.sql("SELECT acked FROM escalations") == [(None,)]
    stack.send(CHAIN1, esc, make_mail(CHAIN1, esc, "Re: URGENT", "ack - calling the school now"))
    stack.wait_count("relay@mentoring.test", 1)
    at(gw, 45)
    # (no authserv_id: the ack waits for CHAIN1 to confirm it from the mailbox)
    assert gw.sql("SELECT acked FROM escalations") == [(None,)]
    assert gw.confirm(CHAIN1, env={"MENTORGATE_NOW": str(T0 + 46 * 60)})
    assert gw.sql("SELECT acked_by FROM escalations") == [(CHAIN1,)]
    at(gw, 120)
    stack.wait_queue_empty()
    assert stack.count(CHAIN2) == 0, "an acknowledged escalation stops"


def test_unanswered_chain_ends_and_holds_are_reminded(stack):
    gw = Gateway(stack, extra=f"\n[screening]\nrules = {RULES}\n\n[safeguarding]\naddresses = {SAFE}\n"
                              f"escalation_chain = {CHAIN1}\nescalation_minutes = 10\n"
                              "\n[moderation]\nhold_reminder_hours = 24\n")
    to_mentor, _ = gw.setup_pair()
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "x", "burnt myself with a lighter again"))
    stack.wait_count("relay@mentoring.test", 1)
    at(gw, 0)
    at(gw, 11)
    at(gw, 22)
    at(gw, 33)
    assert stack.wait_count(CHAIN1, 1) == 1
    assert gw.sql("SELECT step, exhausted FROM escalations") == [(1, 1)]
    assert stack.wait_count(COORD, 1) == 1
    at(gw, 24 * 60 + 1)
    assert stack.wait_count(COORD, 2) == 2
    assert str(parse(stack.messages(COORD)[1])["Subject"]).startswith("Reminder: ")
    at(gw, 24 * 60 + 30)
    stack.wait_queue_empty()
    assert stack.count(COORD) == 2, "one reminder per period"
