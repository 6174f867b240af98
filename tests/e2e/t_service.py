"""Daemon conventions: sd_notify over a real datagram socket, the pidfile,
dropping root to the configured user."""
import os
import pwd
import socket
import subprocess
import tempfile
import time

from harness import BUILD, Daemon, Gateway, make_mail

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"


def recv_until(sock, want, timeout=30):
    """Datagrams received until one equals want (bounded)."""
    got = []
    deadline = time.time() + timeout
    while time.time() < deadline:
        sock.settimeout(max(0.1, deadline - time.time()))
        try:
            got.append(sock.recv(4096).decode())
        except socket.timeout:
            break
        if got[-1] == want:
            return got
    raise AssertionError(f"no {want!r}; got {got}")


def test_notify_watchdog_and_pidfile(stack):
    gw = Gateway(stack)
    gw.setup_pair()
    tmp = tempfile.mkdtemp(prefix="mg-notify-")
    stack.tmpdirs.append(tmp)
    path = os.path.join(tmp, "notify")
    pidfile = os.path.join(tmp, "mentorgated.pid")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    d = Daemon([gw.conf], env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "300000"},
               args=["--pidfile", pidfile])
    try:
        got = recv_until(sock, "READY=1")
        with open(pidfile) as f:
            assert int(f.read()) == d.proc.pid
        # a second daemon with the same pidfile is refused, naming the holder
        r = subprocess.run([os.path.join(BUILD, "mentorgated"), "-c", gw.conf, "--pidfile",
                            pidfile], capture_output=True, text=True, timeout=60)
        assert r.returncode == 75 and str(d.proc.pid) in r.stderr, r
        got = recv_until(sock, "WATCHDOG=1")
        got = recv_until(sock, "WATCHDOG=1")        # and again: pinged from the loop
        d.proc.send_signal(1)
        got = recv_until(sock, "RELOADING=1")
        got = recv_until(sock, "READY=1")
    finally:
        assert d.stop() == 0, d.log()
    got = recv_until(sock, "STOPPING=1")
    assert not os.path.exists(pidfile)
    sock.close()


def test_user_drops_root(stack):
    gw = Gateway(stack)
    to_mentor, _ = gw.setup_pair()
    with open(gw.conf, "a") as f:
        f.write("\n[daemon]\nuser = nobody\n")
    if os.geteuid() != 0:
        # without root the setting cannot be honoured: a clear refusal
        r = gw.once(check=False)
        assert r.returncode == 78 and "needs mentorgated to start as root" in r.stderr, r
        return
    nobody = pwd.getpwnam("nobody")
    for p in [gw.dir] + [os.path.join(gw.dir, n) for n in os.listdir(gw.dir)]:
        os.chown(p, nobody.pw_uid, nobody.pw_gid)
    d = Daemon([gw.conf])
    try:
        d.wait_log("daemon started")
        with open(f"/proc/{d.proc.pid}/status") as f:
            ids = {l.split(":")[0]: l.split()[1:] for l in f if l.startswith(("Uid", "Gid"))}
        assert ids["Uid"] == [str(nobody.pw_uid)] * 4, ids
        assert ids["Gid"] == [str(nobody.pw_gid)] * 4, ids
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "as nobody", "hello"))
        assert stack.wait_count(MENTOR, 1, timeout=30) == 1
    finally:
        assert d.stop() == 0, d.log()
    assert os.stat(gw.db).st_uid == nobody.pw_uid
