#!/usr/bin/env python3
"""make demo: the gateway end to end on a private Dovecot + Postfix on
127.0.0.1, with a sample cohort of two pairs."""
import datetime
import os
import zoneinfo
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "e2e"))
from harness import BUILD, ROOT, Gateway, Stack, body_text, make_mail, parse  # noqa: E402


def step(title):
    print(f"\n=== {title}", flush=True)


def run(gw, *args):
    print("$ mentorctl -c " + os.path.basename(gw.conf) + " " + " ".join(args), flush=True)
    r = gw.ctl(*args, check=False)
    sys.stdout.write(r.stdout + r.stderr)
    return r.stdout


def show(stack, user):
    for raw in stack.messages(user):
        msg = parse(raw)
        print(f"--- in {user}'s mailbox:")
        for h in ("From", "Reply-To", "To", "Subject", "Message-ID", "In-Reply-To"):
            if msg[h]:
                print(f"{h}: {msg[h]}")
        print()
        print(body_text(msg).rstrip())


def main():
    step("starting a private Dovecot + Postfix on 127.0.0.1")
    stack = Stack()
    gw = None
    try:
        print(f"IMAP 127.0.0.1:{stack.imap_port}, SMTP 127.0.0.1:{stack.smtp_port}, state in {stack.dir}")
        with open(os.path.join(ROOT, "conf", "schedule-nhs-wave.conf")) as f:
            wave = f.read()
        gw = Gateway(stack, name="demo",
                     extra=f"\n[screening]\nrules = {os.path.join(ROOT, 'conf', 'rules')}\n"
                           f"\n[programme]\ntemplates = {os.path.join(ROOT, 'templates')}\n\n{wave}")
        step("configuration (checked)")
        print(open(gw.conf).read().replace("password = secret", "password = ******"))
        run(gw, "check")
        step("a sample cohort with two pairs")
        # the wave starts in a fortnight: the programme engine is shown at the end
        start = datetime.date.today() + datetime.timedelta(days=14)
        run(gw, "cohort", "add", "Wave1", "--start", start.isoformat(), "--weeks", "10")
        run(gw, "import", os.path.join(ROOT, "conf", "sample-participants.csv"))
        out = run(gw, "pair", "alex@school.test", "sam@nhs.test")
        a_to_sam = [l.split()[-1] for l in out.splitlines() if l.strip().startswith("mentee")][0]
        sam_to_a = [l.split()[-1] for l in out.splitlines() if l.strip().startswith("mentor")][0]
        out = run(gw, "pair", "jo@school.test", "kim@nhs.test")
        jo_to_kim = [l.split()[-1] for l in out.splitlines() if l.strip().startswith("mentee")][0]
        kim_to_jo = [l.split()[-1] for l in out.splitlines() if l.strip().startswith("mentor")][0]

        step("participants write to masked addresses")
        first = make_mail("Alex Smith <alex@school.test>", a_to_sam, "Week 1: my favourite clips",
                          "Hi Sam,\r\nI picked three clips: the paramedic, the radiographer and the\r\n"
                          "ward nurse. The nurse's night shifts surprised me.\r\n"
                          "Thanks, Alex", msgid="<demo-1@school.test>")
        stack.send("alex@school.test", a_to_sam, first)
        stack.send("jo@school.test", jo_to_kim,
                   make_mail("Jo Brown <jo@school.test>", jo_to_kim, "Hello",
                             "Hi Kim, I'm Jo. I'd like to hear about radiography."))
        stack.send("mallory@school.test", a_to_sam,
                   make_mail("mallory@school.test", a_to_sam, "hey", "can we chat somewhere else?"))
        print("alex -> " + a_to_sam + "\njo -> " + jo_to_kim + "\nmallory (a stranger) -> " + a_to_sam)
        stack.wait_count("relay@mentoring.test", 3)

        step("the gateway: mentorgated --once")
        r = gw.once(check=False)
        sys.stdout.write(r.stderr)
        stack.wait_count("sam@nhs.test", 1)
        stack.wait_count("kim@nhs.test", 1)
        step("what Sam (mentor) sees")
        show(stack, "sam@nhs.test")

        step("Sam replies to the masked address; the gateway relays it threaded")
        relayed = parse(stack.messages("sam@nhs.test")[0])
        reply = make_mail("Sam Jones <sam@nhs.test>", sam_to_a, "Re: Week 1: my favourite clips",
                          "Great choices, Alex! Night shifts are hard but rewarding.\r\n\r\n"
                          f"On Mon, Alex (mentee) via NHS Mentoring <{a_to_sam}> wrote:\r\n"
                          "> I picked three clips", msgid="<demo-2@nhs.test>",
                          extra=f"In-Reply-To: {relayed['Message-ID']}\r\n")
        stack.send("sam@nhs.test", sam_to_a, reply)
        stack.wait_count("relay@mentoring.test", 1)
        r = gw.once(check=False)
        sys.stdout.write(r.stderr)
        stack.wait_count("alex@school.test", 1)
        step("what Alex (mentee) sees")
        show(stack, "alex@school.test")

        step("Jo offers a phone number, spelt out; screening holds it (Kim never sees it)")
        stack.send("jo@school.test", jo_to_kim,
                   make_mail("Jo Brown <jo@school.test>", jo_to_kim, "quicker",
                             "its quicker to text, my number is oh seven seven double oh nine "
                             "double oh one two three"))
        stack.wait_count("relay@mentoring.test", 1)
        r = gw.once(check=False)
        sys.stdout.write(r.stderr)
        run(gw, "messages", "--held")
        print("$ sqlite3 demo.db 'SELECT message, category, rule, excerpt FROM flags'")
        for row in gw.sql("SELECT message, category, rule, excerpt FROM flags"):
            print("|".join(str(x) for x in row))

        step("Kim is on leave: her out-of-office answers Jo; it is recorded, not relayed")
        stack.send("kim@nhs.test", kim_to_jo,
                   make_mail("Kim Lee <kim@nhs.test>", kim_to_jo, "Automatic reply: Hello",
                             "I am on leave until Monday.", extra="Auto-Submitted: auto-replied\r\n"))
        stack.wait_count("relay@mentoring.test", 1)
        r = gw.once(check=False)
        sys.stdout.write(r.stderr)
        run(gw, "messages")

        step("the programme engine: the wave's first day, 17:00 London time (mentorgated --now)")
        first = datetime.datetime(start.year, start.month, start.day, 17,
                                  tzinfo=zoneinfo.ZoneInfo("Europe/London"))
        r = gw.once(env={"MENTORGATE_NOW": str(int(first.timestamp()))}, check=False)
        sys.stdout.write(r.stderr)
        stack.wait_count("jo@school.test", 1)
        welcome = [m for m in map(parse, stack.messages("jo@school.test"))
                   if str(m["Subject"]).startswith("Welcome")][0]
        print("Jo's inbox now holds: " + str(welcome["Subject"]) + "  (Reply-To "
              + welcome["Reply-To"].addresses[0].addr_spec + ")\n")
        print(body_text(welcome))
        run(gw, "report", "Wave1")

        step("the stored thread (the new text of each reply) and the held message")
        run(gw, "thread", "1")
        run(gw, "messages", "--held")
        run(gw, "outbox")
        print("\ndemo finished: database at " + gw.db)
    finally:
        stack.stop(keep=[gw.dir] if gw else [])     # the demo's database stays


if __name__ == "__main__":
    main()
