"""The relay: round trip, idempotence, holds, SMTP down, crashes."""
import os
import sqlite3
import subprocess

from harness import Gateway, body_text, make_mail, parse

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"


def test_round_trip(stack):
    gw = Gateway(stack)
    to_mentor, to_mentee = gw.setup_pair()
    raw = make_mail(f"Alex Smith <{MENTEE}>", to_mentor, "Hello from Alex",
                    f"Hi Sam,\r\nmy school email is {MENTEE} if you need it.\r\nAlex",
                    msgid="<first.1@school.test>",
                    extra="User-Agent: SchoolMail 1.0\r\nX-Originating-IP: [10.1.2.3]\r\n")
    got = gw.relay_through(MENTEE, to_mentor, raw, MENTOR)
    msg = parse(got)
    assert msg["From"].addresses[0].addr_spec == to_mentee, msg["From"]
    assert msg["Reply-To"].addresses[0].addr_spec == to_mentee
    assert msg["From"].addresses[0].display_name == "Alex (mentee) via NHS Mentoring"
    assert str(msg["Subject"]) == "Hello from Alex"
    text = body_text(msg)
    assert "my school email is " + to_mentee in text, text
    # nothing of the mentee's identity in any header or the body
    decoded = got.decode("utf-8", "replace") + text
    for leak in (MENTEE, "school.test", "SchoolMail", "10.1.2.3", "first.1"):
        assert leak not in decoded, f"{leak!r} leaked into the relayed copy"
    relayed_id = msg["Message-ID"]
    assert relayed_id.endswith("@mentoring.test>")

    # the mentor replies, quoting; the mentee gets it threaded
    reply = make_mail(f"Sam Jones <{MENTOR}>", to_mentee, "Re: Hello from Alex",
                      "Great to hear from you!\r\n\r\n"
                      f"On Sun, 22 Nov 2026, Alex <{MENTEE}> wrote:\r\n> Hi Sam,\r\n\r\n"
                      f"--\r\nSam Jones, NHS <{MENTOR}>",
                      msgid="<reply.2@nhs.test>",
                      extra=f"In-Reply-To: {relayed_id}\r\nReferences: {relayed_id}\r\n")
    got = gw.relay_through(MENTOR, to_mentee, reply, MENTEE)
    back = parse(got)
    assert back["In-Reply-To"] == "<first.1@school.test>", back["In-Reply-To"]
    assert "<first.1@school.test>" in back["References"]
    assert back["From"].addresses[0].addr_spec == to_mentor
    text = body_text(back)
    assert "Great to hear from you!" in text
    assert f"Alex <{to_mentee}> wrote:" in text, text   # the mentee's own mask
    assert MENTOR not in got.decode("utf-8", "replace") + text
    assert "nhs.test" not in got.decode("utf-8", "replace").split("\r\n\r\n", 1)[0].replace(
        f"To: \"Alex Smith\" <{MENTEE}>", "")
    # handled mail left the watched mailbox
    assert stack.count("relay@mentoring.test") == 0
    assert stack.count("relay@mentoring.test", "Processed") == 2
    # the database and the lock file are private (0600); a WAL, when one is
    # left, inherits the database's mode
    for suffix in ("", ".lock"):
        mode = os.stat(gw.db + suffix).st_mode & 0o777
        assert mode == 0o600, (suffix, oct(mode))
    # the transcript
    out = gw.ctl("thread", "1").stdout
    assert "mentee Alex Smith -> Sam Jones  [relayed]" in out, out
    assert "mentor Sam Jones -> Alex Smith  [relayed]" in out, out
    assert out.index("Hello from Alex") < out.index("Great to hear")


def test_addresses_in_the_text_are_masked(stack):
    """Each partner's address becomes the masked one the reader knows,
    another participant's a placeholder (in any case), a stranger's stays."""
    gw = Gateway(stack)
    to_mentor, to_mentee = gw.setup_pair()
    raw = make_mail(MENTEE, to_mentor, "ask kim@nhs.test too",
                    "Write to me at Alex@School.test, or you at sam@nhs.test.\r\n"
                    "Jo is JO@school.test; my tutor is pat@else.test.\r\n")
    msg = parse(gw.relay_through(MENTEE, to_mentor, raw, MENTOR))
    text = body_text(msg)
    assert f"Write to me at {to_mentee}, or you at {to_mentor}." in text, text
    assert "Jo is [address removed]; my tutor is pat@else.test." in text, text
    assert str(msg["Subject"]) == "ask [address removed] too"


def test_idempotent_runs_and_redelivery(stack):
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    raw = make_mail(MENTEE, to_mentor, "Only once", "Just one copy please.",
                    msgid="<once.1@school.test>")
    stack.send(MENTEE, to_mentor, raw)
    stack.wait_count("relay@mentoring.test", 1)
    for _ in range(3):
        gw.once()
    # the same message delivered again (a client retry, a forwarder's copy)
    stack.send(MENTEE, to_mentor, raw)
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    gw.once()
    assert stack.wait_count(MENTOR, 1) == 1
    assert stack.count(MENTOR) == 1
    assert gw.sql("SELECT count(*) FROM messages") == [(1,)]
    assert gw.sql("SELECT count(*) FROM outbox WHERE state = 'sent'") == [(1,)]
    assert stack.count("relay@mentoring.test", "Processed") == 2


def test_migrations_move_blobs_to_their_tables(stack):
    """A database from before migrations 4 and 5 (the raw message a column
    of messages, the outbound copy one of outbox) keeps every byte of both,
    now in message_raw and outbox_data; migration 7 rewrites the tables'
    constraints in place, the rows untouched."""
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    for i in range(3):
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, f"old {i}", f"body {i}"))
    stack.wait_count("relay@mentoring.test", 3)
    gw.once()
    raws = gw.sql("SELECT id, raw FROM message_raw ORDER BY id")
    datas = gw.sql("SELECT id, data FROM outbox_data ORDER BY id")
    assert len(raws) == 3 and all(b"body" in r[1] for r in raws), raws
    assert len(datas) == 3 and all(b"body" in d[1] for d in datas), datas
    con = sqlite3.connect(gw.db)
    con.executescript("ALTER TABLE messages ADD COLUMN raw BLOB;"
                      "UPDATE messages SET raw = (SELECT raw FROM message_raw r"
                      " WHERE r.id = messages.id);"
                      "DROP TABLE message_raw;"
                      "ALTER TABLE outbox ADD COLUMN data BLOB;"
                      "UPDATE outbox SET data = (SELECT data FROM outbox_data d"
                      " WHERE d.id = outbox.id);"
                      "DROP TABLE outbox_data;"
                      "ALTER TABLE imap_sync DROP COLUMN suspect_uid;"     # (6)
                      "ALTER TABLE imap_sync DROP COLUMN suspect_fails;"
                      "ALTER TABLE imap_sync DROP COLUMN suspect_error;"
                      "DROP TABLE secrets;"                                # (8)
                      "ALTER TABLE bounces DROP COLUMN verified;"
                      "DROP TABLE confirmations;"                          # (9)
                      "ALTER TABLE holds DROP COLUMN batched;"             # (11)
                      "ALTER TABLE audit DROP COLUMN content;"             # (12)
                      "ALTER TABLE participants DROP COLUMN first_name;"   # (13)
                      "DROP INDEX outbox_msgid;"                           # (14)
                      "DROP TABLE spotchecks;"                             # (15)
                      "ALTER TABLE participants DROP COLUMN born;"         # (16)
                      "DROP TABLE outbox_text;"                            # (17)
                      "PRAGMA user_version = 3;")
    # the constraints as they were before 7
    before = {"messages": [("state = 'received' OR state = 'relayed' OR state = 'held' OR state = 'ignored'",
                            "state IN ('received','relayed','held','ignored')"),
                           ("pair_id INTEGER, author_id INTEGER, recipient_id INTEGER",
                            "pair_id INTEGER REFERENCES pairs(id), author_id INTEGER REFERENCES"
                            " participants(id), recipient_id INTEGER REFERENCES participants(id)")],
              "outbox": [("state = 'queued' OR state = 'sending' OR state = 'sent' OR state = 'failed'",
                          "state IN ('queued','sending','sent','failed')")]}
    con.execute("PRAGMA writable_schema = ON")
    for table, edits in before.items():
        for new, old in edits:
            con.execute("UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE name = ?", (new, old, table))
    con.commit()
    con.close()
    for table, edits in before.items():
        sql = gw.sql("SELECT sql FROM sqlite_schema WHERE name = ?", table)[0][0]
        assert all(old in sql for _, old in edits), sql
    assert "old 2" in gw.ctl("messages").stdout      # opening the store migrates it
    assert gw.sql("PRAGMA user_version") == [(17,)]
    assert len(gw.sql("SELECT value FROM secrets WHERE name = 'verp'")[0][0]) == 52
    for table, edits in before.items():
        sql = gw.sql("SELECT sql FROM sqlite_schema WHERE name = ?", table)[0][0]
        assert all(new in sql and old not in sql for new, old in edits), sql
    assert gw.sql("PRAGMA integrity_check") == [("ok",)]
    assert gw.sql("SELECT count(*) FROM messages WHERE state = 'relayed' AND pair_id IS NOT NULL") == [(3,)]
    assert gw.sql("SELECT id, raw FROM message_raw ORDER BY id") == raws
    assert gw.sql("SELECT id, data FROM outbox_data ORDER BY id") == datas
    assert "raw" not in [c[1] for c in gw.sql("PRAGMA table_info(messages)")]
    assert "data" not in [c[1] for c in gw.sql("PRAGMA table_info(outbox)")]
    assert gw.sql("SELECT suspect_uid, suspect_fails FROM imap_sync") == [(0, 0)]


def test_read_ahead_keeps_order_past_its_byte_bound(stack):
    """The reader thread reads ahead at most 2 MB: two ~4.5 MB letters, each
    over it alone, with small ones between them, each wait their turn, and
    all are relayed once, stored in mailbox order, with the highest UID
    recorded."""
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    big = "A long letter.\r\n" + ("y" * 76 + "\r\n") * 58000
    subjects = ["small 1", "big 1", "small 2", "big 2", "small 3"]
    for subj in subjects:
        stack.send(MENTEE, to_mentor,
                   make_mail(MENTEE, to_mentor, subj, big if subj.startswith("big") else "hi"))
    stack.wait_count("relay@mentoring.test", len(subjects))
    gw.once()
    rows = gw.sql("SELECT subject, state, uid FROM messages ORDER BY id")
    assert sorted(r[0] for r in rows) == sorted(subjects), rows    # (Postfix's order)
    assert all(r[1] == "relayed" for r in rows), rows
    assert [r[2] for r in rows] == sorted(r[2] for r in rows), rows
    # the batch's commit records the last UID stored
    assert gw.sql("SELECT last_uid FROM imap_sync") == [(max(r[2] for r in rows),)]
    assert stack.wait_count(MENTOR, len(subjects)) == len(subjects)


def test_uidvalidity_change_creates_no_duplicate(stack):
    gw = Gateway(stack, extra="")
    with open(gw.conf) as f:
        conf = f.read().replace("processed_mailbox = Processed",
                                "mailbox = Relay\nprocessed_mailbox = Processed")
    with open(gw.conf, "w") as f:
        f.write(conf)
    to_mentor, _ = gw.setup_pair()
    raw = make_mail(MENTEE, to_mentor, "Before the reset", "Hello.", msgid="<uv.1@school.test>")
    subprocess.run(["doveadm", "-c", os.path.join(stack.dir, "dovecot.conf"), "mailbox",
                    "create", "-u", "relay@mentoring.test", "Relay"], capture_output=True)
    src = os.path.join(stack.dir, "seed.eml")
    with open(src, "w") as f:
        f.write(raw)

    def seed():
        with open(src, "rb") as f:
            subprocess.run(["doveadm", "-c", os.path.join(stack.dir, "dovecot.conf"), "save",
                            "-u", "relay@mentoring.test", "-m", "Relay"], stdin=f, check=True)
    seed()
    gw.once()
    before = gw.sql("SELECT uidvalidity FROM imap_sync")[0][0]
    # the mailbox is recreated (new UIDVALIDITY) and the same mail appears again
    stack.doveadm("mailbox", "delete", "-u", "relay@mentoring.test", "Relay")
    stack.doveadm("mailbox", "create", "-u", "relay@mentoring.test", "Relay")
    stack.doveadm("mailbox", "update", "-u", "relay@mentoring.test", "--uid-validity",
                  str(before + 1000), "Relay")
    seed()
    gw.once()
    after = gw.sql("SELECT uidvalidity FROM imap_sync")[0][0]
    assert before != after
    assert stack.wait_count(MENTOR, 1) == 1
    assert gw.sql("SELECT count(*) FROM messages") == [(1,)]
    stack.doveadm("mailbox", "delete", "-u", "relay@mentoring.test", "Relay")


def test_unknown_sender_and_token_are_held(stack):
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    # a stranger writes to the mentor's masked address
    stack.send("mallory@school.test", to_mentor,
               make_mail("mallory@school.test", to_mentor, "hi", "let's chat privately"))
    # someone guesses a token
    stack.send(MENTEE, "relay+notatoken123@mentoring.test",
               make_mail(MENTEE, "relay+notatoken123@mentoring.test", "guess", "anyone?"))
    # the partner's own address used from the wrong side
    stack.send(MENTOR, to_mentor, make_mail(MENTOR, to_mentor, "wrong way", "to myself?"))
    stack.wait_count("relay@mentoring.test", 3)
    gw.once()
    held = gw.sql("SELECT from_addr, reason, length(r.raw) FROM messages m"
                  " JOIN message_raw r ON r.id = m.id WHERE state = 'held' ORDER BY m.id")
    assert len(held) == 3, held
    reasons = " | ".join(r[1] for r in held)
    assert "mallory@school.test is not the participant expected" in reasons, reasons
    assert "unknown token notatoken123" in reasons, reasons
    assert "sam@nhs.test is not the participant expected" in reasons, reasons
    assert all(r[2] > 100 for r in held)       # the raw message is kept
    assert gw.sql("SELECT count(*) FROM outbox WHERE kind = 'relay'") == [(0,)]
    # each hold is mailed to the coordinator, nothing to anyone else
    assert gw.sql("SELECT count(*), min(rcpt), max(rcpt) FROM outbox WHERE kind = 'notice'") == \
        [(3, "coord@mentoring.test", "coord@mentoring.test")]
    stack.wait_queue_empty()
    assert stack.count(MENTOR) == 0 and stack.count(MENTEE) == 0
    listing = gw.ctl("messages", "--held").stdout
    assert listing.count("\theld\t") == 3, listing
    assert stack.count("relay@mentoring.test", "Processed") == 3


def test_smtp_down_then_up(stack):
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "While down", "Queued?"))
    stack.wait_count("relay@mentoring.test", 1)
    stack.run("stop-postfix")
    try:
        r = gw.once(check=False)
        assert r.returncode == 75, (r.returncode, r.stderr)    # EX_TEMPFAIL
        assert "warn smtp down" in r.stderr and "Couldn't connect" in r.stderr
        assert gw.sql("SELECT state, attempts FROM outbox") == [("queued", 0)]
        pending = gw.ctl("outbox", "--pending").stdout
        assert "queued" in pending and MENTOR in pending, pending
        r = gw.once(check=False)                             # still down: still queued
        assert r.returncode == 75
        assert gw.sql("SELECT state FROM outbox") == [("queued",)]
    finally:
        stack.run("start-postfix")
    gw.once()
    assert stack.wait_count(MENTOR, 1) == 1
    gw.once()
    assert stack.wait_count(MENTOR, 1) == 1
    assert gw.sql("SELECT state FROM outbox") == [("sent",)]


def test_permanent_failure_tells_coordinators(stack):
    gw = Gateway(stack)
    # a mentor whose address the mail server rejects (550 user unknown)
    csv = os.path.join(gw.dir, "p.csv")
    with open(csv, "w") as f:
        f.write("role,name,email,cohort,segment\nmentee,Alex Smith,alex@school.test,W1,\n"
                "mentor,Gone Away,gone@nhs.test,W1,\n")
    gw.ctl("cohort", "add", "W1", "--start", "2026-09-01", "--weeks", "10")
    gw.ctl("import", csv)
    out = gw.ctl("pair", MENTEE, "gone@nhs.test").stdout
    to_mentor = [l.split()[-1] for l in out.splitlines() if l.strip().startswith("mentee")][0]
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "Hello?", "Anyone there?"))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    rows = gw.sql("SELECT kind, state, last_error FROM outbox ORDER BY id")
    assert rows[0][0] == "relay" and rows[0][1] == "failed" and "550" in rows[0][2], rows
    assert rows[1][:2] == ("notice", "sent"), rows
    assert stack.wait_count("coord@mentoring.test", 1) == 1
    notice = parse(stack.messages("coord@mentoring.test")[0])
    assert notice["Auto-Submitted"] == "auto-generated"
    assert "gone@nhs.test" in body_text(notice)


def test_auto_replies_are_recorded_not_relayed(stack):
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "Out of office", "I am away.",
                                            extra="Auto-Submitted: auto-replied\r\n"))
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "News", "bulk",
                                            extra="Precedence: bulk\r\n"))
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "Real", "a person",
                                            extra="Auto-Submitted: no\r\n"))
    stack.wait_count("relay@mentoring.test", 3)
    gw.once()
    assert dict(gw.sql("SELECT subject, state FROM messages")) == {
        "Out of office": "ignored", "News": "ignored", "Real": "relayed"}
    assert stack.wait_count(MENTOR, 1) == 1
