"""Crash safety: SIGKILL at many points while 200 messages go through; every
message must still arrive exactly once."""
import smtplib

from harness import Gateway, parse, make_mail

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"


def test_sigkill_at_many_points_200_messages(stack):
    # one pair sends 200 messages: above the default daily cap.  One SMTP
    # connection: the next message's end waits for the record of the one
    # before, so a kill after any durable step finds no accepted message
    # unrecorded (several connections: t_parallel)
    gw = Gateway(stack, extra="\n[programme]\npair_daily_cap = 1000\n[smtp]\nconnections = 1\n")
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


def test_a_backlog_leaves_the_mailbox_as_it_is_committed(stack):
    """600 messages: more than one group commit (256), so the reader may
    move committed ones while its queue is full.  Killed at the first move,
    whenever it comes, only committed messages have left the mailbox; the
    next run stores and moves the rest, each exactly once."""
    n = 600
    gw = Gateway(stack, extra="\n[programme]\npair_daily_cap = 1000\n")
    to_mentor, _ = gw.setup_pair()
    m = stack.imap("relay@mentoring.test")
    try:
        for i in range(n):
            m.append("INBOX", None, None, make_mail(MENTEE, to_mentor, f"backlog {i:03d}",
                                                    f"message number {i}\r\n").encode())
    finally:
        m.logout()
    r = gw.once(env={"MENTORGATE_CRASH_AT": "imap moved:1"}, check=False)
    assert r.returncode == -9, r.stderr[-2000:]
    moved = len(stack.messages("relay@mentoring.test", "Processed"))
    stored = {row[0] for row in gw.sql("SELECT subject FROM messages")}
    assert moved > 0
    for raw in stack.messages("relay@mentoring.test", "Processed"):
        assert str(parse(raw)["Subject"]) in stored, "moved before it was committed"
    r = gw.once()
    done = [l for l in r.stderr.splitlines() if " pass done " in l][-1]
    kv = dict(f.split("=", 1) for f in done.split() if "=" in f)
    assert int(kv["moved"]) == n - moved, done       # each message moved once
    assert int(kv["moved_early"]) <= int(kv["moved"]), done
    assert stack.count("relay@mentoring.test") == 0
    assert len(stack.messages("relay@mentoring.test", "Processed")) == n
    assert gw.sql("SELECT count(*), count(DISTINCT subject) FROM messages"
                  " WHERE state = 'relayed'") == [(n, n)]
    assert gw.sql("SELECT count(*) FROM outbox") == [(n,)]
