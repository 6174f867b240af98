"""Signals that add up: flag rules that hold nothing alone (flattery about
maturity, a gift, asking who reads the mail) are counted per author and
pair over 30 days; at pair_signals the message is held, and the other
author's signals do not count toward them."""
import os
import shutil
import time

from harness import Gateway, body_text, make_mail, parse

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def gateway(stack):
    rules = os.path.join(stack.dir, "signal-rules")
    shutil.rmtree(rules, ignore_errors=True)
    os.makedirs(rules)
    # the shipped signal rules alone: what the other rule files hold does
    # not decide this test
    shutil.copy(os.path.join(ROOT, "conf", "rules", "90-signals.rules"), rules)
    gw = Gateway(stack, extra=f"\n[screening]\nrules = {rules}\npair_signals = 3\n"
                              "\n[digest]\ncoordinators = yes\n")
    to_mentor, to_mentee = gw.setup_pair()
    return gw, to_mentor, to_mentee


def send(stack, gw, frm, to, subject, body):
    stack.send(frm, to, make_mail(frm, to, subject, body))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()


def state(gw, subject):
    return gw.sql("SELECT state, coalesce(reason, '') FROM messages WHERE subject = ?", subject)[0]


def test_signals_add_up_per_author_and_pair(stack):
    gw, to_mentor, to_mentee = gateway(stack)
    send(stack, gw, MENTOR, to_mentee, "One", "Honestly you're so mature for your age.")
    send(stack, gw, MENTEE, to_mentor, "Mentee", "I got you a little something too! Does anyone read your emails?")
    send(stack, gw, MENTOR, to_mentee, "Two", "I got you a little something for passing.")
    assert state(gw, "One")[0] == "relayed" and state(gw, "Two")[0] == "relayed"
    assert state(gw, "Mentee")[0] == "relayed", "the mentee's own two signals are under 3"
    send(stack, gw, MENTOR, to_mentee, "Three", "Does anyone read your emails apart from you?")
    st, reason = state(gw, "Three")
    assert st == "held", (st, reason)
    assert reason.startswith("signals adding up in this pair over 30 days: "), reason
    for rule in ("signal-maturity", "signal-gift", "signal-watching"):
        assert rule in reason, reason
    # a message that sets off nothing new is not held for old signals
    send(stack, gw, MENTOR, to_mentee, "Four", "See you on Thursday at the session.")
    assert state(gw, "Four")[0] == "relayed"
    # the coordinators' day names the pair whose signals are adding up
    today = int(time.time()) // 86400 * 86400
    gw.once(env={"MENTORGATE_NOW": str(today + 86400 + 17 * 3600)})
    stack.wait_queue_empty()
    day = [m for m in map(parse, stack.messages("coord@mentoring.test"))
           if "the day in the programme" in str(m["Subject"])]
    assert day, "a day mail"
    text = body_text(day[-1])
    assert "Signals adding up in a pair (last 30 days; held at 3):" in text, text
    assert "pair 1, from Sam Jones: 3 (" in text and "pair 1, from Alex Smith: 2 (" in text, text
