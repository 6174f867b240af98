"""The installed unit works as installed: `make install` into a scratch root,
its sysusers.d and tmpfiles.d applied there, then the installed mentorgated
run exactly as the unit's ExecStart says, as the unit's user (a real system
user made from the shipped sysusers.d line under a unique name), with the
configuration root:GROUP 0640 and the state directory the user's 0700: it
opens and writes its database and rereads its configuration on SIGHUP."""
import os
import pwd
import grp
import shlex
import shutil
import signal
import subprocess
import tempfile
import threading

from harness import BUILD, ROOT, make_mail, parse

MENTEE = "alex@school.test"
MENTOR = "sam@nhs.test"


def unit_keys(path):
    """The [Service] settings of a unit file, key -> value (last wins)."""
    keys, section = {}, None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("["):
                section = line
            elif section == "[Service]" and "=" in line and not line.startswith("#"):
                k, _, v = line.partition("=")
                keys[k] = v
    return keys


class UnitDaemon:
    """argv (from ExecStart) under setpriv as the unit would run it; its
    standard error collected like harness.Daemon's."""

    def __init__(self, argv):
        self.proc = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            with self.cv:
                self.lines.append(line.rstrip("\n"))
                self.cv.notify_all()
        with self.cv:
            self.lines.append(None)
            self.cv.notify_all()

    def wait_log(self, text, n=1, timeout=60):
        with self.cv:
            ok = self.cv.wait_for(lambda: sum(1 for l in self.lines if l and text in l) >= n
                                  or (self.lines and self.lines[-1] is None), timeout)
            if not ok or sum(1 for l in self.lines if l and text in l) < n:
                raise AssertionError(f"no {n} x {text!r} in log:\n" + self.log())

    def log(self):
        return "\n".join(l for l in self.lines if l is not None)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=60)


def make_user(line, name):
    """A real system user from the shipped sysusers.d line, renamed."""
    fields = shlex.split(line)
    assert fields[0] == "u", line
    if shutil.which("systemd-sysusers"):
        fields[1] = name
        subprocess.run(["systemd-sysusers", "--inline", shlex.join(fields)], check=True,
                       capture_output=True)
    else:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", name], check=True)
    return pwd.getpwnam(name)


def drop_user(name):
    subprocess.run(["userdel", name], capture_output=True)
    subprocess.run(["groupdel", name], capture_output=True)


def test_unit_user_opens_writes_reloads(stack):
    if os.geteuid() != 0:
        print("# skipped: needs root to make a system user")
        return
    root = tempfile.mkdtemp(prefix="mg-root-")
    stack.tmpdirs.append(root)
    os.chmod(root, 0o755)
    b = os.path.basename(BUILD)     # the sanitizer builds: the same flags
    san = ["TSAN=1"] if b.endswith("tsan") else ["SAN=1"] if b.endswith("san") else []
    r = subprocess.run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + root, "PREFIX=/usr",
                        "BUILD=" + os.path.relpath(BUILD, ROOT)] + san, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    unit = unit_keys(os.path.join(root, "usr/lib/systemd/system/mentorgated.service"))
    with open(os.path.join(root, "usr/lib/sysusers.d/mentorgate.conf")) as f:
        users = [l for l in f if l.strip() and not l.startswith("#")]
    # the unit runs unprivileged, as the user sysusers.d makes, in its own state directory
    assert unit.get("User") and unit["User"] != "root", unit
    assert len(users) == 1 and shlex.split(users[0])[1] == unit["User"], users
    assert unit.get("Group", unit["User"]) == unit["User"], unit
    assert unit.get("StateDirectory") == "mentorgate" and unit.get("StateDirectoryMode") == "0700"
    assert unit.get("NoNewPrivileges") == "yes" and unit.get("ExecReload", "").endswith("-HUP $MAINPID")
    argv = shlex.split(unit["ExecStart"])
    assert argv[0] == "/usr/sbin/mentorgated" and argv[1:] == ["-c", "/etc/mentorgate/mentorgate.conf"]
    state = os.path.join(root, "var/lib", unit["StateDirectory"])

    # sysusers.d and tmpfiles.d as shipped, applied to the scratch root
    if shutil.which("systemd-sysusers") and shutil.which("systemd-tmpfiles"):
        os.makedirs(os.path.join(root, "etc"))
        subprocess.run(["systemd-sysusers", "--root=" + root], check=True, capture_output=True)
        with open(os.path.join(root, "etc/passwd")) as f:
            entry = [l.split(":") for l in f if l.startswith(unit["User"] + ":")]
        assert len(entry) == 1 and entry[0][5] == "/var/lib/mentorgate", entry
        assert entry[0][6].strip().endswith("nologin"), entry
        subprocess.run(["systemd-tmpfiles", "--create", "--root=" + root], check=True,
                       capture_output=True)
        st = os.stat(state)
        assert st.st_mode & 0o7777 == 0o700 and st.st_uid == int(entry[0][2]), oct(st.st_mode)
    else:
        print("# no systemd-sysusers/systemd-tmpfiles: the scratch root is made by hand")
        os.makedirs(state, 0o700)

    # the unit's user, for real (a unique name: the machine may have a mentorgate)
    name = "mgt%d" % os.getpid()
    drop_user(name)
    pw = make_user(users[0], name)
    try:
        run_as_unit(stack, root, state, pw, unit)
    finally:
        drop_user(name)


def run_as_unit(stack, root, state, pw, unit):
    gid = pw.pw_gid
    assert grp.getgrgid(gid).gr_name == pw.pw_name
    os.chown(state, pw.pw_uid, gid)        # as StateDirectory= does
    os.chmod(state, 0o700)
    etc = os.path.join(root, "etc/mentorgate")
    os.makedirs(etc, exist_ok=True)
    os.chmod(etc, 0o755)
    shutil.copy(stack.env["MS_CA"], os.path.join(etc, "ca.pem"))
    os.chmod(os.path.join(etc, "ca.pem"), 0o644)
    share = os.path.join(root, "usr/share/mentorgate")
    conf = os.path.join(etc, "mentorgate.conf")
    db = os.path.join(state, "mentorgate.db")
    text = f"""[programme]
name = NHS Mentoring
relay_address = relay@mentoring.test
database = {db}
templates = {share}/templates

[imap]
host = 127.0.0.1
port = {stack.imap_port}
tls = starttls
ca_file = {etc}/ca.pem
username = relay@mentoring.test
password = secret
processed_mailbox = Processed
poll_interval = 1
timeout = 20

[smtp]
url = smtp://127.0.0.1:{stack.smtp_port}

[moderation]
coordinators = coord@mentoring.test

[screening]
rules = {share}/rules
"""
    with open(conf, "w") as f:
        f.write(text)
    os.chown(conf, 0, gid)                  # root:GROUP 0640, password inside
    os.chmod(conf, 0o640)
    setpriv = ["setpriv", "--reuid=%d" % pw.pw_uid, "--regid=%d" % gid, "--init-groups",
               "--no-new-privs"]
    sbin = os.path.join(root, "usr/sbin")

    def ctl(*args):
        r = subprocess.run(setpriv + [os.path.join(sbin, "mentorctl"), "-c", conf] + list(args),
                           capture_output=True, text=True, cwd="/")
        assert r.returncode == 0, (args, r.stdout, r.stderr)
        return r.stdout

    # the roster, by mentorctl as the unit's user (as README says)
    csv = os.path.join(root, "people.csv")
    with open(csv, "w") as f:
        f.write("role,name,email,cohort,segment\n"
                "mentee,Alex Smith,alex@school.test,W1,school\n"
                "mentor,Sam Jones,sam@nhs.test,W1,nhs\n"
                "coordinator,Chris Coord,coord@mentoring.test,,\n")
    os.chmod(csv, 0o644)
    ctl("cohort", "add", "W1", "--start", "2026-09-01", "--weeks", "10")
    ctl("import", csv)
    to_mentor = [l.split()[-1] for l in ctl("pair", MENTEE, MENTOR).splitlines()
                 if l.strip().startswith("mentee")][0]

    # ExecStart, with the scratch root's paths, under the unit's user
    argv = shlex.split(unit["ExecStart"])
    argv = [sbin + "/mentorgated", "--foreground"] + [conf if a == "/etc/mentorgate/mentorgate.conf"
                                                      else a for a in argv[1:]]
    serve(stack, setpriv + argv, conf, text, to_mentor, pw, "North", 1)
    # everything the daemon made in its state directory is the user's, 0600
    for fn in os.listdir(state):
        st = os.stat(os.path.join(state, fn))
        assert st.st_uid == pw.pw_uid and st.st_mode & 0o077 == 0, (fn, oct(st.st_mode))

    # started as root without the unit: a group-readable password is the
    # daemon's group's only when [daemon] user names it
    check = [sbin + "/mentorctl", "-c", conf, "check"]
    r = subprocess.run(check, capture_output=True, text=True)
    assert r.returncode == 78 and "readable by group or others" in r.stderr, r
    text += f"\n[daemon]\nuser = {pw.pw_name}\n"
    with open(conf, "w") as f:
        f.write(text)
    r = subprocess.run(check, capture_output=True, text=True)
    assert r.returncode == 0, r
    # ... and it drops root, opens the same database and reloads as that user
    serve(stack, argv, conf, text, to_mentor, pw, "South", 3)
    assert os.stat(db).st_uid == pw.pw_uid


def serve(stack, argv, conf, text, to_mentor, pw, suffix, n):
    """Run argv; as pw it relays a message, then, told a new programme name
    by SIGHUP, relays the next under that name (n: the first's number)."""
    d = UnitDaemon(argv)
    try:
        d.wait_log("daemon started")
        with open(f"/proc/{d.proc.pid}/status") as f:
            ids = {l.split(":")[0]: l.split()[1:] for l in f if l.startswith(("Uid", "Gid"))}
        assert ids["Uid"] == [str(pw.pw_uid)] * 4 and ids["Gid"] == [str(pw.pw_gid)] * 4, ids
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "one", "first"))
        assert stack.wait_count(MENTOR, n, timeout=30) == n

        # SIGHUP (ExecReload) rereads the root-owned file: the new name is used
        with open(conf, "w") as f:
            f.write(text.replace("name = NHS Mentoring", "name = NHS Mentoring " + suffix))
        os.kill(d.proc.pid, signal.SIGHUP)
        d.wait_log("conf reloaded path=" + conf)
        stack.send(MENTEE, to_mentor, make_mail(MENTEE, to_mentor, "two", "second"))
        assert stack.wait_count(MENTOR, n + 1, timeout=30) == n + 1
        names = [parse(m)["From"].addresses[0].display_name for m in stack.messages(MENTOR)]
        assert sorted(names[n - 1:]) == ["Alex (mentee) via NHS Mentoring",
                                         "Alex (mentee) via NHS Mentoring " + suffix], names
    finally:
        assert d.stop() == 0, d.log()
        with open(conf, "w") as f:
            f.write(text)
    assert "reload-rejected" not in d.log(), d.log()
