"""What strangers can send (issue 19): forged delivery reports, forged
commands and senders, identities in attachment names.  Each test sends the
attack over the real mail stack and checks that nothing was believed."""
import os
import stat

from harness import RULES_DIR, Gateway, body_text, parse
from t_understand import COORD, MENTEE, MENTOR, dsn, pair, relay_one


def test_a_forged_bounce_pauses_nobody(stack):
    gw = Gateway(stack)
    to_mentor, to_mentee = pair(gw)
    row, verp = relay_one(gw, stack)
    mac = verp.split("@")[0].rsplit("-", 1)[1]
    wrong = "0" * len(mac) if mac != "0" * len(mac) else "1" * len(mac)
    forged = ["relay@mentoring.test", to_mentor, to_mentee,
              f"relay+bounce-{row}@mentoring.test",                 # the old, guessable form
              f"relay+bounce-{row}-{wrong}@mentoring.test",         # a guessed MAC
              f"relay+bounce-{row + 1}-{mac}@mentoring.test"]       # another row, this MAC
    for to in forged:
        stack.send("", to, dsn(to, MENTEE))
    # our real return address, but the report names someone we did not write to
    stack.send("", verp, dsn(verp, MENTEE))
    stack.wait_count("relay@mentoring.test", len(forged) + 1)
    gw.once()
    assert gw.sql("SELECT count(*) FROM participants WHERE paused IS NOT NULL") == [(0,)]
    assert gw.sql("SELECT state, kind, count(*) FROM messages WHERE kind = 'bounce'"
                  " GROUP BY state, kind") == [("ignored", "bounce", len(forged) + 1)]
    assert gw.sql("SELECT count(*), sum(verified) FROM bounces") == [(len(forged) + 1, 0)]
    listed = gw.ctl("bounces").stdout
    assert listed.count("unverified permanent") == len(forged) + 1, listed
    # never answered: nobody was told anything
    stack.wait_queue_empty()
    assert stack.count(COORD) == 0 and stack.count(MENTEE) == 0 and stack.count(MENTOR) == 1
    # the genuine report still counts
    stack.send("", verp, dsn(verp, MENTOR))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    assert gw.sql("SELECT email FROM participants WHERE paused IS NOT NULL") == [(MENTOR,)]
    assert gw.sql("SELECT count(*) FROM bounces WHERE verified AND outbox_id = ?", row) == [(1,)]


def test_the_verp_key_is_per_database_and_0600(stack):
    a, b = Gateway(stack, "a"), Gateway(stack, "b")
    for gw in (a, b):
        gw.ctl("cohort", "add", "W1", "--start", "2026-09-01", "--weeks", "10")
    ka, kb = a.sql("SELECT value FROM secrets"), b.sql("SELECT value FROM secrets")
    assert len(ka) == 1 and len(kb) == 1 and ka != kb and len(ka[0][0]) >= 32
    assert stat.S_IMODE(os.stat(a.db).st_mode) == 0o600


def test_an_address_in_an_attachment_name_is_screened_and_masked(stack):
    gw = Gateway(stack, extra=f"\n[moderation]\nmentee_attachments = note\n"
                              f"\n[screening]\nrules = {RULES_DIR}\n")
    to_mentor, _ = pair(gw)
    name = f"CV Alex Smith {MENTEE}.pdf"
    raw = (f"From: {MENTEE}\r\nTo: {to_mentor}\r\nSubject: My CV\r\nMessage-ID: <cv.2@school.test>\r\n"
           "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
           "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
           "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHere is my CV, what do you think?\r\n"
           "--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
           f"Content-Disposition: attachment; filename=\"{name}\"\r\n\r\n"
           "JVBERi0xLjQKJcfsj6IK\r\n--b--\r\n")
    stack.send(MENTEE, to_mentor, raw)
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    # screening read the name: held, not relayed
    r = gw.sql("SELECT state, reason FROM messages")
    assert r[0][0] == "held" and "contact-email" in r[0][1], r
    assert gw.sql("SELECT count(*) FROM flags WHERE excerpt LIKE ?", f"%{MENTEE}%") == [(1,)]
    assert stack.count(MENTOR) == 0
    # a coordinator lets it through: the note names the file, address masked
    gw.ctl("hold", "approve", "1")
    gw.once()
    assert stack.wait_count(MENTOR, 1) == 1
    text = body_text(parse(stack.messages(MENTOR)[0]))
    assert "[Not passed on by the programme: CV Alex Smith relay+" in text, text
    assert ".pdf (application/pdf" in text and MENTEE not in text, text
