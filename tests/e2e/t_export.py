"""Exports: every message of the pair appears once, with flags, decisions,
our copies and the audit rows; txt, mbox and well-formed html; safeguarding
staff can ask by mail."""
import email
import mailbox
import os
import re
import xml.dom.minidom

from harness import Gateway, make_mail, parse

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"
SAFE = "safe@mentoring.test"
RULES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                     "conf", "rules")


def setup(stack):
    gw = Gateway(stack, extra=f"\n[screening]\nrules = {RULES}\n\n[safeguarding]\naddresses = {SAFE}\n")
    to_mentor, to_mentee = gw.setup_pair()
    gw.relay_through(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "Week 1", "hello Sam"), MENTOR)
    stack.send(MENTOR, to_mentee, make_mail(MENTOR, to_mentee, "Re: Week 1", "hello Alex"))
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "Week 2", "add me on snap: alex.s"))
    stack.wait_count("relay@mentoring.test", 2)
    gw.once()
    gw.ctl("hold", "reject", "1", "Please keep to the platform.")
    gw.once()
    return gw


def test_export_formats_hold_every_message_once(stack):
    gw = setup(stack)
    ids = [i for (i,) in gw.sql("SELECT id FROM messages WHERE pair_id = 1 ORDER BY id")]
    assert len(ids) == 3
    txt = gw.ctl("export", "1", "--format", "txt").stdout
    heads = re.findall(r"^=== Message (\d+), received", txt, re.M)
    assert sorted(map(int, heads)) == ids and len(set(heads)) == len(heads), heads
    assert "social" in txt and "Hold 1: rejected" in txt and "Please keep to the platform." in txt
    assert "Sent by us: outbox" in txt and "Original, as received" in txt
    chain = gw.sql("SELECT hash FROM audit WHERE event != 'exported' AND"
                   " (pair = 1 OR message IN (SELECT id FROM messages WHERE pair_id = 1))")
    assert any(e == "sent" for (e,) in gw.sql("SELECT event FROM audit WHERE message = 1")), \
        "sending is audited against the message"
    assert all(h in txt for (h,) in chain), "every audit row of the pair, with its hash"
    assert gw.sql("SELECT count(*) FROM audit WHERE event = 'exported'") == [(1,)]
    assert gw.ctl("audit", "verify").returncode == 0
    path = os.path.join(gw.dir, "pair1.mbox")
    gw.ctl("export", "1", "--format", "mbox", "--output", path)
    box = list(mailbox.mbox(path))
    subjects = [str(m["Subject"]) for m in box]
    for s in ("Week 1", "Re: Week 1", "Week 2"):
        assert subjects.count(s) >= 1, subjects
    assert subjects[-1] == "record of pair 1"
    originals = [m for m in box if m["Message-ID"] and not m["Message-ID"].endswith("@mentoring.test>")]
    assert len(originals) == 3, [m["Message-ID"] for m in box]
    html = gw.ctl("export", "1", "--format", "html").stdout
    assert html.startswith("<!DOCTYPE html>")
    xml.dom.minidom.parseString(html.split("\n", 1)[1])   # well-formed
    assert "<script" not in html
    assert len(re.findall(r"<h2>Message \d+, received", html)) == 3
    assert gw.ctl("export", "9", check=False).returncode == 66


def test_export_by_mail_for_safeguarding_only(stack):
    gw = setup(stack)
    ask = "relay+audit@mentoring.test"
    before = stack.count(SAFE)
    stack.send(SAFE, ask, make_mail(SAFE, ask, "export please", "export 1 html"))
    stack.send("mallory@school.test", ask, make_mail("mallory@school.test", ask, "x", "export 1"))
    stack.wait_count("relay@mentoring.test", 2)
    gw.once()
    assert stack.wait_count(SAFE, before + 1) == before + 1
    reply = [m for m in map(parse, stack.messages(SAFE)) if str(m["Subject"]) == "Your export request"][0]
    parts = [p for p in reply.iter_attachments()]
    assert len(parts) == 1 and parts[0].get_filename() == "pair-1.html"
    assert "Week 2" in parts[0].get_content()
    stack.wait_queue_empty()
    assert stack.count("mallory@school.test") == 0
    kinds = gw.sql("SELECT kind, reason FROM messages WHERE kind = 'export' ORDER BY id")
    assert len(kinds) == 2 and any("refused" in r for _, r in kinds), kinds


def test_an_export_that_cannot_read_everything_fails(stack):
    """Issue 20, 7: a read error part way is an error, not the end of the rows."""
    import sqlite3
    gw = setup(stack)
    con = sqlite3.connect(gw.db)
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    root = con.execute("SELECT rootpage FROM sqlite_schema WHERE name = 'message_raw'").fetchone()[0]
    size = con.execute("PRAGMA page_size").fetchone()[0]
    before = con.execute("SELECT count(*) FROM audit WHERE event = 'exported'").fetchone()[0]
    con.close()
    with open(gw.db, "r+b") as f:       # the raw messages' page: garbage
        f.seek((root - 1) * size)
        f.write(b"\xff" * size)
    r = gw.ctl("export", "1", "--format", "txt", check=False)
    assert r.returncode != 0 and "export of pair 1 failed" in r.stderr, r
    con = sqlite3.connect(gw.db)
    assert con.execute("SELECT count(*) FROM audit WHERE event = 'exported'").fetchone()[0] == before
    con.close()
