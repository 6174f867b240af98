"""Postfix answers 451 for a while, then 250: every message is delivered,
once.  The deferral is real: a check_sender_access map in Postfix refuses
the gateway's envelope sender with 451 until it is taken out."""
import os
import smtplib
import subprocess
import time

from harness import Gateway, make_mail, parse

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"


def postfix(stack, *settings):
    pf = os.path.join(stack.dir, "postfix")
    for s in settings:
        subprocess.run(["postconf", "-c", pf] + s, check=True, capture_output=True)
    subprocess.run(["postfix", "-c", pf, "reload"], check=True, capture_output=True)


def probe(stack, want, tries=100):
    """The RCPT reply code for the gateway's envelope sender, until it is
    want (a reload reaches new smtpd processes only)."""
    for _ in range(tries):
        with smtplib.SMTP("127.0.0.1", stack.smtp_port) as s:
            s.mail("relay+bounce-0@mentoring.test")
            code, _ = s.rcpt(MENTOR)
            s.rset()
        if code == want:
            return
        time.sleep(0.1)     # polling a condition, bounded
    raise AssertionError(f"Postfix never answered {want}")


def test_451_for_a_while_then_250_delivers_each_once(stack):
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    access = os.path.join(stack.dir, "postfix", "sender_access")
    with open(access, "w") as f:
        f.write("mentoring.test 451 4.3.0 Try again later\n")
    postfix(stack, ["-e", f"smtpd_sender_restrictions = check_sender_access texthash:{access}"])
    try:
        probe(stack, 451)
        for i in range(5):
            stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, f"deferred {i}", "hello"))
        stack.wait_count("relay@mentoring.test", 5)
        now = int(time.time())
        for attempt in (1, 2):
            # the second run comes after the first retry is due
            gw.once(env={"MENTORGATE_NOW": str(now + (attempt - 1) * 7200)})
            rows = gw.sql("SELECT state, attempts, last_error FROM outbox")
            assert len(rows) == 5
            assert all(st == "queued" and n == attempt and "451" in err
                       for st, n, err in rows), rows
            assert stack.count(MENTOR) == 0
    finally:
        postfix(stack, ["-X", "smtpd_sender_restrictions"])
    probe(stack, 250)
    gw.once(env={"MENTORGATE_NOW": str(now + 86400)})
    assert stack.wait_count(MENTOR, 5) == 5
    assert gw.sql("SELECT count(*) FROM outbox WHERE state = 'sent'") == [(5,)]
    gw.once(env={"MENTORGATE_NOW": str(now + 2 * 86400)})      # nothing goes twice
    stack.wait_queue_empty()
    subjects = sorted(parse(m)["Subject"] for m in stack.messages(MENTOR))
    assert subjects == [f"deferred {i}" for i in range(5)], subjects
