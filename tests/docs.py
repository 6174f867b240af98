#!/usr/bin/env python3
"""The manuals agree with the programs: every mentorctl command in --help is
in mentorctl(8) and the other way round, every configuration key the parser
knows is in mentorgate.conf(5), the pages render without warnings, and
`make install` puts everything in place.  Ends with "N passed, N failed"."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, os.environ.get("BUILD", "build"))
passed = failed = 0


def check(good, name):
    global passed, failed
    print(("ok - " if good else "not ok - ") + name)
    passed += bool(good)
    failed += not good


def page(name):
    with open(os.path.join(ROOT, "man", name)) as f:
        return f.read()


def words(roff):
    """The text of a page, roff escapes and fonts dropped."""
    t = re.sub(r"\\f[BIRP]", "", roff).replace("\\-", "-")
    return re.sub(r"^\.(TP|B|BI|BR|IR|IB|RB|I|PP|br|nf|fi)\s*", "", t, flags=re.M)


helptext = subprocess.run([os.path.join(BUILD, "mentorctl"), "--help"], capture_output=True,
                          text=True).stdout
ctl = words(page("mentorctl.8"))
commands = set()
for line in helptext.splitlines():
    m = re.match(r"\s+(?:mentorctl (?:\[-c FILE\] |-c FILE )?)?([a-z]+(?: [a-z]+)?)\b", line)
    if m and not line.strip().startswith(("usage", "commands", "exit")):
        commands.add(m.group(1))
missing = sorted(c for c in commands if c.split()[0] not in ctl)
check(commands and not missing, "every command of mentorctl --help is in mentorctl(8) %s" % missing)
manual = set(re.findall(r"^\.BI? \"?([a-z]+)", page("mentorctl.8"), re.M))
undocumented = sorted(c for c in manual if c not in helptext and c not in ("mentorctl",))
check(not undocumented, "every command of mentorctl(8) is in --help %s" % undocumented)

# each command's own help (mentorctl [-c FILE] COMMAND --help): exit 0, and
# every option it names is in mentorctl(8)
manpage = open(os.path.join(ROOT, "man", "mentorctl.8")).read().replace("\\-", "-")
bad_help = []
for cmd in sorted(commands):
    r = subprocess.run([os.path.join(BUILD, "mentorctl"), cmd, "--help"], capture_output=True, text=True)
    opts = set(re.findall(r"--[a-z]+", r.stdout))
    if r.returncode != 0 or cmd not in r.stdout or not opts <= set(re.findall(r"--[a-z]+", manpage)):
        bad_help.append(cmd)
check(not bad_help, "each command's --help exits 0 and agrees with mentorctl(8) %s" % bad_help)

# every mentorgated option in --help is in mentorgated(8), and the other way round
dhelp = subprocess.run([os.path.join(BUILD, "mentorgated"), "--help"], capture_output=True,
                       text=True).stderr
dman = open(os.path.join(ROOT, "man", "mentorgated.8")).read().replace("\\-", "-")
hopts = set(re.findall(r"--[a-z]+", dhelp))
mopts = set(re.findall(r"--[a-z]+", dman))
check(len(hopts) >= 5 and hopts == mopts,
      "mentorgated --help and mentorgated(8) list the same options %s" % sorted(hopts ^ mopts))

src = open(os.path.join(ROOT, "daemon", "conf.c")).read()
keys = set(re.findall(r'\{ "[a-z]+", "([a-z_]+)", K_', src))
for f in ("sched.c", "survey.c"):
    keys |= set(re.findall(r'strcmp\(key, "([a-z_]+)"\)', open(os.path.join(ROOT, "daemon", f)).read()))
conf5 = words(page("mentorgate.conf.5"))
missing = sorted(k for k in keys if not re.search(r"\b%s\b" % re.escape(k), conf5))
check(len(keys) > 40 and not missing, "every configuration key is in mentorgate.conf(5) %s" % missing)

for name in ("mentorgated.8", "mentorctl.8", "mentorgate.conf.5"):
    r = subprocess.run(["groff", "-man", "-ww", "-z", os.path.join(ROOT, "man", name)],
                       capture_output=True, text=True)
    check(r.returncode == 0 and not r.stderr.strip(), "%s renders without warnings %s" % (name, r.stderr))

def install(dest, prefix):
    b = os.path.basename(BUILD)     # the sanitizer builds: the same flags
    san = ["TSAN=1"] if b.endswith("tsan") else ["SAN=1"] if b.endswith("san") else []
    return subprocess.run(["make", "-s", "-C", ROOT, "install", "DESTDIR=" + dest, "PREFIX=" + prefix,
                           "BUILD=" + os.path.relpath(BUILD, ROOT)] + san, capture_output=True, text=True)


with tempfile.TemporaryDirectory() as dest:
    r = install(dest, "/usr")
    want = ["usr/sbin/mentorgated", "usr/sbin/mentorctl", "usr/share/man/man5/mentorgate.conf.5",
            "usr/share/man/man8/mentorctl.8", "usr/share/mentorgate/rules/70-risk.rules",
            "usr/share/mentorgate/templates/welcome-mentee.txt",
            "usr/share/mentorgate/mentorgate.conf.example", "usr/lib/sysusers.d/mentorgate.conf",
            "usr/lib/tmpfiles.d/mentorgate.conf"]
    absent = [w for w in want if not os.path.exists(os.path.join(dest, w))]
    check(r.returncode == 0 and not absent, "make install DESTDIR=... PREFIX=/usr %s %s" % (absent, r.stderr[-300:]))
    unit = os.path.join(dest, "usr/lib/systemd/system/mentorgated.service")
    text = open(unit).read() if os.path.exists(unit) else ""
    check("ExecStart=/usr/sbin/mentorgated -c " in text and "Type=notify" in text
          and "\nUser=mentorgate\n" in text,
          "the systemd unit is installed, Type=notify, as the user mentorgate, pointing at PREFIX's mentorgated")
    # systemd's own reading of the unit (it needs no running systemd)
    if shutil.which("systemd-analyze"):
        with tempfile.TemporaryDirectory() as d:
            copy = os.path.join(d, "mentorgated.service")
            with open(copy, "w") as f:      # the binary as installed under DESTDIR
                f.write(text.replace("/usr/sbin/", dest + "/usr/sbin/"))
            r = subprocess.run(["systemd-analyze", "verify", "--man=no", copy], capture_output=True,
                               text=True, timeout=60)
            check(r.returncode == 0 and not r.stderr.strip(),
                  "systemd-analyze verify: the unit is clean %s" % r.stderr)

with tempfile.TemporaryDirectory() as dest:
    prefix = "/opt/mg"
    r = install(dest, prefix)
    example = os.path.join(dest, "opt/mg/share/mentorgate/mentorgate.conf.example")
    text = open(example).read() if os.path.exists(example) else ""
    unit = os.path.join(dest, "opt/mg/lib/systemd/system/mentorgated.service")
    utext = open(unit).read() if os.path.exists(unit) else ""
    check(r.returncode == 0 and "templates = /opt/mg/share/mentorgate/templates" in text
          and "rules = /opt/mg/share/mentorgate/rules" in text and "/usr/share/mentorgate" not in text
          and "ExecStart=/opt/mg/sbin/mentorgated " in utext
          and os.path.exists(os.path.join(dest, "opt/mg/lib/sysusers.d/mentorgate.conf")),
          "make install PREFIX=/opt/mg: the example configuration and the unit name PREFIX's paths")

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
