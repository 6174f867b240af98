"""The disk fills between a message's sending and its "sent" record: the
next message is cut off before its end, nothing more goes out, and the
record is made as soon as there is room again, so that every message
reaches its recipient exactly once, without a restart.  A file size limit
on the daemon (prlimit, while it waits at a pause point) stands in for the
full disk: SQLite's every write fails as it would with ENOSPC."""
import os
import resource
import signal
import time

from harness import Daemon, Gateway, make_mail

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"
N = 5


def stopped(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "T"


def fill_the_disk_while_sending(gw, n):
    """Run the daemon until the n relays waiting in the mailbox are claimed,
    stop it there, let no file grow, and go on: each message accepted then
    is sent but not recorded, the next of each connection held back; room
    again, and all is recorded and sent.  The daemon's log."""
    # the first pass stores the n, claims their relays and pauses there
    d = Daemon([gw.conf], env={"MENTORGATE_LOG": "debug", "MENTORGATE_CRASH_AT": "outbox claimed:1",
                               "MENTORGATE_CRASH_SIGNAL": "STOP"})
    pid = d.proc.pid
    try:
        d.wait_log("crashpoint 1 outbox claimed (SIGSTOP)")
        deadline = time.time() + 10     # bounded: the signal is on its way
        while not stopped(pid) and time.time() < deadline:
            os.sched_yield()
        assert stopped(pid)
        soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (1, hard))     # no file may grow
        os.kill(pid, signal.SIGCONT)
        d.wait_log("outbox sent-not-recorded")
        d.wait_log("outbox held-back")   # the next one never got its end out
        d.wait_log("outbox sent-not-recorded id=", n=1)
        d.wait_log(" still", n=1)       # a later pass tried, and sent nothing
        assert d.count("outbox sent id=") == 0
        resource.prlimit(pid, resource.RLIMIT_FSIZE, (soft, hard))
        d.wait_log("recorded=late")
        d.wait_log("outbox sent id=", n=n)
    finally:
        assert d.stop() == 0, d.log()
    assert gw.sql("SELECT state, count(*) FROM outbox GROUP BY state") == [("sent", n)]
    assert gw.sql("SELECT count(*) FROM audit WHERE event = 'sent'") == [(n,)]
    return d.log()


def test_sent_but_not_recorded_is_recorded_late_not_sent_twice(stack):
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    for i in range(N):
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, f"full {i}", "hello\r\n"))
    assert stack.wait_count("relay@mentoring.test", N) == N
    log = fill_the_disk_while_sending(gw, N)
    assert stack.wait_count(MENTOR, N) == N
    subjects = sorted(m.split(b"Subject: ", 1)[1].split(b"\r\n", 1)[0].decode()
                      for m in stack.messages(MENTOR))
    assert subjects == sorted(f"full {i}" for i in range(N)), subjects     # once each
    assert log.count("recorded=late") == 1
