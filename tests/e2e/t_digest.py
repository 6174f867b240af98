"""Digests and nudges: the week's conversation to each participant (masked,
in order, nothing for a silent pair), one nudge to whoever owes a reply, and
the coordinators' day with holds and silent pairs."""
import datetime
import os
import re
from zoneinfo import ZoneInfo

from harness import Gateway, body_text, make_mail, parse

LONDON = ZoneInfo("Europe/London")
ALEX, SAM, JO, KIM = "alex@school.test", "sam@nhs.test", "jo@school.test", "kim@nhs.test"
COORD = "coord@mentoring.test"


def now(y, m, d, hh, mm=0):
    return {"MENTORGATE_NOW": str(int(datetime.datetime(y, m, d, hh, mm, tzinfo=LONDON).timestamp()))}


def setup(stack):
    gw = Gateway(stack, extra="\n[calendar]\ntimezone = Europe/London\nsend_hour = 16\nquiet_hours = 21-8\n"
                              "\n[digest]\nparticipants = yes\ncoordinators = yes\nnudge_after_days = 7\n"
                              "escalate_after_days = 14\n")
    os.environ.update(now(2026, 8, 20, 12))    # the roster is made before the wave
    try:
        to_sam, to_alex = gw.setup_pair()      # cohort W1: Tuesday 2026-09-01, 10 weeks
        gw.ctl("pair", JO, KIM)
    finally:
        del os.environ["MENTORGATE_NOW"]
    return gw, to_sam, to_alex


def of(stack, user, word):
    return [m for m in map(parse, stack.messages(user)) if word in str(m["Subject"])]


def test_weekly_digest_nudge_and_the_coordinators_day(stack):
    gw, to_sam, to_alex = setup(stack)
    stack.send(ALEX, to_sam, make_mail(ALEX, to_sam, "Week 1", f"Hi Sam! My email is {ALEX} by the way."))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once(env=now(2026, 9, 2, 10))
    stack.send(SAM, to_alex, make_mail(SAM, to_alex, "Re: Week 1", "Hello Alex, lovely to meet you.\r\n\r\n"
                                       "On Wed, Alex wrote:\r\n> Hi Sam!"))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once(env=now(2026, 9, 3, 17))
    gw.once(env=now(2026, 9, 7, 15, 59))       # week 1 ends Monday 7th at 16:00: not yet
    assert of(stack, ALEX, "your conversation") == []
    gw.once(env=now(2026, 9, 7, 16, 1))
    assert stack.wait_count(ALEX, 2) == 2        # Sam's reply and the digest
    digest = body_text(of(stack, ALEX, "Week 1: your conversation")[0])
    assert digest.index("--- You,") < digest.index("--- Sam,"), digest
    assert "Lovely" not in digest and "lovely to meet you" in digest
    assert "> Hi Sam!" not in digest, "the new text only"
    assert ALEX not in digest and "relay+" in digest, "addresses masked as the reader knows them"
    assert len(of(stack, SAM, "Week 1: your conversation")) == 1
    stack.wait_queue_empty()
    assert of(stack, JO, "your conversation") == [] and of(stack, KIM, "your conversation") == []
    # Jo and Kim have said nothing for a week: Jo, the mentee, is nudged, once
    gw.once(env=now(2026, 9, 8, 17))
    gw.once(env=now(2026, 9, 9, 17))
    assert stack.wait_count(JO, 1) == 1
    nudge = parse(stack.messages(JO)[0])
    assert "waiting to hear from you" in str(nudge["Subject"])
    assert nudge["Reply-To"].addresses[0].addr_spec.startswith("relay+")
    stack.wait_queue_empty()
    assert stack.count(JO) == 1 and stack.count(KIM) == 0
    # the coordinators' day: once a day, with the silent pair after 14 days
    gw.once(env=now(2026, 9, 16, 16, 30))
    gw.once(env=now(2026, 9, 16, 18))
    days = of(stack, COORD, "the day in the programme")
    assert len([d for d in days if "20260916" in str(d["Subject"])]) == 1
    text = body_text([d for d in days if "20260916" in str(d["Subject"])][0])
    assert "Pairs silent for 14 days or more:" in text and "Jo Brown / Kim Lee" in text, text
    third = body_text([d for d in days if "20260903" in str(d["Subject"])][0])
    assert "pair 1 (Alex Smith / Sam Jones): 1 relayed, 0 held" in third, third
    assert "silent 27 days" in text


RULES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                     "conf", "rules")
NUMBER = "oh seven seven double oh nine double oh one two three"


def decide(stack, gw, text, answer, env):
    """Alex writes text, screening holds it, the coordinator answers (by
    mail, confirmed) at env's time."""
    before = stack.count(COORD)
    stack.send(ALEX, gw.to_sam, make_mail(ALEX, gw.to_sam, "Week 1", text))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once(env=env)
    assert stack.wait_count(COORD, before + 1) == before + 1
    mail = parse(stack.messages(COORD)[-1])
    to = mail["Reply-To"].addresses[0].addr_spec
    assert to.startswith("relay+mod-"), to
    stack.send(COORD, to, make_mail(COORD, to, "Re: " + str(mail["Subject"]), answer))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once(env=env)
    gw.confirm(COORD, env=env)


def decided_week(stack):
    """Issue 20, 2: in week 1 one of Alex's messages is redacted, one edited,
    one rejected, each holding a phone number."""
    gw = Gateway(stack, extra=f"\n[screening]\nrules = {RULES}\n\n[calendar]\ntimezone = Europe/London\n"
                              "send_hour = 16\n\n[digest]\nparticipants = yes\n")
    os.environ.update(now(2026, 8, 20, 12))
    try:
        gw.to_sam, _ = gw.setup_pair()
    finally:
        del os.environ["MENTORGATE_NOW"]
    decide(stack, gw, f"Great session! text me on {NUMBER} if easier", "redact", now(2026, 9, 2, 10))
    decide(stack, gw, f"Week 1 is fun. call me {NUMBER}",
           "edit\r\nWeek 1 is fun. (A coordinator removed a phone number.)", now(2026, 9, 3, 10))
    decide(stack, gw, f"Secret plan: ring {NUMBER} tonight", "reject not on the programme",
           now(2026, 9, 4, 10))
    assert [s for (s,) in gw.sql("SELECT state FROM holds ORDER BY id")] == ["redacted", "edited", "rejected"]
    assert stack.wait_count(SAM, 2) == 2, "the redacted and the edited copy"
    gw.given = [body_text(parse(m)).strip() for m in stack.messages(SAM)]
    assert "[removed by moderator]" in gw.given[0] and "seven" not in gw.given[0], gw.given
    assert gw.given[1] == "Week 1 is fun. (A coordinator removed a phone number.)", gw.given
    return gw


def test_digest_gives_the_text_as_decided(stack):
    gw = decided_week(stack)
    gw.once(env=now(2026, 9, 7, 16, 1))
    stack.wait_queue_empty()
    for reader in (SAM, ALEX):
        digests = of(stack, reader, "Week 1: your conversation")
        assert len(digests) == 1, reader
        text = body_text(digests[0])
        for given in gw.given:
            assert given in text, (given, text)
        assert "seven" not in text and "call me" not in text, "no original of a changed message"
        assert "Secret plan" not in text and "tonight" not in text, "a rejected message is not there"
        assert len([ln for ln in text.splitlines() if ln.startswith("--- ")]) == 2, text


def test_export_shows_the_text_as_decided_beside_the_original(stack):
    gw = decided_week(stack)
    txt = gw.ctl("export", "1", "--format", "txt").stdout
    msgs = re.split(r"^=== Message \d+, received", txt, flags=re.M)[1:]
    redacted = [m for m in msgs if "Great session!" in m]
    assert len(redacted) == 1
    given = redacted[0].split("--- Text as its recipient was given it ---\n", 1)
    assert len(given) == 2, redacted[0]
    assert f"text me on {NUMBER}" in given[0], "the original is kept for staff"
    assert given[1].startswith(gw.given[0] + "\n"), given[1]
    assert "Hold 1: redacted" in redacted[0]
    edited = [m for m in msgs if "call me" in m][0]
    assert "--- Text as its recipient was given it ---\nWeek 1 is fun. (A coordinator removed a phone" \
        " number.)\n" in edited, edited
    rejected = [m for m in msgs if "Secret plan" in m][0]
    assert "Text as its recipient was given it" not in rejected, "nothing was given"
