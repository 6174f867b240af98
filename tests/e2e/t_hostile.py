"""What strangers can send (issue 19): forged delivery reports, forged
commands and senders, identities in attachment names.  Each test sends the
attack over the real mail stack and checks that nothing was believed."""
import base64
import os
import stat

from harness import RULES_DIR, Gateway, body_text, make_mail, parse
from t_survey import SURVEY, now
from t_understand import COORD, MENTEE, MENTOR, dsn, pair, relay_one

SURVEY_DAY = now(2026, 9, 1, 17)


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
    assert "@mentoring.test (application/pdf" in text and MENTEE not in text, text


AUTHSERV = "mx.mentoring.test"
SAFE = "safe@mentoring.test"
NUMBER = "oh seven seven double oh nine double oh one two three"


def ar(results):
    return f"Authentication-Results: {AUTHSERV}; {results}\r\n"


def authed_gateway(stack, extra=""):
    gw = Gateway(stack, extra=f"authserv_id = {AUTHSERV}\n\n[screening]\nrules = {RULES_DIR}\n"
                              f"\n[safeguarding]\naddresses = {SAFE}\n{extra}")
    to_mentor, to_mentee = pair(gw)
    return gw, to_mentor, to_mentee


def one_pass(stack, gw, sender, to, subject, text, header, env=None):
    stack.send(sender, to, make_mail(sender, to, subject, text, extra=header))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once(env=env)


def test_authentication_results_are_parsed_not_searched(stack):
    """With authserv_id set, a coordinator's decision needs our server to
    vouch for the From domain; each header below once approved a hold."""
    gw, to_mentor, _ = authed_gateway(stack)
    one_pass(stack, gw, MENTEE, to_mentor, "Week 3", f"text me on {NUMBER}",
             ar("dmarc=pass header.from=school.test"))
    assert stack.wait_count(COORD, 1) == 1
    to = parse(stack.messages(COORD)[0])["Reply-To"].addresses[0].addr_spec
    attacks = [ar("spf=fail smtp.mailfrom=x.dkim=pass@evil.test"),
               ar("spf=none (helo=dkim=pass) smtp.helo=x"),
               ar("dkim=pass header.d=evil.test; dmarc=fail header.from=mentoring.test"),
               ar("dkim=pass header.d=mentoring.test; dmarc=fail header.from=mentoring.test"),
               ar("spf=pass smtp.mailfrom=coord@notmentoring.test"),
               "Authentication-Results: evil.test; dkim=pass header.d=mentoring.test\r\n",
               ar("dkim=fail header.d=mentoring.test") + ar("dkim=pass header.d=mentoring.test")]
    for i, header in enumerate(attacks):
        one_pass(stack, gw, COORD, to, f"Re: hold {i}", "approve", header)
        assert gw.sql("SELECT state FROM holds") == [("open",)], header
    refused = gw.sql("SELECT reason FROM messages WHERE kind = 'moderation' ORDER BY id")
    assert len(refused) == len(attacks) and all("not authenticated" in r for (r,) in refused), refused
    stack.wait_queue_empty()
    assert stack.count(COORD) == 1 and stack.count(MENTOR) == 0, "refusals are never answered"
    one_pass(stack, gw, COORD, to, "Re: hold", "approve",
             ar("dkim=pass (good signature) header.d=mentoring.test header.s=sel"))
    assert gw.sql("SELECT state, decided_by FROM holds") == [("approved", COORD)]
    assert stack.wait_count(MENTOR, 1) == 1


def test_every_command_by_mail_meets_one_rule(stack):
    """An escalation ack, an export request and a survey answer from a
    forged sender (our server saw spf, dkim and dmarc fail) do nothing."""
    gw, to_mentor, _ = authed_gateway(stack, extra=SURVEY)
    fail = ar("spf=fail smtp.mailfrom=mentoring.test; dkim=fail header.d=mentoring.test;"
              " dmarc=fail header.from=mentoring.test")
    one_pass(stack, gw, MENTEE, to_mentor, "sorry", "I don't see the point anymore.",
             ar("dmarc=pass header.from=school.test"), SURVEY_DAY)
    alert = [m for m in map(parse, stack.messages(SAFE)) if "URGENT" in str(m["Subject"])]
    assert len(alert) == 1
    esc = alert[0]["Reply-To"].addresses[0].addr_spec
    one_pass(stack, gw, SAFE, esc, "Re: URGENT", "ack", fail, SURVEY_DAY)
    assert gw.sql("SELECT acked FROM escalations") == [(None,)], "a forged ack stops nothing"
    before = stack.count(SAFE)
    one_pass(stack, gw, SAFE, "relay+audit@mentoring.test", "export", "export 1", fail, SURVEY_DAY)
    stack.wait_queue_empty()
    assert stack.count(SAFE) == before, "a forged export request is not answered"
    # the mentee's survey token has leaked; a forger answers as the mentee
    token = gw.sql("SELECT token FROM survey_invites i JOIN participants p ON p.id = i.participant_id"
                   " WHERE p.email = ?", MENTEE)[0][0]
    one_pass(stack, gw, MENTEE, f"relay+survey-{token}@mentoring.test", "Re: survey", "1 1 1 1",
             ar("spf=fail smtp.mailfrom=evil.test; dmarc=fail header.from=school.test"), SURVEY_DAY)
    assert gw.sql("SELECT count(*) FROM survey_answers") == [(0,)]
    # the real mentee's answer with a disclosure in it reaches people at once
    one_pass(stack, gw, MENTEE, f"relay+survey-{token}@mentoring.test", "Re: survey",
             "4 4 4 4\r\nI want to kill myself", ar("dmarc=pass header.from=school.test"), SURVEY_DAY)
    assert gw.sql("SELECT count(*) FROM escalations") == [(2,)]
    assert "in a survey reply" in gw.sql("SELECT reason FROM messages ORDER BY id DESC LIMIT 1")[0][0]
    kinds = gw.sql("SELECT kind, reason FROM messages WHERE reason LIKE '%not authenticated%'"
                   " ORDER BY id")
    assert [k for k, _ in kinds] == ["escalation", "export", "survey"], kinds
    # the real staff member's ack counts
    one_pass(stack, gw, SAFE, esc, "Re: URGENT", "ack", ar("dmarc=pass header.from=mentoring.test"),
             SURVEY_DAY)
    assert gw.sql("SELECT acked_by FROM escalations ORDER BY id") == [(SAFE,), (None,)]


def test_an_unauthenticated_participant_is_held_as_a_possible_spoof(stack):
    gw, to_mentor, _ = authed_gateway(stack)
    # a stranger who knows the pair's masked address forges the mentee's From
    one_pass(stack, gw, MENTEE, to_mentor, "forged", "hi Sam, it's Alex", "")
    one_pass(stack, gw, MENTEE, to_mentor, "real", "hi Sam", ar("spf=pass smtp.mailfrom=school.test"))
    got = dict(gw.sql("SELECT subject, state FROM messages"))
    assert got == {"forged": "held", "real": "relayed"}, got
    assert "not authenticated" in gw.sql("SELECT reason FROM messages WHERE subject = 'forged'")[0][0]
    # a programme whose participants' domains publish nothing may opt out
    gw.edit(f"authserv_id = {AUTHSERV}\n", f"authserv_id = {AUTHSERV}\nhold_unauthenticated = no\n")
    one_pass(stack, gw, MENTEE, to_mentor, "unsigned", "hello again", "")
    one_pass(stack, gw, MENTEE, to_mentor, "failed", "hello again", ar("dmarc=fail header.from=school.test"))
    got = dict(gw.sql("SELECT subject, state FROM messages"))
    assert got["unsigned"] == "relayed" and got["failed"] == "held", got
    # held for another reason, a disclosure is still screened and escalated
    one_pass(stack, gw, MENTEE, to_mentor, "spoofed risk", "I want to kill myself",
             ar("dmarc=fail header.from=school.test"))
    r = gw.sql("SELECT reason FROM messages WHERE subject = 'spoofed risk'")[0][0]
    assert r.startswith("possible spoof") and "screening (escalate): risk" in r, r
    assert gw.sql("SELECT count(*) FROM escalations") == [(1,)]
    # and so is one whose subject alone reads like an out-of-office
    one_pass(stack, gw, MENTEE, to_mentor, "Out of office", "I want to kill myself",
             ar("dmarc=pass header.from=school.test"))
    r = gw.sql("SELECT state, reason FROM messages WHERE subject = 'Out of office'")[0]
    assert r[0] == "held" and "risk" in r[1], r
    assert gw.sql("SELECT count(*) FROM escalations") == [(2,)]


def test_without_authentication_results_a_decision_is_confirmed_by_mail(stack):
    """No authserv_id: a forged coordinator decision (the hold mail's token
    has leaked) does nothing until the real coordinator confirms it from
    their own mailbox; a forged confirmation does nothing either."""
    gw = Gateway(stack, extra=f"\n[screening]\nrules = {RULES_DIR}\n")
    to_mentor, _ = pair(gw)
    one_pass(stack, gw, MENTEE, to_mentor, "Week 3", f"text me on {NUMBER}", "")
    assert stack.wait_count(COORD, 1) == 1
    to = parse(stack.messages(COORD)[0])["Reply-To"].addresses[0].addr_spec
    # a forged decision about no hold asks nobody to confirm anything
    one_pass(stack, gw, COORD, "relay+mod-nosuchhold@mentoring.test", "Re: hold", "approve", "")
    assert gw.sql("SELECT count(*) FROM confirmations") == [(0,)]
    stack.wait_queue_empty()
    helps = stack.count(COORD) - 1      # (the "no hold we know of" answer, if any)
    one_pass(stack, gw, COORD, to, "Re: hold", "approve", "")     # the forger, as COORD
    assert gw.sql("SELECT state FROM holds") == [("open",)]
    assert stack.wait_count(COORD, 2 + helps) == 2 + helps
    req = parse(stack.messages(COORD)[-1])
    assert str(req["Subject"]) == 'Please confirm: approve on hold 1 ("Week 3")', req["Subject"]
    assert req["Auto-Submitted"] == "auto-generated"
    confirm = req["Reply-To"].addresses[0].addr_spec
    # guessing the confirmation address, or answering it as someone else, or without YES
    token = confirm.split("+confirm-")[1].split("@")[0]
    guess = f"relay+confirm-{'a' * len(token)}@mentoring.test"
    one_pass(stack, gw, COORD, guess, "Re: confirm", "YES", "")
    one_pass(stack, gw, "mallory@school.test", confirm, "Re: confirm", "YES", "")
    one_pass(stack, gw, COORD, confirm, "Re: confirm", "what is this?", "")
    assert gw.sql("SELECT state FROM holds") == [("open",)]
    refused = [r for (r,) in gw.sql("SELECT reason FROM messages WHERE kind = 'confirmation'")]
    assert len(refused) == 3 and all(r.startswith("confirmation refused") for r in refused), refused
    stack.wait_queue_empty()
    assert stack.count(MENTOR) == 0 and stack.count(COORD) == 2 + helps, "refusals are never answered"
    # the coordinator, who did approve, says so
    one_pass(stack, gw, COORD, confirm, "Re: confirm", "Yes.", "")
    assert gw.sql("SELECT state, decided_by FROM holds") == [("approved", COORD)]
    assert stack.wait_count(MENTOR, 1) == 1
    # single use
    one_pass(stack, gw, COORD, confirm, "Re: confirm", "YES", "")
    assert "already confirmed" in gw.sql("SELECT reason FROM messages ORDER BY id DESC LIMIT 1")[0][0]
    assert stack.count(MENTOR) == 1


def test_a_participant_writing_to_the_programme_is_screened_escalated_and_closable(stack):
    gw = Gateway(stack, extra=f"\n[screening]\nrules = {RULES_DIR}\n"
                              f"\n[safeguarding]\naddresses = {SAFE}\n")
    pair(gw)
    one_pass(stack, gw, MENTEE, "relay@mentoring.test", "help", "I feel like I want to kill myself", "")
    row = gw.sql("SELECT m.state, m.reason, p.email, m.pair_id FROM messages m"
                 " JOIN participants p ON p.id = m.author_id")
    assert len(row) == 1 and row[0][0] == "held" and row[0][2] == MENTEE and row[0][3] == 1, row
    assert row[0][1].startswith("screening (escalate): risk"), row
    assert gw.sql("SELECT count(*) FROM escalations") == [(1,)]
    assert any("URGENT" in str(parse(m)["Subject"]) for m in stack.messages(SAFE))
    assert "kill myself" in gw.ctl("export", "1", "--format", "txt").stdout, "in the pair's export"
    r = gw.ctl("hold", "approve", "1", check=False)
    assert r.returncode != 0 and "close the hold instead" in r.stderr, r
    # a coordinator closes it by reply: nothing is sent to the mentee or the mentor
    assert stack.wait_count(COORD, 1) == 1
    hold = parse(stack.messages(COORD)[0])
    assert "close NOTE" in body_text(hold)
    to = hold["Reply-To"].addresses[0].addr_spec
    one_pass(stack, gw, COORD, to, "Re: held", "close Called the school, she is safe", "")
    assert gw.confirm(COORD)
    assert gw.sql("SELECT state, decided_by, note FROM holds") == \
        [("closed", COORD, "Called the school, she is safe")]
    stack.wait_queue_empty()
    assert stack.count(MENTEE) == 0 and stack.count(MENTOR) == 0
    # a stranger's mail to the programme address is still only held; the shell closes it
    one_pass(stack, gw, "mallory@school.test", "relay@mentoring.test", "hi", "hello", "")
    held = gw.sql("SELECT id FROM holds WHERE state = 'open'")
    assert len(held) == 1
    assert gw.ctl("hold", "close", str(held[0][0])).stdout.strip() == f"hold {held[0][0]}: close"
    assert gw.sql("SELECT count(*) FROM holds WHERE state = 'open'") == [(0,)]


def test_a_long_padded_message_cannot_slip_an_address_past_screening(stack):
    gw = Gateway(stack, extra=f"\n[screening]\nrules = {RULES_DIR}\n")
    to_mentor, _ = pair(gw)
    # base64, so that no server on the way breaks the 600 KB line
    body = base64.encodebytes(("a." * 300000 + " maya.p @ gmail . com\n").encode()).decode()
    stack.send(MENTEE, to_mentor,
               f"From: {MENTEE}\r\nTo: {to_mentor}\r\nSubject: notes\r\nMessage-ID: <pad@school.test>\r\n"
               "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
               "Content-Transfer-Encoding: base64\r\n\r\n" + body.replace("\n", "\r\n"))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once()
    r = gw.sql("SELECT state, reason FROM messages")
    assert r[0][0] == "held" and ("contact-email" in r[0][1] or "could not finish" in r[0][1]), r
    stack.wait_queue_empty()
    assert stack.count(MENTOR) == 0


FORMS = {   # the mentee's own address, as people and programs disguise it
    "split": "alex@\r\nschool.test",
    "fullwidth": "\uff41\uff4c\uff45\uff58\uff20\uff53\uff43\uff48\uff4f\uff4f\uff4c\uff0e\uff54\uff45\uff53\uff54",
    "mailto": "<mailto:alex%40school.test>",
    "tag": "alex+mentoring@school.test",
    "zero-width": "al\u200bex@scho\u200dol.test",
    "quoted": "\"alex\"@school.test",
    "mathematical": "\U0001d41a\U0001d425\U0001d41e\U0001d431@school.test",
}


def test_masking_and_screening_see_one_normalised_text(stack):
    gw = Gateway(stack)
    to_mentor, _ = pair(gw)
    for name, form in FORMS.items():
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, name, f"you can reach me at {form} ok"))
    stack.wait_count("relay@mentoring.test", len(FORMS))
    gw.once()
    assert stack.wait_count(MENTOR, len(FORMS)) == len(FORMS)
    for raw in stack.messages(MENTOR):
        msg = parse(raw)
        text = body_text(msg)
        form = FORMS[str(msg["Subject"])]
        assert form.replace("\r\n", "\n") not in text and "relay+" in text, (msg["Subject"], text)
        assert "school" not in text and "\uff53\uff43\uff48" not in text, (msg["Subject"], text)
    # with screening on, none of them passes unseen
    gw2 = Gateway(stack, "gw2", extra=f"\n[screening]\nrules = {RULES_DIR}\n")
    to_mentor, _ = pair(gw2)
    for name, form in FORMS.items():
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, name, f"you can reach me at {form} ok"))
    stack.wait_count("relay@mentoring.test", len(FORMS))
    gw2.once()
    got = dict(gw2.sql("SELECT subject, state FROM messages"))
    assert got == {name: "held" for name in FORMS}, got


def test_nothing_we_send_repeats_without_bound(stack):
    gw = Gateway(stack, extra=f"\n[screening]\nrules = {RULES_DIR}\n")
    to_mentor, _ = pair(gw)
    # a flood of held messages: the first few mailed one by one, the rest in one summary
    for i in range(12):
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, f"flood {i}", f"text me on {NUMBER} ({i})"))
    stack.wait_count("relay@mentoring.test", 12)
    gw.once()
    assert gw.sql("SELECT count(*), sum(batched) FROM holds") == [(12, 12 - 3)]
    assert stack.wait_count(COORD, 4) == 4
    subjects = [str(parse(m)["Subject"]) for m in stack.messages(COORD)]
    summary = [s for s in subjects if s.startswith("Reminder: ")]
    assert summary == ["Reminder: 9 held messages waiting for a decision"], subjects
    gw.once()
    stack.wait_queue_empty()
    assert stack.count(COORD) == 4, "one summary a period"
    # a naive auto-responder at a coordinator's address (no Auto-Submitted,
    # a Re: subject) answering our help: one answer, not one a round
    to = parse([m for m in stack.messages(COORD) if b"Reminder" not in m][0])["Reply-To"].addresses[0].addr_spec
    for _ in range(6):
        one_pass(stack, gw, COORD, to, "Re: held", "Thank you for your message, I will reply soon.", "")
    stack.wait_queue_empty()
    helps = [m for m in stack.messages(COORD) if b"was not understood" in m]
    assert len(helps) == 1, len(helps)
    # different texts: at most a handful of answers a day
    for i in range(8):
        one_pass(stack, gw, COORD, to, "Re: held", f"hmm {i}?", "")
    stack.wait_queue_empty()
    helps = [m for m in stack.messages(COORD) if b"was not understood" in m]
    assert len(helps) == 5, len(helps)
