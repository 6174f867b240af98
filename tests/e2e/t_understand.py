"""Understanding messages end to end: transcripts keep the new text,
conversations are threaded, bounces pause relay and tell people, automatic
mail is recorded and never relayed or answered."""
import os

from harness import Gateway, body_text, make_mail, parse

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"
COORD = "coord@mentoring.test"


def dsn(to, rcpt, action="failed", status="5.1.1", subject="Undelivered Mail Returned to Sender"):
    """A delivery status notification as a remote Postfix writes it."""
    return (f"From: MAILER-DAEMON@mx.nhs.test (Mail Delivery System)\r\nTo: {to}\r\n"
            f"Subject: {subject}\r\nAuto-Submitted: auto-replied\r\n"
            f"Message-ID: <dsn.{os.getpid()}.{status}@mx.nhs.test>\r\n"
            "Date: Sun, 22 Nov 2026 10:05:00 +0000\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/report; report-type=delivery-status; boundary=\"R\"\r\n\r\n"
            "--R\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host mx.nhs.test.\r\n\r\n"
            "--R\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.nhs.test\r\n\r\n"
            f"Final-Recipient: rfc822; {rcpt}\r\nAction: {action}\r\nStatus: {status}\r\n\r\n"
            "--R\r\nContent-Type: text/rfc822-headers\r\n\r\nSubject: whatever\r\n\r\n--R--\r\n")


def relay_one(gw, stack, subject="Week 1"):
    """The mentee writes to the mentor; returns the outbox row id and the
    return address (VERP) the mentor's server saw."""
    to_mentor = gw.tokens["to_mentor"]
    got = gw.relay_through(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, subject, "Hello Sam"),
                           MENTOR)
    row = gw.sql("SELECT max(id) FROM outbox WHERE kind = 'relay'")[0][0]
    verp = parse(got)["Return-Path"].strip("<> ")
    assert verp.startswith(f"relay+bounce-{row}-") and verp.endswith("@mentoring.test"), verp
    return row, verp


def pair(gw):
    to_mentor, to_mentee = gw.setup_pair()
    gw.tokens = {"to_mentor": to_mentor, "to_mentee": to_mentee}
    return to_mentor, to_mentee


def test_transcript_new_text_and_conversations(stack):
    gw = Gateway(stack)
    to_mentor, to_mentee = pair(gw)
    first = gw.relay_through(MENTEE, to_mentor, make_mail(
        MENTEE, to_mentor, "Which clips?", "I liked the nurse interview best.",
        msgid="<c1@school.test>"), MENTOR)
    relayed_id = parse(first)["Message-ID"]
    reply = make_mail(MENTOR, to_mentee, "Re: Which clips?",
                      "Me too - the night shift part.\r\n\r\n"
                      f"On Sun, 22 Nov 2026 at 10:00, Alex <{to_mentee}> wrote:\r\n"
                      "> I liked the nurse interview best.\r\n\r\n-- \r\nSam Jones\r\nStaff Nurse",
                      msgid="<c2@nhs.test>",
                      extra=f"In-Reply-To: {relayed_id}\r\nReferences: {relayed_id}\r\n")
    got = gw.relay_through(MENTOR, to_mentee, reply, MENTEE)
    # the relayed copy keeps what the author wrote
    assert "> I liked the nurse interview best." in body_text(parse(got))
    # a new subject starts a conversation; a bare "Re:" of the first joins it by topic
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "Careers fair", "Are you going?",
                                            msgid="<c3@school.test>"))
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "RE: [mentoring] Which clips?",
                                            "Also the paramedic one.", msgid="<c4@school.test>"))
    stack.wait_count("relay@mentoring.test", 2)
    gw.once()
    rows = gw.sql("SELECT message_id, thread_id, new_text, kind, topic FROM messages ORDER BY id")
    ids = {r[0]: r for r in rows}
    assert ids["c2@nhs.test"][1] == ids["c1@school.test"][1], "reply joins by In-Reply-To"
    assert ids["c4@school.test"][1] == ids["c1@school.test"][1], "Re: + [tag] joins by topic"
    assert ids["c3@school.test"][1] != ids["c1@school.test"][1], "a new topic is its own thread"
    assert ids["c2@nhs.test"][2].strip() == "Me too - the night shift part.", ids["c2@nhs.test"][2]
    assert ids["c4@school.test"][4] == "which clips?"
    assert all(r[3] == "message" for r in rows)
    out = gw.ctl("thread", "1").stdout
    assert out.count("=== conversation") == 2, out
    conv1, conv2 = out.split("=== conversation 2")
    assert "night shift" in conv1 and "paramedic" in conv1 and "Careers fair" in conv2, out
    assert "Staff Nurse" not in out and "> I liked" not in out, "transcript shows new text only"


def test_bounce_to_verp_pauses_relay_and_tells_people(stack):
    gw = Gateway(stack)
    to_mentor, to_mentee = pair(gw)
    row, verp = relay_one(gw, stack)
    # a transient report only gets recorded
    stack.send("", verp, dsn(verp, MENTOR, "delayed", "4.4.1", "Delayed Mail (still being retried)"))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    assert gw.sql("SELECT rcpt, permanent, outbox_id FROM bounces") == [(MENTOR, 0, row)]
    assert gw.sql("SELECT paused FROM participants WHERE email = ?", MENTOR) == [(None,)]
    # a permanent one pauses the mentor and tells the coordinator and the mentee
    stack.send("", verp, dsn(verp, MENTOR))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    assert gw.sql("SELECT count(*) FROM bounces WHERE permanent = 1 AND outbox_id = ? AND verified",
                  row) == [(1,)]
    assert gw.sql("SELECT paused IS NOT NULL FROM participants WHERE email = ?", MENTOR) == [(1,)]
    assert gw.sql("SELECT state, kind FROM messages WHERE token LIKE 'bounce-%'") == \
        [("ignored", "bounce"), ("ignored", "bounce")]
    assert stack.wait_count(COORD, 1) == 1
    note = parse(stack.messages(COORD)[0])
    assert note["Auto-Submitted"] == "auto-generated"
    assert "mentorctl resume sam@nhs.test" in body_text(note)
    assert stack.wait_count(MENTEE, 1) == 1
    kind = parse(stack.messages(MENTEE)[0])
    assert kind["Auto-Submitted"] == "auto-generated"
    assert "not getting through" in str(kind["Subject"])
    assert MENTOR not in body_text(kind), "the partner never sees the real address"
    # while paused, the mentee's next message is held, not sent
    stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "Week 2", "Are you there?"))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    held = gw.sql("SELECT state, reason FROM messages WHERE subject = 'Week 2'")
    assert held[0][0] == "held" and "paused" in held[0][1], held
    assert stack.count(MENTOR) == 1
    # and one held for another reason first (a mentee's attachment)
    cv = (f"From: {MENTEE}\r\nTo: {to_mentor}\r\nSubject: Week 3\r\nMessage-ID: <w3@school.test>\r\n"
          "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
          "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
          "my CV\r\n--b\r\nContent-Type: application/pdf\r\n"
          "Content-Disposition: attachment; filename=cv.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
          "JVBERi0xLjQK\r\n--b--\r\n")
    stack.send(MENTEE, to_mentor, cv)
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    held = gw.sql("SELECT state, reason FROM messages WHERE subject = 'Week 3'")
    assert held[0][0] == "held" and "attachments" in held[0][1], held
    # a coordinator fixes the address and resumes relay; what was held only
    # for the pause goes with it, approved in the coordinator's name
    out = gw.ctl("resume", MENTOR).stdout
    assert "resumed" in out and "1 held message released" in out, out
    assert gw.sql("SELECT paused FROM participants WHERE email = ?", MENTOR) == [(None,)]
    assert gw.sql("SELECT h.state, h.decided_by LIKE 'shell:%' FROM holds h"
                  " JOIN messages m ON m.id = h.message WHERE m.subject = 'Week 2'") == [("approved", 1)]
    assert gw.sql("SELECT state FROM messages WHERE subject = 'Week 2'") == [("relayed",)]
    gw.once()
    assert stack.wait_count(MENTOR, 2) == 2
    assert "Week 2" in [str(parse(m)["Subject"]) for m in stack.messages(MENTOR)]
    assert "0 held messages released" in gw.ctl("resume", MENTOR).stdout     # nothing twice
    assert gw.sql("SELECT h.state FROM holds h JOIN messages m ON m.id = h.message"
                  " WHERE m.subject = 'Week 3'") == [("open",)], "held for its own reason"
    assert gw.ctl("resume", "nobody@nowhere.test", check=False).returncode == 66
    assert "permanent" in gw.ctl("bounces").stdout


def test_smtp_refusal_pauses_the_participant(stack):
    gw = Gateway(stack)
    pair(gw)
    csv = os.path.join(gw.dir, "ghost.csv")
    with open(csv, "w") as f:
        f.write("role,name,email,cohort,segment\nmentor,Gus Ghost,ghost@nhs.test,W1,nhs\n")
    gw.ctl("import", csv)
    out = gw.ctl("pair", "jo@school.test", "ghost@nhs.test").stdout
    to_ghost = [l.split()[-1] for l in out.splitlines() if l.strip().startswith("mentee")][0]
    stack.send("jo@school.test", to_ghost, make_mail("jo@school.test", to_ghost, "Hi", "Hello"))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    # Postfix refused the unknown mailbox at RCPT: the row failed, Gus is paused
    assert gw.sql("SELECT state FROM outbox WHERE rcpt = 'ghost@nhs.test'") == [("failed",)]
    assert gw.sql("SELECT rcpt, permanent FROM bounces") == [("ghost@nhs.test", 1)]
    assert gw.sql("SELECT paused IS NOT NULL FROM participants WHERE email = 'ghost@nhs.test'") == [(1,)]
    assert stack.wait_count(COORD, 1) == 1
    assert stack.wait_count("jo@school.test", 1) == 1


def test_unreadable_report_is_held(stack):
    gw = Gateway(stack)
    pair(gw)
    row, verp = relay_one(gw, stack)
    stack.send("", verp, f"From: postmaster@far.test\r\nTo: {verp}\r\nSubject: ???\r\n\r\nxq zz 17\r\n")
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    r = gw.sql("SELECT state, kind, reason FROM messages WHERE token = ?", verp.split("+")[1].split("@")[0])
    assert r[0][0] == "held" and r[0][1] == "bounce" and f"outbox {row}" in r[0][2], r
    assert gw.sql("SELECT paused FROM participants WHERE email = ?", MENTOR) == [(None,)]


def test_automatic_mail_is_recorded_never_relayed(stack):
    gw = Gateway(stack)
    to_mentor, to_mentee = pair(gw)
    cases = [
        ("Out of Office: Week 1", "Auto-Submitted: auto-replied\r\n", "autoreply"),
        ("Abwesenheitsnotiz", "", "autoreply"),
        ("Re: Week 1", "X-Autoreply: yes\r\n", "autoreply"),
        ("Re: Week 1", "Precedence: junk\r\n", "autoreply"),
    ]
    # first one real relayed copy, whose Message-ID will come back
    copy = parse(gw.relay_through(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "Week 1", "hi"),
                                  MENTOR))
    for subject, extra, _ in cases:
        stack.send(MENTOR, to_mentee, make_mail(MENTOR, to_mentee, subject, "I am away.", extra=extra))
    # our own relayed copy coming back in (a forwarding loop)
    stack.send(MENTOR, to_mentee, make_mail(MENTOR, to_mentee, "Re: loop", "echo",
                                            msgid=copy["Message-ID"]))
    # another message from our domain is not a loop by its domain alone
    stack.send(MENTOR, to_mentee, make_mail(MENTOR, to_mentee, "Re: Week 1", "a real reply",
                                            msgid="<abc.5@mentoring.test>"))
    stack.wait_count("relay@mentoring.test", len(cases) + 2)
    gw.once()
    kinds = sorted(k for (k,) in gw.sql("SELECT kind FROM messages WHERE state = 'ignored'"))
    assert kinds == ["autoreply"] * 4 + ["loop"], kinds
    assert gw.sql("SELECT DISTINCT pair_id FROM messages") == [(1,)], "recorded against the pair"
    assert gw.sql("SELECT count(*) FROM outbox") == [(2,)], "nothing answered: the two real ones relayed"
    assert stack.wait_count(MENTEE, 1) == 1


def test_daily_cap_holds_ping_pong(stack):
    gw = Gateway(stack, extra="\n[programme]\npair_daily_cap = 2\n")
    to_mentor, _ = pair(gw)
    for i in range(3):
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, f"n{i}", "hello"))
    stack.wait_count("relay@mentoring.test", 3)
    gw.once()
    states = gw.sql("SELECT subject, state FROM messages ORDER BY id")
    assert [s for _, s in states] == ["relayed", "relayed", "held"], states
    assert "daily cap" in gw.sql("SELECT reason FROM messages WHERE state = 'held'")[0][0]


def attachment_mail(to_mentor):
    return (f"From: {MENTEE}\r\nTo: {to_mentor}\r\nSubject: My CV\r\nMessage-ID: <att.1@school.test>\r\n"
            "Date: Sun, 22 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
            "Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n"
            "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHere is my CV.\r\n"
            "--b\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
            f"Content-Disposition: attachment; filename*=UTF-8''cv%20{MENTEE}%202026.pdf\r\n\r\n"
            "JVBERi0xLjQKJcfsj6IK\r\n--b--\r\n")


def test_mentee_attachment_is_held_by_default_and_released_with_a_note(stack):
    gw = Gateway(stack)
    to_mentor, _ = pair(gw)
    stack.send(MENTEE, to_mentor, attachment_mail(to_mentor))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    assert gw.sql("SELECT state, reason FROM messages") == [("held", "attachments (1) wait for a coordinator")]
    gw.ctl("hold", "approve", "1")
    gw.once()
    assert stack.wait_count(MENTOR, 1) == 1
    assert "[Not passed on by the programme: cv " in body_text(parse(stack.messages(MENTOR)[0]))


def test_attachment_is_named_not_dropped_silently(stack):
    gw = Gateway(stack, extra="\n[moderation]\nmentee_attachments = note\n")
    to_mentor, _ = pair(gw)
    raw = attachment_mail(to_mentor)
    got = gw.relay_through(MENTEE, to_mentor, raw, MENTOR)
    text = body_text(parse(got))
    assert "Here is my CV." in text
    assert "[Not passed on by the programme: cv " in text and "(application/pdf, 15 bytes)" in text, text
    assert MENTEE not in text, "an address in a file name is masked like any other"
    assert gw.sql("SELECT attachments FROM messages") == [(f"cv {MENTEE} 2026.pdf\tapplication/pdf\t15\n",)]
    out = gw.ctl("thread", "1").stdout
    assert f"[attachment: cv {MENTEE} 2026.pdf (application/pdf, 15 bytes)]" in out, out
