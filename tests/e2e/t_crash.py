"""Crash safety: SIGKILL at many points while 200 messages go through; every
message must still arrive exactly once."""
import smtplib

from harness import Gateway, parse, make_mail

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"


def test_sigkill_at_many_points_200_messages(stack):
    # one pair sends 200 messages: above the default daily cap
    gw = Gateway(stack, extra="\n[programme]\npair_daily_cap = 1000\n")
    to_mentor, to_mentee = gw.setup_pair()
    want = {MENTOR: set(), MENTEE: set()}
    with smtplib.SMTP("127.0.0.1", stack.smtp_port) as s:
        for i in range(200):
            if i % 4 == 3:
                frm, rcpt, dest = MENTOR, to_mentee, MENTEE
            else:
                frm, rcpt, dest = MENTEE, to_mentor, MENTOR
            subject = f"crash test {i:03d}"
            want[dest].add(subject)
            s.sendmail(frm, [rcpt], make_mail(frm, rcpt, subject, f"message number {i}\r\n"
                                              + "Some text to make it realistic. " * 40).encode())
    assert stack.wait_count("relay@mentoring.test", 200, timeout=120) == 200
    # MENTORGATE_CRASH_AT=k: the daemon SIGKILLs itself at its k-th durable
    # step (a commit, an IMAP move, an outbox claim, a recorded send).
    kills = 0
    where = set()
    for k in ("1", "2", "3", "5", "8", "13", "imap moved:1", "21", "40", "77",
              "outbox claimed:1", "outbox sent:1", "outbox sent:30", "120", "199", "201",
              "imap moved:1", "250", "333", "404", "3", "1"):
        r = gw.once(env={"MENTORGATE_CRASH_AT": k}, check=False)
        if r.returncode == -9:
            kills += 1
            where.add(r.stderr.strip().splitlines()[-1].split(" ", 2)[2])
        else:
            assert r.returncode == 0, (k, r.returncode, r.stderr[-2000:])
    assert kills >= 12, kills
    # every kind of durable step was interrupted at least once
    assert where >= {"stored", "relayed", "imap moved", "outbox claimed", "outbox sent"}, where
    for _ in range(5):          # restart until done
        gw.once()
        if gw.sql("SELECT count(*) FROM outbox WHERE state != 'sent'") == [(0,)] and \
                stack.count("relay@mentoring.test") == 0:
            break
    assert gw.sql("SELECT count(*) FROM messages WHERE state = 'relayed'") == [(200,)]
    assert gw.sql("SELECT count(*) FROM outbox WHERE state = 'sent'") == [(200,)]
    for user, subjects in want.items():
        n = stack.wait_count(user, len(subjects), timeout=120)
        got = [str(parse(raw)["Subject"]) for raw in stack.messages(user)]
        assert n == len(subjects), (user, n, len(subjects))
        assert sorted(got) == sorted(subjects), f"{user}: duplicates or losses"
