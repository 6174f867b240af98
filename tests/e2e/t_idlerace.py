"""libetpan's IDLE races (dependencies.md, defect 6), provoked on purpose by
a middlebox in front of the real Dovecot that controls how the server's
answer to IDLE is cut into packets:

- "* 1 EXISTS" glued to "+ idling" in one packet: libetpan reads both, so the
  EXISTS waits in its buffer and poll() never wakes.  The daemon must look
  at the buffer (Dovecot's own later EXISTS is dropped by the middlebox, and
  no poll is due for an hour: only that check can relay the message).
- "* 1 EXISTS" before "+ idling": mailimap_idle fails; the daemon must treat
  the session as lost, reconnect and relay the message."""
import re
import socket
import threading

from harness import Daemon, Gateway, Middlebox, make_mail

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"


class IdleCutter(Middlebox):
    def __init__(self, target, mode):
        self.target, self.mode = target, mode
        self.held = threading.Event()      # the first "+ idling" is being held
        self.release = threading.Event()   # the test has delivered: let it go
        self.done = False                  # the first IDLE has been tampered with
        super().__init__()

    def connected(self, c):
        up = socket.create_connection(("127.0.0.1", self.target))
        state = {"idle": False, "drop": False}
        threading.Thread(target=self.client, args=(c, up, state), daemon=True).start()
        self.server(up, c, state)

    def client(self, c, up, state):
        try:
            while (data := c.recv(65536)):
                if not self.done and re.search(rb"^\S+ IDLE\r\n", data, re.M):
                    state["idle"] = True
                if data.upper().startswith(b"DONE"):
                    state["drop"] = False
                up.sendall(data)
        except OSError:
            pass
        up.close()

    def server(self, up, c, state):
        buf = b""
        try:
            while (data := up.recv(65536)):
                if not state["idle"] and not state["drop"]:
                    c.sendall(data)
                    continue
                buf += data
                while b"\r\n" in buf:
                    line, buf = buf.split(b"\r\n", 1)
                    if state["idle"] and line.startswith(b"+ "):
                        state["idle"] = False
                        self.held.set()
                        self.release.wait(30)
                        glued = (line + b"\r\n* 1 EXISTS\r\n" if self.mode == "glued"
                                 else b"* 1 EXISTS\r\n" + line + b"\r\n")
                        c.sendall(glued)             # one packet
                        self.done = True
                        state["drop"] = True
                    elif state["drop"] and re.match(rb"\* \d+ (EXISTS|RECENT)$", line):
                        continue                     # Dovecot's own news: hidden
                    else:
                        c.sendall(line + b"\r\n")
                if not state["idle"] and not state["drop"] and buf:
                    c.sendall(buf)
                    buf = b""
        except OSError:
            pass
        c.close()


def run_race(stack, mode):
    cut = IdleCutter(stack.imap_port, mode)
    gw = Gateway(stack, extra="\n[daemon]\nreconnect_max = 5\n")
    gw.edit(f"port = {stack.imap_port}\n", f"port = {cut.port}\n")
    gw.edit("poll_interval = 1\n", "poll_interval = 3600\n")
    gw.edit("tls = starttls\n", "tls = none\n")      # the middlebox reads IMAP
    to_mentor, _ = gw.setup_pair()
    d = Daemon([gw.conf], env={"MENTORGATE_LOG": "debug"})
    try:
        assert cut.held.wait(60), d.log()
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, f"race {mode}", "hello"))
        stack.wait_count("relay@mentoring.test", 1)
        cut.release.set()
        assert stack.wait_count(MENTOR, 1, timeout=30) == 1, d.log()
    finally:
        rc = d.stop()
        cut.close()
    assert rc == 0, d.log()
    return d


def test_exists_glued_to_idling_is_not_missed(stack):
    d = run_race(stack, "glued")
    assert d.count("imap down") == 0, d.log()       # handled in the session


def test_exists_before_idling_reconnects(stack):
    d = run_race(stack, "before")
    assert "IDLE failed" in d.log() and d.count("warn imap down") == 1, d.log()
    assert d.count("imap recovered") == 1
