"""The long-running daemon: polling, one instance per database, SIGTERM."""
import os
import select
import signal
import subprocess
import time

from harness import BUILD, Gateway, make_mail

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"


def test_daemon_polls_and_stops_on_sigterm(stack):
    # idle = no: the polling fallback for servers without IDLE
    gw = Gateway(stack, extra="\n[imap]\nidle = no\n")
    to_mentor, _ = gw.setup_pair()
    d = subprocess.Popen([os.path.join(BUILD, "mentorgated"), "-c", gw.conf, "--foreground"],
                         stderr=subprocess.PIPE, text=True)
    try:
        # wait (bounded) until it holds the lock and has started
        ready, _, _ = select.select([d.stderr], [], [], 60)
        assert ready and "daemon started" in d.stderr.readline()
        # a second daemon on the same database refuses to start
        r = subprocess.run([os.path.join(BUILD, "mentorgated"), "-c", gw.conf, "--once"],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 75 and "another mentorgated is running" in r.stderr, r
        for i in range(2):     # two messages, some poll intervals apart
            stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, f"polled {i}", "hello"))
            assert stack.wait_count(MENTOR, i + 1, timeout=30) == i + 1
        assert d.poll() is None, "daemon exited early"
    finally:
        d.send_signal(signal.SIGTERM)
        try:
            rc = d.wait(timeout=30)
        except subprocess.TimeoutExpired:
            d.kill()
            raise
    err = d.stderr.read()     # the rest of its log
    assert rc == 0, (rc, err[-2000:])
    assert "daemon stopping" in err
    assert "password" not in err and "secret" not in err      # no secrets in logs
    assert stack.count(MENTOR) == 2
