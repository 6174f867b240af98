"""The audit log: every event in one hash chain; `audit verify` finds an
edited, a deleted and a reordered row, and rows naming rows that do not
exist; the chain head is mailed daily."""
import hashlib
import os
import shutil
import sqlite3

from harness import Gateway, body_text, make_mail, parse

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"
SAFE = "safe@mentoring.test"


def tampered(gw, name, *sql):
    """A copy of the database changed by sql the way an intruder would
    (dropping the triggers first); returns a Gateway-like path pair."""
    path = f"{gw.db}.{name}"
    shutil.copy(gw.db, path)
    con = sqlite3.connect(path)
    con.executescript("DROP TRIGGER audit_no_update; DROP TRIGGER audit_no_delete;" + ";".join(sql))
    con.commit()
    con.close()
    return path


def verify(gw, db=None):
    if db:
        conf = open(gw.conf).read().replace(f"database = {gw.db}", f"database = {db}")
        with open(gw.conf + ".t", "w") as f:
            f.write(conf)
        os.chmod(gw.conf + ".t", 0o600)
        saved, gw.conf = gw.conf, gw.conf + ".t"
        try:
            return gw.ctl("audit", "verify", check=False)
        finally:
            gw.conf = saved
    return gw.ctl("audit", "verify", check=False)


def test_chain_records_events_and_catches_tampering(stack):
    gw = Gateway(stack, extra=f"\n[safeguarding]\naddresses = {SAFE}\n")
    to_mentor, _ = gw.setup_pair()
    gw.relay_through(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "Week 1", "hello"), MENTOR)
    stack.send("mallory@school.test", to_mentor, make_mail("mallory@school.test", to_mentor, "hi", "x"))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    events = [e for (e,) in gw.sql("SELECT event FROM audit ORDER BY id")]
    for e in ("received", "relayed", "sent", "held"):
        assert e in events, events
    r = verify(gw)
    assert r.returncode == 0 and f"{len(events)} rows, the chain is whole" in r.stdout, r
    # the chain as the README states it, recomputed with another SHA-256
    prev = "0" * 64
    for (i, at, event, message, pair, actor, detail, p, h) in gw.sql(
            "SELECT id, at, event, message, pair, actor, detail, prev, hash FROM audit ORDER BY id"):
        line = f"{prev}\n{i}\n{at}\n{event}\n{message or 0}\n{pair or 0}\n{actor}\n{detail or ''}"
        assert p == prev and h == hashlib.sha256(line.encode()).hexdigest(), (i, event)
        prev = h
    # SQLite itself refuses changes
    con = sqlite3.connect(gw.db)
    for sql in ("UPDATE audit SET detail = 'x' WHERE id = 2", "DELETE FROM audit WHERE id = 2"):
        try:
            con.execute(sql)
            raise AssertionError(sql + " was allowed")
        except sqlite3.DatabaseError as e:
            assert "append-only" in str(e)
    con.close()
    edited = tampered(gw, "edited", "UPDATE audit SET detail = 'nothing happened' WHERE id = 3")
    r = verify(gw, edited)
    assert r.returncode == 65 and "row 3 is broken" in r.stderr and "edited" in r.stderr, r
    deleted = tampered(gw, "deleted", "DELETE FROM audit WHERE id = 3",
                       "UPDATE audit SET id = id - 1 WHERE id > 3")
    r = verify(gw, deleted)
    assert r.returncode == 65 and "row 3 is broken" in r.stderr, r
    reordered = tampered(gw, "reordered", "UPDATE audit SET id = -1 WHERE id = 2",
                         "UPDATE audit SET id = 2 WHERE id = 3", "UPDATE audit SET id = 3 WHERE id = -1")
    r = verify(gw, reordered)
    assert r.returncode == 65 and "row 2 is broken" in r.stderr, r
    # rows naming rows that do not exist: a message's recipient (no
    # REFERENCES), an outbox row's message (a foreign key SQLite knows)
    assert "every reference holds" in verify(gw).stdout
    r = verify(gw, tampered(gw, "stray1", "UPDATE messages SET recipient_id = 999 WHERE id = 1"))
    assert r.returncode == 65 and "messages row 1 names a recipient that does not exist" in r.stderr, r
    r = verify(gw, tampered(gw, "stray2", "UPDATE outbox SET message = 999 WHERE id = 1"))
    assert r.returncode == 65 and "outbox row 1 names a messages row that does not exist" in r.stderr, r
    # the daily head, to the safeguarding list, once a day
    assert stack.wait_count(SAFE, 1) == 1
    head = parse(stack.messages(SAFE)[0])
    assert "audit chain head" in str(head["Subject"])
    text = body_text(head)
    row = int(text.split("last row: ")[1].split()[0])
    mailed = text.split("its hash: ")[1].split()[0]
    assert gw.sql("SELECT hash FROM audit WHERE id = ?", row) == [(mailed,)], "the head as it was"
    gw.once()
    stack.wait_queue_empty()
    assert stack.count(SAFE) == 1, "one head a day"


def test_erase_removes_content_keeps_the_chain(stack):
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    gw.relay_through(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "photo", "sent by mistake: SECRET"),
                     MENTOR)
    r = gw.ctl("erase", "1", "--reason", "sent by mistake, asked by the DSL")
    assert r.stdout.strip() == "message 1 erased"
    assert gw.sql("SELECT length(r.raw), body, new_text, subject FROM messages m JOIN message_raw r ON r.id = m.id WHERE m.id = 1") == \
        [(0, None, None, "[erased]")]
    assert gw.sql("SELECT length(d.data) FROM outbox o JOIN outbox_data d ON d.id = o.id"
                  " WHERE message = 1") == [(0,)]
    assert gw.sql("SELECT event, actor LIKE 'shell:%', detail FROM audit WHERE event = 'erased'") == \
        [("erased", 1, "message 1: sent by mistake, asked by the DSL")]
    assert gw.ctl("audit", "verify").returncode == 0
    assert "SECRET" not in gw.ctl("export", "1").stdout
    assert gw.ctl("erase", "99", "--reason", "x", check=False).returncode == 66
