"""Spot checks: with spotcheck_percent a relayed message goes to the
coordinators for a second look; a coordinator's "ok" or "missed CATEGORY"
is recorded once, anything else gets help, a participant is refused, and
`rules replay` reports on the misses."""
import os
import re

from harness import Gateway, body_text, make_mail, parse

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"
COORD = "coord@mentoring.test"
RULES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                     "conf", "rules")


def gateway(stack, percent):
    gw = Gateway(stack, extra=f"\n[screening]\nrules = {RULES}\nspotcheck_percent = {percent}\n")
    to_mentor, _ = gw.setup_pair()
    return gw, to_mentor


def send(stack, gw, frm, to, subject, body):
    stack.send(frm, to, make_mail(frm, to, subject, body))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    stack.wait_queue_empty()


def spot_mails(stack):
    return [m for m in map(parse, stack.messages(COORD)) if "spot check" in str(m["Subject"])]


def test_a_spot_check_and_its_verdict(stack):
    gw, to_mentor = gateway(stack, 100)
    send(stack, gw, MENTEE, to_mentor, "Week 2", "Thanks for the session, see you next week.")
    assert stack.wait_count(MENTOR, 1) == 1, "relayed first"
    [mail] = spot_mails(stack)
    text = body_text(mail)
    assert "| Thanks for the session, see you next week." in text, text
    to = mail["Reply-To"].addresses[0].addr_spec
    assert re.fullmatch(r"relay\+spot-[a-z2-7]{24}@mentoring\.test", to), to
    [(message,)] = gw.sql("SELECT id FROM messages WHERE subject = 'Week 2'")
    assert gw.sql("SELECT message, chance, verdict FROM spotchecks") == [(message, 1.0, None)]
    # a participant cannot give a verdict, nor can a reply without one
    send(stack, gw, MENTOR, to, "Re: spot check", "ok")
    send(stack, gw, COORD, to, "Re: spot check", "looks fine I think")
    assert gw.sql("SELECT verdict FROM spotchecks") == [(None,)]
    assert any("Nothing was recorded" in body_text(parse(m)) for m in stack.messages(COORD))
    assert not any("spot-check" in body_text(parse(m)) for m in stack.messages(MENTOR))
    # the first verdict counts
    send(stack, gw, COORD, to, "Re: spot check", "missed meeting")
    send(stack, gw, COORD, to, "Re: spot check", "ok")
    assert gw.sql("SELECT verdict, category, decided_by FROM spotchecks") == [("missed", "meeting", COORD)]
    assert gw.sql("SELECT count(*) FROM audit WHERE event = 'spotcheck'") == [(1,)]
    listed = gw.ctl("spotcheck", "list").stdout
    assert f"message={message}" in listed and "missed meeting" in listed and f"by={COORD}" in listed
    replay = gw.ctl("rules", "replay", "--days", "1").stdout
    assert f"spot-check miss: message {message} meeting: still missed" in replay, replay
    assert "spot-check misses: 1, still missed: 1" in replay


def test_no_spot_check_at_zero_nor_for_a_released_hold(stack):
    gw, to_mentor = gateway(stack, 0)
    send(stack, gw, MENTEE, to_mentor, "Week 2", "Thanks for the session, see you next week.")
    assert stack.wait_count(MENTOR, 1) == 1
    assert spot_mails(stack) == [] and gw.sql("SELECT count(*) FROM spotchecks") == [(0,)]
    gw.edit("spotcheck_percent = 0", "spotcheck_percent = 100")
    send(stack, gw, MENTEE, to_mentor, "Week 3", "text me on 07700 900 123")
    [(h,)] = gw.sql("SELECT id FROM holds")
    gw.ctl("hold", "approve", str(h))
    gw.once()
    assert stack.wait_count(MENTOR, 2) == 2
    assert gw.sql("SELECT count(*) FROM spotchecks") == [(0,)], "a coordinator has looked already"


def test_a_mentee_under_18_and_rising_signals_weigh_the_chance(stack):
    # 25 % for a mentor writing to a mentee in a new pair is 75 %; a mentee
    # under 18 makes it certain, and the chance recorded says so
    gw = Gateway(stack, extra=f"\n[screening]\nrules = {RULES}\nspotcheck_percent = 25\n")
    to_mentor, to_mentee = gw.setup_pair()
    csv = os.path.join(gw.dir, "born.csv")
    with open(csv, "w") as f:
        f.write("role,name,email,cohort,segment,born\nmentee,Alex Smith,alex@school.test,W1,school,2031-01\n")
    bad = gw.ctl("import", csv, check=False)
    assert bad.returncode != 0 and f"{csv}:2: born must be YYYY, YYYY-MM or YYYY-MM-DD" in bad.stderr, bad.stderr
    with open(csv, "w") as f:
        f.write("role,name,email,cohort,segment,born\nmentee,Alex Smith,alex@school.test,W1,school,2010-05\n")
    gw.ctl("import", csv)
    assert gw.sql("SELECT born FROM participants WHERE email = ?", MENTEE) == [("2010-05",)]
    send(stack, gw, MENTOR, to_mentee, "Week 2", "Thanks for the session, see you next week.")
    assert stack.wait_count(MENTEE, 1) == 1
    [(message,)] = gw.sql("SELECT id FROM messages WHERE subject = 'Week 2'")
    assert gw.sql("SELECT message, chance FROM spotchecks") == [(message, 1.0)]
    assert "mentees under 18" in body_text(spot_mails(stack)[0])

    # 34 % for a mentee in a new pair is 68 %; a message that sets off a
    # flag rule (a warning sign that adds up in the pair) makes it certain
    gw.edit("spotcheck_percent = 25", "spotcheck_percent = 34")
    with open(csv, "w") as f:       # born no longer given: no longer counted
        f.write("role,name,email,cohort,segment,born\nmentee,Alex Smith,alex@school.test,W1,school,\n")
    gw.ctl("import", csv)
    assert gw.sql("SELECT born FROM participants WHERE email = ?", MENTEE) == [(None,)]
    send(stack, gw, MENTEE, to_mentor, "Week 3", "Great session, you can tell me anything about the course too.")
    assert stack.wait_count(MENTOR, 1) == 1, "a flag alone relays"
    [(m3,)] = gw.sql("SELECT id FROM messages WHERE subject = 'Week 3'")
    assert gw.sql("SELECT count(*) FROM flags WHERE message = ? AND action = 'flag'", m3) == [(1,)]
    assert gw.sql("SELECT chance FROM spotchecks WHERE message = ?", m3) == [(1.0,)]
