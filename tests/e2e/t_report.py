"""Reports: the numbers of a small hand-made cohort, checked against values
computed by hand, in text, CSV and well-formed HTML; the end-of-wave report
is mailed to the coordinators once."""
import datetime
import os
import xml.dom.minidom
from zoneinfo import ZoneInfo

from harness import Gateway, make_mail, parse

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LONDON = ZoneInfo("Europe/London")
ALEX, SAM, JO, KIM = "alex@school.test", "sam@nhs.test", "jo@school.test", "kim@nhs.test"


def now(y, m, d, hh):
    return {"MENTORGATE_NOW": str(int(datetime.datetime(y, m, d, hh, tzinfo=LONDON).timestamp()))}


def test_report_numbers_in_three_formats(stack):
    gw = Gateway(stack, extra=f"""
[programme]
templates = {os.path.join(ROOT, 'templates')}

[screening]
rules = {os.path.join(ROOT, 'conf', 'rules')}

[calendar]
timezone = Europe/London
send_hour = 16

[schedule]
send = 1 checkin both

[survey interim]
week = 1
audience = both
question = The programme is useful
question = My partner is easy to talk to
""")
    os.environ.update(now(2026, 8, 20, 12))
    try:
        to_sam, to_alex = gw.setup_pair()
        to_kim, _ = gw.pair(JO, KIM)
    finally:
        del os.environ["MENTORGATE_NOW"]
    gw.once(env=now(2026, 9, 1, 17))                      # 4 prompts, 4 invitations

    def send(frm, to, subject, text, when):
        stack.send(frm, to, make_mail(frm, to, subject, text))
        stack.wait_count("relay@mentoring.test", 1)
        gw.once(env=when)
    send(ALEX, to_sam, "a", "Hello Sam", now(2026, 9, 2, 10))
    send(SAM, to_alex, "b", "Hello Alex", now(2026, 9, 2, 13))          # a reply after 3 hours
    send(ALEX, to_sam, "c", "Thanks!", now(2026, 9, 3, 10))             # a reply after 21 hours
    send(JO, to_kim, "d", "Hi Kim", now(2026, 9, 4, 10))                # never answered
    send(JO, to_kim, "e", "my insta is @jo.draws", now(2026, 9, 4, 11))  # held: social
    tokens = dict(gw.sql("SELECT p.email, i.token FROM survey_invites i"
                         " JOIN participants p ON p.id = i.participant_id"))
    csv = os.path.join(gw.dir, "answers.csv")
    with open(csv, "w") as f:
        f.write(f"token,q1,q2\n{tokens[ALEX]},4,5\n{tokens[SAM]},5,3\n{tokens[JO]},2,4\n")
    gw.ctl("survey", "import", csv)
    txt = gw.ctl("report", "W1").stdout
    for line in ("mentee / neet                1", "mentee / school              1",
                 "mentor / nhs                 2", "Pairs                          2",
                 "Active pairs (both wrote)      1", "Messages mentee to mentor      3",
                 "Messages mentor to mentee      1", "Median time to a reply         12.0 hours",
                 "Prompts sent                   4", "Messages held                  1",
                 "social                       1", "Survey interim: 3 of 4 answered (75%)",
                 "mean 3.67 / 5, 67% answered 4 or 5 (3 answers)",
                 "mean 4.00 / 5, 67% answered 4 or 5 (3 answers)"):
        assert line in txt, f"{line!r} not in\n{txt}"
    csvout = gw.ctl("report", "W1", "--format", "csv").stdout.splitlines()
    for row in ("pairs,active,1", "messages,mentee to mentor,3", "messages,median reply hours,12.00",
                "prompts,sent,4", "flags,social,1", "survey interim,response rate %,75.00",
                "survey interim,q1 mean,3.67", "survey interim,q2 mean,4.00",
                "survey interim,q1 share 4 or 5 %,66.67", '"mentor / nhs",2'):
        assert any(r.endswith(row) for r in csvout), (row, csvout)
    html = gw.ctl("report", "W1", "--format", "html").stdout
    xml.dom.minidom.parseString(html.split("\n", 1)[1])   # well-formed
    assert "<script" not in html and "<svg" in html and "3.67 / 5 (67% 4-5)" in html
    assert gw.ctl("report", "W9", check=False).returncode == 66
    # the end of the wave (Tuesday 10 November, 16:00): the report, once
    gw.once(env=now(2026, 11, 10, 15))
    gw.once(env=now(2026, 11, 10, 17))
    gw.once(env=now(2026, 11, 11, 17))
    stack.wait_queue_empty()
    reports = [m for m in map(parse, stack.messages("coord@mentoring.test"))
               if "end-of-wave report" in str(m["Subject"])]
    assert len(reports) == 1
    kinds = [p.get_content_type() for p in reports[0].walk()]
    assert "text/plain" in kinds and "text/html" in kinds, kinds
