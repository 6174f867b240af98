"""The programme calendar: a whole 10-week wave of two pairs, run day by day
with the clock override; exactly the expected prompts arrive, none twice,
none in quiet hours, and the send hour survives the October clock change."""
import datetime
import os
from zoneinfo import ZoneInfo

from harness import Gateway, body_text, parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LONDON = ZoneInfo("Europe/London")
PEOPLE = ("alex@school.test", "jo@school.test", "sam@nhs.test", "kim@nhs.test")


def at(gw, y, m, d, hh, mm=0):
    t = datetime.datetime(y, m, d, hh, mm, tzinfo=LONDON).timestamp()
    gw.once(env={"MENTORGATE_NOW": str(int(t))})


def wave_gateway(stack):
    with open(os.path.join(ROOT, "conf", "schedule-nhs-wave.conf")) as f:
        schedule = f.read().split("[survey")[0]      # the prompts alone (the last test has the rest)
    gw = Gateway(stack, extra=f"\n[programme]\ntemplates = {os.path.join(ROOT, 'templates')}\n\n{schedule}")
    gw.setup_pair()                      # cohort W1 starts Tuesday 2026-09-01, 10 weeks
    gw.ctl("pair", "jo@school.test", "kim@nhs.test")
    return gw


def prompts(stack, user):
    return [parse(raw) for raw in stack.messages(user)]


def test_a_whole_wave(stack):
    gw = wave_gateway(stack)
    # week 3 is due on 2026-09-15 at 16:00: a run in quiet hours the night
    # before the first catch-up sends nothing new
    day = datetime.date(2026, 8, 31)
    while day <= datetime.date(2026, 11, 12):
        if day == datetime.date(2026, 9, 15):
            at(gw, 2026, 9, 15, 15, 59)                  # a minute early: nothing
            n = gw.sql("SELECT count(*) FROM outbox")[0][0]
            at(gw, 2026, 9, 15, 22, 30)                  # due, but quiet hours
            assert gw.sql("SELECT count(*) FROM outbox")[0][0] == n, "nothing in quiet hours"
            at(gw, 2026, 9, 16, 8, 5)                    # quiet hours over: sent
            assert gw.sql("SELECT count(*) FROM outbox")[0][0] == n + 4
        elif day == datetime.date(2026, 10, 27):
            # after the clocks went back: 15:30 GMT is 16:30 summer time,
            # which must not count as 16:00
            n = gw.sql("SELECT count(*) FROM outbox")[0][0]
            at(gw, 2026, 10, 27, 15, 30)
            assert gw.sql("SELECT count(*) FROM outbox")[0][0] == n, "16:00 local, not 16:00 BST"
            at(gw, 2026, 10, 27, 16, 0)
            assert gw.sql("SELECT count(*) FROM outbox")[0][0] == n + 4
        else:
            at(gw, day.year, day.month, day.day, 17)
        day += datetime.timedelta(days=1)
    at(gw, 2026, 11, 12, 17)                             # again: nothing twice
    for user in PEOPLE:
        assert stack.wait_count(user, 10) == 10, user
    # the coordinators: the week-1 note and, after week 10, the end-of-wave report
    assert stack.wait_count("coord@mentoring.test", 2) == 2
    assert sorted(str(m["Subject"]).split(":")[0] for m in prompts(stack, "coord@mentoring.test")) == \
        ["NHS Mentoring, W1", "[NHS Mentoring] end-of-wave report"]
    stack.wait_queue_empty()
    for user in PEOPLE:
        got = prompts(stack, user)
        assert len(got) == 10, (user, len(got))
        subjects = [str(m["Subject"]) for m in got]
        assert len(set(subjects)) == 10, subjects          # none twice
        assert all(m["Auto-Submitted"] == "auto-generated" for m in got)
    alex = prompts(stack, "alex@school.test")
    welcome = [m for m in alex if str(m["Subject"]).startswith("Welcome")][0]
    sam_mask = welcome["Reply-To"].addresses[0].addr_spec
    assert sam_mask.startswith("relay+") and "sam" not in sam_mask
    text = body_text(welcome)
    assert "your mentor, Sam" in text and sam_mask in text and "{{" not in text
    assert "sam@nhs.test" not in text
    sent = gw.sql("SELECT dedupe_key FROM outbox WHERE dedupe_key LIKE 'prompt:%'")
    assert len(sent) == 41 and len(set(sent)) == 41


def test_a_reply_to_a_prompt_reaches_the_partner(stack):
    gw = wave_gateway(stack)
    at(gw, 2026, 9, 1, 17)
    welcome = prompts(stack, "alex@school.test")[0]
    to = welcome["Reply-To"].addresses[0].addr_spec
    stack.send("alex@school.test", to,
               f"From: alex@school.test\r\nTo: {to}\r\nSubject: Re: {welcome['Subject']}\r\n"
               "Message-ID: <p1@school.test>\r\n\r\nHello Sam, I'm Alex!\r\n")
    stack.wait_count("relay@mentoring.test", 1)
    at(gw, 2026, 9, 1, 18)
    sam = prompts(stack, "sam@nhs.test")
    assert any("Hello Sam, I'm Alex!" in body_text(m) for m in sam), [str(m["Subject"]) for m in sam]


def test_now_option(stack):
    gw = wave_gateway(stack)
    import subprocess
    from harness import BUILD
    r = subprocess.run([os.path.join(BUILD, "mentorgated"), "-c", gw.conf, "--once", "--now",
                        "2026-09-01T17:00:00Z"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert gw.sql("SELECT count(*) FROM outbox WHERE dedupe_key LIKE 'prompt:%'") == [(5,)]
    r = subprocess.run([os.path.join(BUILD, "mentorgated"), "-c", gw.conf, "--once", "--now",
                        "yesterday"], capture_output=True, text=True)
    assert r.returncode == 64 and "--now" in r.stderr


def test_a_whole_wave_with_surveys_digests_and_nudges(stack):
    """The shipped wave as it is: count every kind of mail in every mailbox."""
    with open(os.path.join(ROOT, "conf", "schedule-nhs-wave.conf")) as f:
        conf = f.read()
    gw = Gateway(stack, extra=f"\n[programme]\ntemplates = {os.path.join(ROOT, 'templates')}\n\n{conf}")
    os.environ["MENTORGATE_NOW"] = str(int(datetime.datetime(2026, 8, 20, 12, tzinfo=LONDON).timestamp()))
    try:
        gw.setup_pair()
        gw.ctl("pair", "jo@school.test", "kim@nhs.test")
    finally:
        del os.environ["MENTORGATE_NOW"]
    day = datetime.date(2026, 8, 31)
    while day <= datetime.date(2026, 11, 12):
        at(gw, day.year, day.month, day.day, 17)
        at(gw, day.year, day.month, day.day, 22)          # quiet hours: nothing
        day += datetime.timedelta(days=1)
    stack.wait_queue_empty()

    def kinds(user):
        out = {}
        for m in prompts(stack, user):
            s = str(m["Subject"])
            k = ("survey reminder" if s.startswith("Reminder:") else "survey" if "quick questions" in s
                 else "nudge" if "waiting to hear" in s else "digest" if "your conversation" in s
                 else "prompt")
            out[k] = out.get(k, 0) + 1
        return out
    for mentee in ("alex@school.test", "jo@school.test"):
        assert kinds(mentee) == {"prompt": 10, "survey": 2, "survey reminder": 2, "nudge": 1}, \
            (mentee, kinds(mentee))
    for mentor in ("sam@nhs.test", "kim@nhs.test"):
        assert kinds(mentor) == {"prompt": 10, "survey": 2, "survey reminder": 2}, (mentor, kinds(mentor))
    assert gw.sql("SELECT count(*) FROM survey_invites") == [(8,)]
    days = [m for m in prompts(stack, "coord@mentoring.test") if "the day in the programme" in str(m["Subject"])]
    assert len(days) == len({str(m["Subject"]) for m in days}) == 74, len(days)   # Aug 31 .. Nov 12
    sent = gw.sql("SELECT count(*), count(DISTINCT dedupe_key) FROM outbox")[0]
    assert sent[0] == sent[1], "nothing twice"
    hours = gw.sql("SELECT created FROM outbox")
    for (t,) in hours:
        h = datetime.datetime.fromtimestamp(t, LONDON).hour
        assert not (h >= 21 or h < 8), "nothing queued in quiet hours"
