"""Shared helpers for the end-to-end tests: the private mail stack, a
gateway configuration per test, and mail in and out over real SMTP/IMAP."""
import email
import email.policy
import imaplib
import os
import shutil
import smtplib
import socket
import sqlite3
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
MAILSTACK = os.path.join(ROOT, "tests", "mailstack.sh")
RULES_DIR = os.path.join(ROOT, "conf", "rules")
USERS = ["relay@mentoring.test", "research@mentoring.test", "coord@mentoring.test", "safe@mentoring.test",
         "alex@school.test", "jo@school.test", "mallory@school.test",
         "sam@nhs.test", "kim@nhs.test"]


class Stack:
    """Dovecot + Postfix on 127.0.0.1 under a temporary directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mg-stack-")
        self.tmpdirs = [self.dir]       # removed by stop(), with each Gateway's
        self.run("start")
        self.env = {}
        with open(os.path.join(self.dir, "env")) as f:
            for line in f:
                k, _, v = line.strip().partition("=")
                self.env[k] = v
        self.imap_port = int(self.env["MS_IMAP_PORT"])
        self.smtp_port = int(self.env["MS_SMTP_PORT"])
        self.lmtp_port = int(self.env["MS_LMTP_PORT"])

    def run(self, what):
        subprocess.run([MAILSTACK, what, self.dir], check=True)

    def stop(self, keep=()):
        """Stop both servers and remove the temporary directories (all but
        keep; none when MENTORGATE_KEEP_TMP is set, for a post-mortem)."""
        self.run("stop")
        if os.environ.get("MENTORGATE_KEEP_TMP"):
            print(f"# temporary files kept: {' '.join(self.tmpdirs)}")
            return
        for d in self.tmpdirs:
            if d not in keep:
                shutil.rmtree(d, ignore_errors=True)

    def doveadm(self, *args):
        return subprocess.run(["doveadm", "-c", os.path.join(self.dir, "dovecot.conf")] + list(args),
                              check=True, capture_output=True, text=True).stdout

    def reset(self):
        """Empty every user's mailboxes and the Postfix queue."""
        self.wait_queue_empty()
        for u in USERS:
            for box in ("INBOX", "Processed"):
                subprocess.run(["doveadm", "-c", os.path.join(self.dir, "dovecot.conf"),
                                "expunge", "-u", u, "mailbox", box, "all"],
                               capture_output=True)

    def queue_empty(self):
        out = subprocess.run(["postqueue", "-c", os.path.join(self.dir, "postfix"), "-p"],
                             capture_output=True, text=True).stdout
        return "Mail queue is empty" in out

    def wait_queue_empty(self, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.queue_empty():
                return True
            subprocess.run(["postqueue", "-c", os.path.join(self.dir, "postfix"), "-f"],
                           capture_output=True)
            time.sleep(0.1)
        return False

    # --- mail -------------------------------------------------------------
    def send(self, sender, rcpt, raw):
        if isinstance(raw, str):
            raw = raw.encode()
        with smtplib.SMTP("127.0.0.1", self.smtp_port) as s:
            s.sendmail(sender, [rcpt], raw)

    def imap(self, user):
        m = imaplib.IMAP4("127.0.0.1", self.imap_port)
        m.login(user, "secret")
        return m

    def messages(self, user, box="INBOX"):
        """Raw bytes of every message in user's box."""
        m = self.imap(user)
        out = []
        try:
            typ, _ = m.select(box, readonly=True)
            if typ != "OK":
                return out
            _, data = m.uid("SEARCH", None, "ALL")
            for uid in data[0].split():
                _, d = m.uid("FETCH", uid, "(BODY.PEEK[])")
                out.append(d[0][1])
        finally:
            m.logout()
        return out

    def count(self, user, box="INBOX"):
        m = self.imap(user)
        try:
            typ, data = m.status(box, "(MESSAGES)")
            if typ != "OK":
                return 0
            return int(data[0].split()[-1].rstrip(b")"))
        finally:
            m.logout()

    def wait_count(self, user, n, box="INBOX", timeout=30):
        """Wait (bounded) until user's box holds at least n messages and the
        Postfix queue is empty; return the final count."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.count(user, box) >= n and self.queue_empty():
                break
            time.sleep(0.05)
        self.wait_queue_empty()
        return self.count(user, box)


def free_port():
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Middlebox:
    """A listener on a free 127.0.0.1 port; each accepted client is handed to
    self.connected(sock) on a thread of its own.  Subclasses stand in the
    path to a real server (relays, TLS terminators, protocol tamperers)."""

    def __init__(self):
        self.lsock = socket.socket()
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(8)
        self.port = self.lsock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.lsock.accept()
            except OSError:
                return
            threading.Thread(target=self.connected, args=(c,), daemon=True).start()

    def connected(self, sock):
        raise NotImplementedError

    def close(self):
        self.lsock.close()


class Gateway:
    """A configuration, database and roster for one test."""

    def __init__(self, stack, name="gw", extra=""):
        self.stack = stack
        self.dir = tempfile.mkdtemp(prefix="mg-gw-")
        stack.tmpdirs.append(self.dir)
        self.conf = os.path.join(self.dir, name + ".conf")
        self.db = os.path.join(self.dir, name + ".db")
        with open(self.conf, "w") as f:
            f.write(f"""[programme]
name = NHS Mentoring
relay_address = relay@mentoring.test
database = {self.db}

[screening]
spotcheck_percent = 0

[imap]
host = 127.0.0.1
port = {stack.imap_port}
tls = starttls
ca_file = {stack.env["MS_CA"]}
username = relay@mentoring.test
password = secret
processed_mailbox = Processed
poll_interval = 1
timeout = 20

[smtp]
url = smtp://127.0.0.1:{stack.smtp_port}
from_name = NHS Mentoring

[moderation]
coordinators = coord@mentoring.test
{extra}""")
        os.chmod(self.conf, 0o600)
        self.tokens = {}
        self.env = {}   # every pass's environment (a test may pin MENTORGATE_NOW)

    def edit(self, old, new):
        """Replace old (which must be there) by new in the configuration."""
        with open(self.conf) as f:
            text = f.read()
        assert old in text, old
        with open(self.conf, "w") as f:
            f.write(text.replace(old, new))

    def ctl(self, *args, check=True):
        r = subprocess.run([os.path.join(BUILD, "mentorctl"), "-c", self.conf] + list(args),
                           capture_output=True, text=True)
        if check and r.returncode != 0:
            raise AssertionError(f"mentorctl {args}: {r.returncode}\n{r.stdout}{r.stderr}")
        return r

    def once(self, env=None, check=True):
        e = dict(os.environ)
        e.update(self.env)
        e.update(env or {})
        r = subprocess.run([os.path.join(BUILD, "mentorgated"), "-c", self.conf, "--once"],
                           capture_output=True, text=True, env=e, timeout=300)
        if check and r.returncode != 0:
            raise AssertionError(f"mentorgated --once: {r.returncode}\n{r.stderr}")
        return r

    def relay_through(self, sender, rcpt, raw, dest):
        """Submit raw, run one pass once it has arrived, and return the one
        message that then reaches dest's INBOX (raw bytes)."""
        self.stack.send(sender, rcpt, raw)
        self.stack.wait_count("relay@mentoring.test", 1)
        self.once()
        n = self.stack.wait_count(dest, 1)
        assert n == 1, f"{dest} holds {n} messages, expected 1"
        return self.stack.messages(dest)[0]

    def confirm(self, user, env=None):
        """Without authserv_id, a decision or ack by mail waits for its
        sender's confirmation: if one is pending, reply YES from user's
        mailbox as they would, take the request out of it (so that counts
        stay about what is confirmed) and run a pass.  True if there was one."""
        if not self.sql("SELECT count(*) FROM confirmations WHERE confirmed IS NULL")[0][0]:
            return False
        self.stack.wait_queue_empty()
        reqs = [m for m in map(parse, self.stack.messages(user))
                if str(m["Subject"]).startswith("Please confirm")]
        assert len(reqs) == 1, [str(m["Subject"]) for m in reqs]
        to = reqs[0]["Reply-To"].addresses[0].addr_spec
        assert to.startswith("relay+confirm-"), to
        self.stack.send(user, to, make_mail(user, to, "Re: " + str(reqs[0]["Subject"]), "YES"))
        self.stack.doveadm("expunge", "-u", user, "mailbox", "INBOX", "header", "Subject",
                           "Please confirm")
        self.stack.wait_count("relay@mentoring.test", 1)
        self.once(env=env)
        return True

    def setup_pair(self, mentee="alex@school.test", mentor="sam@nhs.test"):
        """Cohort W1, participants, and one pair; returns (to_mentor, to_mentee)."""
        csv = os.path.join(self.dir, "people.csv")
        with open(csv, "w") as f:
            f.write("role,name,email,cohort,segment\n"
                    "mentee,Alex Smith,alex@school.test,W1,school\n"
                    "mentee,Jo Brown,jo@school.test,W1,neet\n"
                    "mentor,Sam Jones,sam@nhs.test,W1,nhs\n"
                    "mentor,Kim Lee,kim@nhs.test,W1,nhs\n"
                    "coordinator,Chris Coord,coord@mentoring.test,,\n")
        self.ctl("cohort", "add", "W1", "--start", "2026-09-01", "--weeks", "10")
        self.ctl("import", csv)
        return self.pair(mentee, mentor)

    def pair(self, mentee, mentor):
        """Pair two imported participants; returns (to_mentor, to_mentee)."""
        out = self.ctl("pair", mentee, mentor).stdout
        to_mentor = to_mentee = None
        for line in out.splitlines():
            if line.strip().startswith("mentee"):
                to_mentor = line.split()[-1]
            elif line.strip().startswith("mentor"):
                to_mentee = line.split()[-1]
        return to_mentor, to_mentee

    def sql(self, query, *args):
        con = sqlite3.connect(self.db)
        try:
            return con.execute(query, args).fetchall()
        finally:
            con.close()


def parse(raw):
    return email.message_from_bytes(raw, policy=email.policy.default)


def body_text(msg):
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part else ""


def make_mail(frm, to, subject, body, msgid=None, extra=""):
    msgid = msgid or f"<{time.time_ns()}.{os.getpid()}@{frm.split('@')[1]}>"
    return (f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {msgid}\r\n"
            f"Date: Sun, 22 Nov 2026 10:00:00 +0000\r\n{extra}"
            f"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n")


class Daemon:
    """mentorgated running in the foreground; its log is collected by a
    thread so tests can wait (bounded) for a line."""

    def __init__(self, confs, env=None, args=()):
        e = dict(os.environ)
        e.update(env or {})
        cmd = [os.path.join(BUILD, "mentorgated"), "--foreground"] + list(args)
        for c in confs:
            cmd += ["-c", c]
        self.proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=e)
        self.lines = []
        self.cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            with self.cv:
                self.lines.append(line.rstrip("\n"))
                self.cv.notify_all()
        with self.cv:
            self.lines.append(None)      # end of log
            self.cv.notify_all()

    def count(self, text):
        with self.cv:
            return sum(1 for l in self.lines if l is not None and text in l)

    def _since(self, after):
        """The log lines after the last one holding after (all if None)."""
        lines = [l for l in self.lines if l is not None]
        if after is not None:
            marks = [i for i, l in enumerate(lines) if after in l]
            lines = lines[marks[-1] + 1:] if marks else []
        return lines

    def wait_log(self, text, n=1, timeout=60, after=None):
        """Wait until text has appeared in n log lines (those after the
        last line holding after, if given); the log so far on failure."""
        deadline = time.time() + timeout
        with self.cv:
            while sum(1 for l in self._since(after) if text in l) < n:
                left = deadline - time.time()
                if left <= 0 or (self.lines and self.lines[-1] is None):
                    raise AssertionError(f"no {n} x {text!r} in log:\n" + self.log())
                self.cv.wait(left)

    def log(self):
        return "\n".join(l for l in self.lines if l is not None)

    def stop(self, timeout=60):
        """SIGTERM; the exit status."""
        import signal
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("daemon ignored SIGTERM:\n" + self.log())
