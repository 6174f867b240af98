"""Postfix answers 451 for a while, then 250: every message is delivered,
once.  The deferral is real: a check_sender_access map in Postfix refuses
the gateway's envelope sender with 451 until it is taken out.  And a relay
that refuses the session itself (530 to MAIL: it wants authentication) is
an outage, not a bounce of every message."""
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


def test_a_relay_refusing_the_session_is_an_outage_not_a_bounce(stack):
    """530 to MAIL FROM (Microsoft 365's "client not authenticated", a relay
    wanting a login) is about the session: every message failed and its
    recipient paused as bouncing, as before, would be a disaster."""
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "refused", "hello"))
    stack.wait_count("relay@mentoring.test", 1)
    access = os.path.join(stack.dir, "postfix", "sender_access")
    with open(access, "w") as f:
        f.write("mentoring.test 530 5.7.0 Authentication required\n")
    # refused at MAIL itself, not at RCPT (Postfix's default delay)
    postfix(stack, ["-e", "smtpd_delay_reject = no",
                    f"smtpd_sender_restrictions = check_sender_access texthash:{access}"])
    try:
        probe_mail(stack, 530)
        r = gw.once(check=False)
        assert r.returncode == 75, r        # EX_TEMPFAIL: a server was down
        assert "smtp down" in r.stderr and "530" in r.stderr, r.stderr
        assert gw.sql("SELECT state, attempts FROM outbox") == [("queued", 0)]
        assert gw.sql("SELECT count(*) FROM bounces") == [(0,)]
        assert gw.sql("SELECT count(*) FROM participants WHERE paused IS NOT NULL") == [(0,)]
        assert gw.sql("SELECT count(*) FROM audit WHERE event = 'failed'") == [(0,)]
    finally:
        postfix(stack, ["-X", "smtpd_sender_restrictions"], ["-X", "smtpd_delay_reject"])
    probe_mail(stack, 250)
    gw.once()
    assert stack.wait_count(MENTOR, 1) == 1
    assert gw.sql("SELECT state FROM outbox") == [("sent",)]


def probe_mail(stack, want, tries=100):
    """The MAIL reply code for the gateway's envelope sender, until it is
    want (a reload reaches new smtpd processes only)."""
    for _ in range(tries):
        with smtplib.SMTP("127.0.0.1", stack.smtp_port) as s:
            code, _ = s.mail("relay+bounce-0@mentoring.test")
            s.rset()
        if code == want:
            return
        time.sleep(0.1)     # polling a condition, bounded
    raise AssertionError(f"Postfix never answered {want}")
