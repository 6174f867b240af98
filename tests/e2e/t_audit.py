"""The audit log: every event in one hash chain; `audit verify` finds an
edited, a deleted and a reordered row, and rows naming rows that do not
exist; the chain head is mailed daily.  Rows about a message commit to
what it says, so an edited message is found; `audit verify --head HASH`
(the mailed head) finds rows deleted from the end and an older copy."""
import hashlib
import os
import shutil
import sqlite3
import time

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


def verify(gw, db=None, head=None):
    args = ("audit", "verify") + (("--head", head) if head else ())
    if db:
        conf = open(gw.conf).read().replace(f"database = {gw.db}", f"database = {db}")
        with open(gw.conf + ".t", "w") as f:
            f.write(conf)
        os.chmod(gw.conf + ".t", 0o600)
        saved, gw.conf = gw.conf, gw.conf + ".t"
        try:
            return gw.ctl(*args, check=False)
        finally:
            gw.conf = saved
    return gw.ctl(*args, check=False)


def content_hash(*fields):
    """What a row commits to, as the README states it: for the raw message,
    its body and its new text, the length ("-" for none), a newline, the
    bytes, a newline."""
    h = hashlib.sha256()
    for f in fields:
        if f is None:
            h.update(b"-\n\n")
        else:
            b = f if isinstance(f, bytes) else f.encode()
            h.update(str(len(b)).encode() + b"\n" + b + b"\n")
    return h.hexdigest()


def row_hash(prev, i, at, event, message, pair, actor, detail, content):
    line = f"{prev}\n{i}\n{at}\n{event}\n{message or 0}\n{pair or 0}\n{actor}\n{detail or ''}"
    if content is not None:
        line += f"\n{content}"
    return hashlib.sha256(line.encode()).hexdigest()


def copy_db(gw, name):
    """A consistent copy of the database as it is now (a backup)."""
    path = f"{gw.db}.{name}"
    src, dst = sqlite3.connect(gw.db), sqlite3.connect(path)
    src.backup(dst)
    dst.close()
    src.close()
    return path


def heads(stack):
    """The mailed heads, oldest first: (text, row, hash)."""
    out = []
    for raw in stack.messages(SAFE):
        m = parse(raw)
        if "audit chain head" in str(m["Subject"]):
            text = body_text(m)
            out.append((str(m["Subject"]), text, int(text.split("last row: ")[1].split()[0]),
                        text.split("its hash: ")[1].split()[0]))
    return [o[1:] for o in sorted(out)]


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
    # the chain as the README states it, recomputed with another SHA-256;
    # a row about a message commits to what the message says now
    prev = "0" * 64
    for (i, at, event, message, pair, actor, detail, p, h, content) in gw.sql(
            "SELECT id, at, event, message, pair, actor, detail, prev, hash, content"
            " FROM audit ORDER BY id"):
        assert p == prev and h == row_hash(prev, i, at, event, message, pair, actor, detail,
                                           content), (i, event)
        assert (content is None) == (message is None), (i, event)
        prev = h
    relayed = gw.sql("SELECT r.raw, body, new_text FROM messages m JOIN message_raw r"
                     " ON r.id = m.id WHERE m.id = 1")[0]
    assert gw.sql("SELECT content FROM audit WHERE message = 1 ORDER BY id DESC LIMIT 1") == \
        [(content_hash(*relayed),)]
    assert gw.sql("SELECT content FROM audit WHERE message = 1 AND event = 'received'") == \
        [(content_hash(relayed[0], None, None),)], "received: before there was a text"
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
    kept = "SELECT t.text FROM outbox o JOIN outbox_text t ON t.id = o.id WHERE message = 1"
    assert "SECRET" in gw.sql(kept)[0][0], "the relayed copy's text is kept beside it"
    r = gw.ctl("erase", "1", "--reason", "sent by mistake, asked by the DSL")
    assert r.stdout.strip() == "message 1 erased"
    assert gw.sql("SELECT length(r.raw), body, new_text, subject FROM messages m JOIN message_raw r ON r.id = m.id WHERE m.id = 1") == \
        [(0, None, None, "[erased]")]
    assert gw.sql("SELECT length(d.data) FROM outbox o JOIN outbox_data d ON d.id = o.id"
                  " WHERE message = 1") == [(0,)]
    assert gw.sql(kept) == [("",)]
    assert gw.sql("SELECT event, actor LIKE 'shell:%', detail FROM audit WHERE event = 'erased'") == \
        [("erased", 1, "message 1: sent by mistake, asked by the DSL")]
    assert gw.ctl("audit", "verify").returncode == 0
    assert "SECRET" not in gw.ctl("export", "1").stdout
    assert gw.ctl("erase", "99", "--reason", "x", check=False).returncode == 66


def test_head_catches_rows_deleted_from_the_end_and_an_older_copy(stack):
    gw = Gateway(stack, extra=f"\n[safeguarding]\naddresses = {SAFE}\n")
    to_mentor, _ = gw.setup_pair()
    gw.relay_through(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "Week 1", "hello"), MENTOR)
    stack.wait_count(SAFE, 1)
    yesterday = copy_db(gw, "yesterday")
    # the next day: another message, another head
    tomorrow = {"MENTORGATE_NOW": str(int(time.time()) + 86400)}
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "Week 2", "hello again"))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once(env=tomorrow)
    stack.wait_count(SAFE, 2)
    (_, row1, head1), (text, row2, head2) = heads(stack)
    assert row2 > row1
    # the mail says how to use it, with the hash and the row it should be
    assert f"mentorctl -c {gw.conf} audit verify --head {head2}" in text, text
    assert f"the head is row {row2}" in text, text
    # the database as it is: whole, both heads in it
    r = verify(gw, head=head2)
    assert r.returncode == 0 and f"the head is row {row2} of " in r.stdout, r
    r = verify(gw, head=head1.upper())
    assert r.returncode == 0 and f"the head is row {row1} of " in r.stdout, r
    # rolled back to yesterday's copy: a whole chain, but without today's head
    r = verify(gw, yesterday)
    assert r.returncode == 0 and "the chain is whole" in r.stdout, r
    r = verify(gw, yesterday, head=head2)
    assert r.returncode == 65 and f"no row has the head {head2}" in r.stderr, r
    # the last rows deleted: a whole chain, but shorter than the head
    truncated = tampered(gw, "truncated", f"DELETE FROM audit WHERE id >= {row2}")
    r = verify(gw, truncated)
    assert r.returncode == 0 and f"{row2 - 1} rows, the chain is whole" in r.stdout, r
    r = verify(gw, truncated, head=head2)
    assert r.returncode == 65 and f"no row has the head {head2}" in r.stderr, r
    assert f"{row2 - 1} rows" in r.stderr, r
    # a head that is not a hash
    r = verify(gw, head="12345")
    assert r.returncode == 64 and "--head" in r.stderr, r


def test_an_edited_or_deleted_message_is_caught(stack):
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    gw.relay_through(MENTEE, to_mentor,
                     make_mail(MENTEE, to_mentor, "Week 1", "see you on Tuesday"), MENTOR)
    for name, sql in (
            ("raw", "UPDATE message_raw SET raw = CAST(replace(CAST(raw AS TEXT), 'Tuesday',"
                    " 'Friday') AS BLOB) WHERE id = 1"),
            ("body", "UPDATE messages SET body = replace(body, 'Tuesday', 'Friday') WHERE id = 1"),
            ("text", "UPDATE messages SET new_text = 'see you never' WHERE id = 1")):
        r = verify(gw, tampered(gw, name, sql))
        assert r.returncode == 65, (name, r)
        assert "message 1 does not say what the chain committed to (edited)" in r.stderr, (name, r)
    r = verify(gw, tampered(gw, "gone", "PRAGMA foreign_keys = OFF",
                            "DELETE FROM message_raw WHERE id = 1", "DELETE FROM messages WHERE id = 1"))
    assert r.returncode == 65 and "message 1 is gone (deleted)" in r.stderr, r
    r = verify(gw)      # the database itself, untouched
    assert r.returncode == 0 and "1 messages say what the chain committed to" in r.stdout, r
    # erasing is audited: what the message says now is what the chain says
    gw.ctl("erase", "1", "--reason", "asked by the DSL")
    r = verify(gw)
    assert r.returncode == 0 and "1 messages say what the chain committed to" in r.stdout, r


def test_rows_from_before_content_hashes_still_verify(stack):
    """A log written before rows committed to content (no content, the
    old hash) verifies as it did."""
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    gw.relay_through(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "Week 1", "hello"), MENTOR)
    old = tampered(gw, "old")
    con = sqlite3.connect(old)
    prev = "0" * 64
    rows = con.execute("SELECT id, at, event, message, pair, actor, detail FROM audit"
                       " ORDER BY id").fetchall()
    for (i, at, event, message, pair, actor, detail) in rows:
        h = row_hash(prev, i, at, event, message, pair, actor, detail, None)
        con.execute("UPDATE audit SET content = NULL, prev = ?, hash = ? WHERE id = ?", (prev, h, i))
        prev = h
    con.commit()
    con.close()
    r = verify(gw, old)
    assert r.returncode == 0 and f"{len(rows)} rows, the chain is whole" in r.stdout, r
    r = verify(gw, old, head=prev)
    assert r.returncode == 0 and f"the head is row {len(rows)} of {len(rows)}" in r.stdout, r
