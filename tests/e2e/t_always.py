"""Always on: IDLE push, a Dovecot restart while idling, a mailbox that
cannot be selected, a processed mailbox deleted, sends enqueued by mentorctl, SIGHUP with a broken file,
SIGTERM in mid-ingest, and several programmes in one daemon, one of them
behind a hung server."""
import os
import smtplib
import socket
import subprocess

from harness import BUILD, RULES_DIR, Daemon, Gateway, make_mail, parse

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"
DEBUG = {"MENTORGATE_LOG": "debug"}


def idle_gateway(stack, extra=""):
    """A gateway that polls only hourly: anything relayed sooner came by IDLE
    (or by the daemon noticing mentorctl's commits)."""
    gw = Gateway(stack, extra="\n[daemon]\nreconnect_max = 5\n" + extra)
    gw.edit("poll_interval = 1\n", "poll_interval = 3600\n")
    return gw


def test_idle_push_survives_a_dovecot_restart(stack):
    gw = idle_gateway(stack)
    to_mentor, _ = gw.setup_pair()
    d = Daemon([gw.conf], env=DEBUG)
    try:
        d.wait_log("imap idling")
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "pushed", "hello"))
        assert stack.wait_count(MENTOR, 1, timeout=30) == 1
        # Dovecot goes away under the idling session, and comes back
        stack.run("stop-dovecot")
        d.wait_log("imap down")
        stack.run("start-dovecot")
        d.wait_log("imap recovered", timeout=60)
        d.wait_log("imap idling", after="imap recovered")
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "after restart", "again"))
        assert stack.wait_count(MENTOR, 2, timeout=30) == 2
        assert d.proc.poll() is None
    finally:
        rc = d.stop()
    assert rc == 0, d.log()
    # the outage is logged once, not once per attempt
    assert d.count("warn imap down") == 1, d.log()
    subjects = sorted(parse(m)["Subject"] for m in stack.messages(MENTOR))
    assert subjects == ["after restart", "pushed"], subjects
    assert gw.sql("SELECT count(*) FROM messages") == [(2,)]


def test_a_mailbox_that_cannot_be_selected_is_an_outage_not_a_crash(stack):
    """libetpan's IDLE dereferences the selection a failed SELECT leaves
    empty: the daemon crashed here.  Now the session is closed, the outage
    logged once and retried, and once the mailbox exists its mail goes."""
    relay = "relay@mentoring.test"
    gw = idle_gateway(stack)
    gw.edit("processed_mailbox = Processed\n", "processed_mailbox = Processed\nmailbox = Later\n")
    to_mentor, _ = gw.setup_pair()
    d = Daemon([gw.conf], env=DEBUG)
    created = False
    try:
        d.wait_log("imap down")
        d.wait_log("imap still-down", n=2)
        assert d.proc.poll() is None, d.log()
        stack.doveadm("mailbox", "create", "-u", relay, "Later")
        created = True
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "later", "hello"))
        assert stack.wait_count(relay, 1) == 1
        stack.doveadm("move", "-u", relay, "Later", "mailbox", "INBOX", "ALL")
        d.wait_log("imap recovered", timeout=30)
        assert stack.wait_count(MENTOR, 1, timeout=30) == 1
        d.wait_log("imap idling")       # on the mailbox, now selected
    finally:
        rc = d.stop()
        if created:
            stack.doveadm("mailbox", "delete", "-s", "-u", relay, "Later")
    assert rc == 0, d.log()
    down = [l for l in d.log().splitlines() if " imap down " in l]
    assert len(down) == 1 and "Mailbox doesn't exist" in down[0], d.log()
    assert d.count("warn imap") == 1, d.log()   # once, not once per attempt


def test_a_deleted_processed_mailbox_is_made_again(stack):
    """Someone deletes the processed mailbox (a mail client's clean-up):
    the move into it is refused; the daemon makes it again and moves,
    instead of leaving every handled message in the inbox for good."""
    relay = "relay@mentoring.test"
    gw = idle_gateway(stack)
    to_mentor, _ = gw.setup_pair()
    d = Daemon([gw.conf], env=DEBUG)
    try:
        d.wait_log("imap idling")       # the session made Processed at login
        stack.doveadm("mailbox", "delete", "-u", relay, "Processed")
        for i in range(2):
            stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, f"moved {i}", "hello"))
            assert stack.wait_count(MENTOR, i + 1, timeout=30) == i + 1
            d.wait_log("pass done", n=i + 1)
    finally:
        rc = d.stop()
    assert rc == 0, d.log()
    assert stack.count(relay) == 0 and stack.count(relay, "Processed") == 2, d.log()
    assert d.count("imap recreated mailbox=Processed") == 1, d.log()
    assert d.count("mark-handled failed") == 0, d.log()


def test_mentorctl_approval_is_sent_at_once(stack):
    gw = idle_gateway(stack, extra=f"\n[screening]\nrules = {RULES_DIR}\n")
    to_mentor, _ = gw.setup_pair()
    d = Daemon([gw.conf], env=DEBUG)
    try:
        d.wait_log("imap idling")
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "number",
                                                "ring me on 07700 900123 tonight"))
        stack.wait_count("coord@mentoring.test", 1, timeout=30)     # the hold notice
        assert gw.sql("SELECT count(*) FROM holds WHERE state = 'open'") == [(1,)]
        assert stack.count(MENTOR) == 0
        gw.ctl("hold", "approve", "1")
        # no poll is due for an hour: the daemon saw the commit
        assert stack.wait_count(MENTOR, 1, timeout=30) == 1
    finally:
        assert d.stop() == 0, d.log()


def test_sighup_with_a_broken_file_keeps_the_old_configuration(stack):
    gw = idle_gateway(stack)
    to_mentor, _ = gw.setup_pair()
    d = Daemon([gw.conf], env=DEBUG)
    try:
        d.wait_log("imap idling")
        with open(gw.conf) as f:
            good = f.read()
        with open(gw.conf, "w") as f:
            f.write(good.replace("[smtp]\n", "[smtp]\nurl smtp://nowhere\n"))
        d.proc.send_signal(1)       # SIGHUP
        d.wait_log("reload-rejected")
        assert "gw.conf:" in d.log() and "reload-rejected" in d.log()
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "still here", "hello"))
        assert stack.wait_count(MENTOR, 1, timeout=30) == 1
        # a good file is taken, and the sessions reopened with it
        with open(gw.conf, "w") as f:
            f.write(good.replace("from_name = NHS Mentoring", "from_name = NHS Mentoring Two"))
        d.proc.send_signal(1)
        d.wait_log("conf reloaded")
        d.wait_log("imap idling", after="conf reloaded")
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "reloaded", "hello"))
        assert stack.wait_count(MENTOR, 2, timeout=30) == 2
    finally:
        assert d.stop() == 0, d.log()


def test_sigterm_during_ingest_loses_nothing(stack):
    gw = Gateway(stack, extra="\n[programme]\npair_daily_cap = 1000\n")
    to_mentor, _ = gw.setup_pair()
    n = 120
    with smtplib.SMTP("127.0.0.1", stack.smtp_port) as s:
        for i in range(n):
            s.sendmail(MENTEE, [to_mentor], make_mail(MENTEE, to_mentor, f"ingest {i:03d}",
                                                      "Some words. " * 50).encode())
    assert stack.wait_count("relay@mentoring.test", n, timeout=120) == n
    # SIGTERM arrives as the 40th message is being stored
    d = Daemon([gw.conf], env={"MENTORGATE_CRASH_AT": "stored:40",
                               "MENTORGATE_CRASH_SIGNAL": "TERM"})
    rc = d.proc.wait(timeout=120)
    assert rc == 0, d.log()
    assert "crashpoint 40 stored (SIGTERM)" in d.log()
    # it finished the message in hand and stopped: 40 stored and moved
    assert gw.sql("SELECT count(*) FROM messages") == [(40,)]
    assert stack.count("relay@mentoring.test") == n - 40
    assert stack.count("relay@mentoring.test", "Processed") == 40
    gw.once()
    assert stack.wait_count(MENTOR, n, timeout=120) == n
    subjects = [parse(m)["Subject"] for m in stack.messages(MENTOR)]
    assert sorted(subjects) == [f"ingest {i:03d}" for i in range(n)]      # each once


def test_two_programmes_in_one_daemon(stack):
    nhs = idle_gateway(stack)
    research = Gateway(stack, name="research")
    research.edit("relay@mentoring.test", "research@mentoring.test")
    research.edit("name = NHS Mentoring", "name = Research Mentoring")
    research.edit("poll_interval = 1\n", "poll_interval = 3600\n")
    to_mentor, _ = nhs.setup_pair()
    r_to_mentor, _ = research.setup_pair("jo@school.test", "kim@nhs.test")
    assert "research+" in r_to_mentor
    d = Daemon([nhs.conf, research.conf], env=DEBUG)
    try:
        d.wait_log("imap idling", n=2)
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "nhs", "hello"))
        stack.send("jo@school.test", r_to_mentor,
                   make_mail("jo@school.test", r_to_mentor, "research", "hello"))
        assert stack.wait_count(MENTOR, 1, timeout=30) == 1
        assert stack.wait_count("kim@nhs.test", 1, timeout=30) == 1
    finally:
        assert d.stop() == 0, d.log()
    assert nhs.sql("SELECT subject FROM messages") == [("nhs",)]
    assert research.sql("SELECT subject FROM messages") == [("research",)]
    # a second daemon on either database is refused
    d = Daemon([research.conf])
    try:
        d.wait_log("daemon started")
        r = subprocess.run([os.path.join(BUILD, "mentorgated"), "--once", "-c", nhs.conf,
                            "-c", research.conf], capture_output=True, text=True, timeout=60)
        assert r.returncode == 75 and "another mentorgated is running" in r.stderr, r
    finally:
        assert d.stop() == 0


def test_a_hung_server_holds_up_no_other_programme(stack):
    """One programme's IMAP server accepts the connection and then says
    nothing: while that programme waits out its 60 s timeout, the other
    relays at once (each programme has a thread of its own)."""
    tarpit = socket.socket()
    tarpit.bind(("127.0.0.1", 0))
    tarpit.listen(8)                   # the kernel accepts; nobody answers
    nhs = idle_gateway(stack)
    nhs.edit(f"port = {stack.imap_port}\n", f"port = {tarpit.getsockname()[1]}\n")
    nhs.edit("timeout = 20\n", "timeout = 60\n")
    research = Gateway(stack, name="research")
    research.edit("relay@mentoring.test", "research@mentoring.test")
    research.edit("name = NHS Mentoring", "name = Research Mentoring")
    research.edit("poll_interval = 1\n", "poll_interval = 3600\n")
    r_to_mentor, _ = research.setup_pair("jo@school.test", "kim@nhs.test")
    d = Daemon([nhs.conf, research.conf], env=DEBUG)
    try:
        d.wait_log('imap idling programme="Research Mentoring"')
        stack.send("jo@school.test", r_to_mentor,
                   make_mail("jo@school.test", r_to_mentor, "research", "hello"))
        assert stack.wait_count("kim@nhs.test", 1, timeout=30) == 1
        assert d.count("imap down") == 0, d.log()      # the other still waits
        assert d.count('pass done programme="NHS Mentoring"') == 0
    finally:
        tarpit.close()                 # the waiting session fails at once
        assert d.stop() == 0, d.log()


def test_refused_login_and_unknown_host_are_retried_and_logged_once(stack):
    gw = idle_gateway(stack)
    to_mentor, _ = gw.setup_pair()
    gw.edit("password = secret\n", "password = not-the-password\n")
    d = Daemon([gw.conf], env=DEBUG)
    try:
        d.wait_log("warn imap down")
        d.wait_log("imap still-down", n=2)          # retried, quietly
        assert d.count("warn imap down") == 1 and "login failed" in d.log()
        # a name that does not resolve: a new configuration, a new outage
        gw.edit("password = not-the-password\n", "password = secret\n")
        gw.edit("host = 127.0.0.1\n", "host = no-such-host.invalid\n")
        d.proc.send_signal(1)
        d.wait_log("conf reloaded")
        d.wait_log("warn imap down", n=2)
        d.wait_log("imap still-down", n=d.count("imap still-down") + 2)
        assert d.count("warn imap down") == 2
        gw.edit("host = no-such-host.invalid\n", "host = 127.0.0.1\n")
        d.proc.send_signal(1)
        d.wait_log("imap idling")
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "at last", "hello"))
        assert stack.wait_count(MENTOR, 1, timeout=30) == 1
    finally:
        assert d.stop() == 0, d.log()
    assert "not-the-password" not in d.log() and "secret" not in d.log()


def test_postfix_down_then_up_is_recovered_without_a_restart(stack):
    gw = idle_gateway(stack)
    to_mentor, _ = gw.setup_pair()
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "waits for postfix", "hello"))
    stack.wait_count("relay@mentoring.test", 1)
    stack.run("stop-postfix")
    d, postfix_down = None, True
    try:
        d = Daemon([gw.conf], env=DEBUG)
        d.wait_log("warn smtp down")
        d.wait_log("smtp still-down")           # retried on its backoff, quietly
        assert gw.sql("SELECT state FROM outbox") == [("queued",)]
        stack.run("start-postfix")
        postfix_down = False
        d.wait_log("smtp recovered", timeout=60)
        assert stack.wait_count(MENTOR, 1, timeout=30) == 1
        assert gw.sql("SELECT state FROM outbox") == [("sent",)]
    finally:
        if postfix_down:
            stack.run("start-postfix")
        if d:
            assert d.stop() == 0, d.log()
    assert d.count("warn smtp down") == 1 and "Couldn't connect" in d.log()
