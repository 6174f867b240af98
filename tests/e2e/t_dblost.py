"""The database deleted or replaced under a running daemon: it stops with
exit status 66 and a log line naming the file and what happened, makes no
new database, leaves the mail in the mailbox and sends nothing more (it
used to make an empty database and relay the same message every pass)."""
import hashlib
import os
import sqlite3

from harness import Daemon, Gateway, make_mail

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"
RELAY = "relay@mentoring.test"


def running(gw):
    """A daemon that has relayed one message (so the outbox has run)."""
    to_mentor, _ = gw.setup_pair()
    d = Daemon([gw.conf])
    stack = gw.stack
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "first", "hello"))
    assert stack.wait_count(MENTOR, 1) == 1
    assert stack.wait_count(RELAY, 1, box="Processed") == 1
    return d, to_mentor


def stopped(d):
    """The daemon's exit status, once it stops by itself (bounded)."""
    try:
        return d.proc.wait(timeout=30)
    except Exception:
        d.stop()
        raise AssertionError("the daemon ran on without its database:\n" + d.log())


def second(stack, to_mentor):
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "second", "are you there?"))


def nothing_more_left(stack):
    """The second message arrived and stays: in the INBOX, not moved, and
    not one copy relayed (the first message's copy is all the mentor has)."""
    assert stack.wait_count(RELAY, 1) == 1
    assert stack.count(RELAY) == 1, "the message is still in the INBOX"
    assert stack.count(RELAY, box="Processed") == 1, "and was not moved"
    assert stack.count(MENTOR) == 1, "no copy of it was relayed"


def test_database_deleted_under_the_daemon(stack):
    gw = Gateway(stack)
    d, to_mentor = running(gw)
    for suffix in ("", "-wal", "-shm"):
        os.unlink(gw.db + suffix)
    second(stack, to_mentor)
    rc = stopped(d)
    nothing_more_left(stack)
    assert rc == 66, (rc, d.log())
    assert d.count(f"database lost programme=\"NHS Mentoring\" error=\"database {gw.db}"
                   " was deleted while in use\" action=stop") == 1, d.log()
    for suffix in ("", "-wal", "-shm"):
        assert not os.path.exists(gw.db + suffix), f"a new {gw.db}{suffix} was made"


def test_database_replaced_under_the_daemon(stack):
    gw = Gateway(stack)
    d, to_mentor = running(gw)
    # a copy of it (as a restore from backup would be) renamed over it
    copy = gw.db + ".copy"
    src, dst = sqlite3.connect(gw.db), sqlite3.connect(copy)
    src.backup(dst)
    dst.close()
    src.close()
    with open(copy, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    os.rename(copy, gw.db)
    second(stack, to_mentor)
    rc = stopped(d)
    nothing_more_left(stack)
    assert rc == 66, (rc, d.log())
    assert d.count(f"database lost programme=\"NHS Mentoring\" error=\"database {gw.db}"
                   " was replaced by another file while in use\" action=stop") == 1, d.log()
    # the file put in its place is left as it was, without the old file's
    # WAL beside it (SQLite would read that as its own)
    with open(gw.db, "rb") as f:
        assert hashlib.sha256(f.read()).hexdigest() == digest, "the new file was written to"
    assert not os.path.exists(gw.db + "-wal")
    assert gw.sql("PRAGMA integrity_check") == [("ok",)]
    assert gw.sql("SELECT subject FROM messages") == [("first",)]
