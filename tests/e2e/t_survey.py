"""Surveys by email: invitations with a personal token, answers in each
accepted form scored and confirmed, CHANGE corrects, a malformed answer gets
help, reminders to non-responders (at most max_reminders), a web-form CSV."""
import datetime
import os
from zoneinfo import ZoneInfo

from harness import Gateway, body_text, make_mail, parse

LONDON = ZoneInfo("Europe/London")
ALEX, SAM, JO, KIM = "alex@school.test", "sam@nhs.test", "jo@school.test", "kim@nhs.test"
SURVEY = """
[calendar]
timezone = Europe/London
send_hour = 16

[survey interim]
week = 1
audience = both
question = The programme is useful to me
question = It is easy to talk to my partner
question = I know more about NHS careers
question = I would recommend it
free_text = Anything else?
link = https://forms.example.org/s?t={{token}}
reminder_days = 2
max_reminders = 1
"""


def now(y, m, d, hh):
    return {"MENTORGATE_NOW": str(int(datetime.datetime(y, m, d, hh, tzinfo=LONDON).timestamp()))}


def reply(stack, gw, who, invitation, text, when):
    to = invitation["Reply-To"].addresses[0].addr_spec
    stack.send(who, to, make_mail(who, to, "Re: questions", text + "\r\n\r\nOn Tue, NHS wrote:\r\n> 1) ..."))
    stack.wait_count("relay@mentoring.test", 1)
    gw.once(env=when)


def last(stack, user):
    return parse(stack.messages(user)[-1])


def test_survey_round_trip(stack):
    gw = Gateway(stack, extra=SURVEY)
    gw.setup_pair()
    gw.ctl("pair", JO, KIM)
    gw.once(env=now(2026, 9, 1, 15))
    assert gw.sql("SELECT count(*) FROM survey_invites") == [(0,)], "not before 16:00"
    gw.once(env=now(2026, 9, 1, 17))
    gw.once(env=now(2026, 9, 1, 18))
    assert gw.sql("SELECT count(*) FROM survey_invites") == [(4,)], "one each, once"
    for user in (ALEX, SAM, JO, KIM):
        assert stack.wait_count(user, 1) == 1
    inv = last(stack, ALEX)
    text = body_text(inv)
    token = gw.sql("SELECT token FROM survey_invites i JOIN participants p ON p.id = i.participant_id"
                   " WHERE p.email = ?", ALEX)[0][0]
    assert f"https://forms.example.org/s?t={token}" in text
    assert "1) The programme is useful to me" in text and "5) Anything else?" in text
    assert inv["Reply-To"].addresses[0].addr_spec == f"relay+survey-{token}@mentoring.test"
    when = now(2026, 9, 2, 10)
    reply(stack, gw, ALEX, inv, "1) 4 2) 5 3) 3 4) 4\r\n5) More videos please", when)
    conf = body_text(last(stack, ALEX))
    assert "We recorded: 1) 4 2) 5 3) 3 4) 4" in conf and "CHANGE 2 3" in conf, conf
    reply(stack, gw, ALEX, inv, "CHANGE 2 3", when)
    assert "We recorded: 1) 4 2) 3 3) 3 4) 4" in body_text(last(stack, ALEX))
    reply(stack, gw, SAM, last(stack, SAM), "5\r\n4\r\n4\r\n5", when)
    assert "We recorded: 1) 5 2) 4 3) 4 4) 5" in body_text(last(stack, SAM))
    jo_inv = last(stack, JO)
    reply(stack, gw, JO, jo_inv, "great thanks!", when)
    help_text = body_text(last(stack, JO))
    assert "could not read your answer" in help_text and "1) The programme is useful to me" in help_text
    reply(stack, gw, JO, jo_inv, "3,3,4,2", when)
    assert "We recorded: 1) 3 2) 3 3) 4 4) 2" in body_text(last(stack, JO))
    # someone else using Alex's token changes nothing and hears nothing
    reply(stack, gw, "mallory@school.test", inv, "1 1 1 1", when)
    assert gw.sql("SELECT score FROM survey_answers a JOIN survey_invites i ON i.id = a.invite_id"
                  " JOIN participants p ON p.id = i.participant_id WHERE p.email = ? AND question = 1",
                  ALEX) == [(4,)]
    assert stack.count("mallory@school.test") == 0
    free = gw.sql("SELECT text FROM survey_answers WHERE question = 5")
    assert free == [("More videos please",)], free
    # Kim has not answered: one reminder after two days, and no more
    gw.once(env=now(2026, 9, 2, 17))
    assert stack.count(KIM) == 1
    gw.once(env=now(2026, 9, 3, 17))
    assert stack.wait_count(KIM, 2) == 2
    assert "Reminder" in str(last(stack, KIM)["Subject"])
    gw.once(env=now(2026, 9, 10, 17))
    stack.wait_queue_empty()
    assert stack.count(KIM) == 2 and stack.count(ALEX) == 3
    # Kim answers on the web form: the CSV export is imported
    kim = gw.sql("SELECT token FROM survey_invites i JOIN participants p ON p.id = i.participant_id"
                 " WHERE p.email = ?", KIM)[0][0]
    csv = os.path.join(gw.dir, "form.csv")
    with open(csv, "w") as f:
        f.write(f"token,q1,q2,q3,q4,text\n{kim},5,5,4,5,Brilliant\n")
    assert "imported 1 survey responses" in gw.ctl("survey", "import", csv).stdout
    with open(csv, "w") as f:
        f.write(f"token,q1,q2,q3,q4\n{kim},5,9,4,5\nnosuchtoken,1,1,1,1\n")
    r = gw.ctl("survey", "import", csv, check=False)
    assert r.returncode == 65 and "form.csv:2: question 2" in r.stderr and "form.csv:3: unknown token" in r.stderr
    assert gw.sql("SELECT count(*) FROM survey_invites WHERE answered IS NOT NULL") == [(4,)]
