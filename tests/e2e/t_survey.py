"""Surveys by email: invitations with a personal token, answers in each
accepted form scored and confirmed, CHANGE corrects, a malformed answer gets
help, reminders to non-responders (at most max_reminders), a web-form CSV;
a survey closes (by default the wave's end plus the reminder period): later
answers and reminders are refused kindly, and CHANGE needs an answer first."""
import datetime
import os
import sqlite3
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


def now(y, m, d, hh, mm=0):
    return {"MENTORGATE_NOW": str(int(datetime.datetime(y, m, d, hh, mm, tzinfo=LONDON).timestamp()))}


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


def answers(gw, who):
    return gw.sql("SELECT a.question, a.score FROM survey_answers a JOIN survey_invites i ON i.id = a.invite_id"
                  " JOIN participants p ON p.id = i.participant_id WHERE p.email = ? ORDER BY 1", who)


def outcome(gw):
    return gw.sql("SELECT reason FROM messages WHERE kind = 'survey' ORDER BY id DESC")[0][0]


def test_survey_closes_and_change_needs_an_answer(stack):
    gw = Gateway(stack, extra=SURVEY)       # W1 starts 2026-09-01, 10 weeks: closes 2026-11-12 00:00
    gw.setup_pair()
    gw.once(env=now(2026, 9, 1, 17))
    alex, sam = last(stack, ALEX), last(stack, SAM)
    reply(stack, gw, ALEX, alex, "CHANGE 1 1", now(2026, 9, 2, 10))
    assert stack.wait_count(ALEX, 2) == 2
    text = body_text(last(stack, ALEX))
    assert "no answer to change yet" in text and "1) 4 2) 4 3) 4 4) 4" in text, text
    assert "1) The programme is useful to me" in text, text
    assert answers(gw, ALEX) == [], "CHANGE before an answer stores nothing"
    assert outcome(gw) == "survey interim: CHANGE before any answer"
    gw.once(env=now(2026, 9, 3, 17))        # the one reminder each
    assert stack.wait_count(ALEX, 3) == 3 and stack.wait_count(SAM, 2) == 2
    # Sam answers half an hour before the close, Alex half an hour after
    reply(stack, gw, SAM, sam, "5 5 5 5", now(2026, 11, 11, 23, 30))
    assert stack.wait_count(SAM, 3) == 3
    assert "We recorded: 1) 5 2) 5 3) 5 4) 5" in body_text(last(stack, SAM))
    assert answers(gw, SAM) == [(1, 5), (2, 5), (3, 5), (4, 5)]
    reply(stack, gw, ALEX, alex, "4 4 4 4", now(2026, 11, 12, 0, 30))
    assert stack.wait_count(ALEX, 4) == 4
    text = body_text(last(stack, ALEX))
    assert "This survey closed on 2026-11-12" in text and "Thank you" in text, text
    assert answers(gw, ALEX) == [], "a late answer stores nothing"
    assert outcome(gw) == "survey interim: too late, closed on 2026-11-12"
    reply(stack, gw, SAM, sam, "CHANGE 1 2", now(2026, 11, 12, 0, 30))
    assert stack.wait_count(SAM, 4) == 4 and "closed on 2026-11-12" in body_text(last(stack, SAM))
    assert answers(gw, SAM)[0] == (1, 5), "a late CHANGE changes nothing"
    assert gw.sql("SELECT count(*) FROM survey_invites WHERE answered IS NOT NULL") == [(1,)]
    # a score an older version stored for an unanswered invitation is not in the means
    con = sqlite3.connect(gw.db)
    con.execute("INSERT INTO survey_answers(invite_id, question, score, updated) SELECT i.id, 1, 1, 0"
                " FROM survey_invites i JOIN participants p ON p.id = i.participant_id WHERE p.email = ?",
                (ALEX,))
    con.commit()
    con.close()
    csv = gw.ctl("report", "W1", "--format", "csv").stdout
    assert "survey interim,q1 mean,5.00" in csv, csv


SUMMER = """
[calendar]
timezone = Europe/London
send_hour = 16

[survey final]
week = 4
audience = mentees
question = The programme was useful to me
question = I would recommend it
reminder_days = 7
max_reminders = 1
close_days = 0
"""


def summer(stack):
    """Alex and Jo (mentees) paired in W2: 2026-06-01, 4 weeks."""
    gw = Gateway(stack, extra=SUMMER)
    people = os.path.join(gw.dir, "people.csv")
    with open(people, "w") as f:
        f.write("role,name,email,cohort,segment\n"
                f"mentee,Alex Smith,{ALEX},W2,school\nmentee,Jo Brown,{JO},W2,neet\n"
                f"mentor,Sam Jones,{SAM},W2,nhs\nmentor,Kim Lee,{KIM},W2,nhs\n")
    gw.ctl("cohort", "add", "W2", "--start", "2026-06-01", "--weeks", "4")
    gw.ctl("import", people)
    gw.pair(ALEX, SAM)
    gw.pair(JO, KIM)
    return gw


def test_survey_close_days_moves_the_close_and_stops_reminders(stack):
    """W2 starts 2026-06-01 for 4 weeks: the invitation goes on 06-22, the
    wave ends 2026-06-29 00:00 BST (23:00 UTC the day before), the reminder
    would be due 06-29 16:00.  close_days = 0 closes at the wave's end."""
    gw = summer(stack)
    gw.once(env=now(2026, 6, 22, 17))
    assert stack.wait_count(ALEX, 1) == 1 and stack.wait_count(JO, 1) == 1
    alex, jo = last(stack, ALEX), last(stack, JO)
    reply(stack, gw, ALEX, alex, "4 5", now(2026, 6, 28, 23, 30))
    assert stack.wait_count(ALEX, 2) == 2 and "We recorded: 1) 4 2) 5" in body_text(last(stack, ALEX))
    reply(stack, gw, JO, jo, "3 3", now(2026, 6, 29, 0, 30))
    assert stack.wait_count(JO, 2) == 2
    assert "This survey closed on 2026-06-29" in body_text(last(stack, JO))
    assert answers(gw, JO) == []
    gw.once(env=now(2026, 6, 29, 17))
    stack.wait_queue_empty()
    assert stack.count(JO) == 2, "no reminder after the close"
    # without close_days the survey is open for the reminder period (7 days)
    gw.edit("close_days = 0\n", "")
    gw.once(env=now(2026, 6, 29, 18))
    assert stack.wait_count(JO, 3) == 3 and "Reminder" in str(last(stack, JO)["Subject"])
    assert stack.count(ALEX) == 2, "no reminder for an answer"
    reply(stack, gw, JO, jo, "3 3", now(2026, 7, 5, 23, 30))
    assert stack.wait_count(JO, 4) == 4 and "We recorded: 1) 3 2) 3" in body_text(last(stack, JO))
    assert answers(gw, JO) == [(1, 3), (2, 3)]


def test_no_invitation_to_a_closed_survey(stack):
    """A gateway first run after the close invites nobody."""
    gw = summer(stack)
    gw.once(env=now(2026, 6, 29, 17))
    assert gw.sql("SELECT count(*) FROM survey_invites") == [(0,)]
    gw.edit("close_days = 0\n", "")
    gw.once(env=now(2026, 6, 29, 17))
    assert gw.sql("SELECT count(*) FROM survey_invites") == [(2,)]
    assert stack.wait_count(ALEX, 1) == 1
