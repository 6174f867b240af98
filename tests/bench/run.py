#!/usr/bin/env python3
"""make bench: messages per second for MIME normalisation + reply extraction
over the corpora, in one process, and the same bodies through planer and
email-reply-parser (the npm packages the issue names) measured in this run.

  run.py BENCH_BINARY
"""
import email
import email.policy
import json
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get('MENTORGATE_SHARED', os.path.join(ROOT, '..', 'shared'))
WORK = os.path.join(ROOT, 'build', 'bench-work')
PEERS = {'planer': '1.2.0', 'email-reply-parser': '2.3.9'}

JS = r"""
const fs = require('fs');
const planer = require('planer');
const erp = require('email-reply-parser');
const EmailReplyParser = erp.default || erp;
const bodies = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
function run(name, fn) {
  const start = process.hrtime.bigint();
  let n = 0, secs = 0;
  do {
    for (const b of bodies) { fn(b); n++; }
    secs = Number(process.hrtime.bigint() - start) / 1e9;
  } while (secs < 2);
  console.log(JSON.stringify({name, messages: n, seconds: secs, rate: n / secs}));
}
run('planer', b => planer.extractFrom(b, 'text/plain'));
run('email-reply-parser', b => new EmailReplyParser().read(b).getVisibleText());
"""


def text_body(raw):
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    part = msg.get_body(preferencelist=('plain', 'html'))
    try:
        return part.get_content() if part else ''
    except Exception:
        return ''


def bench(binary, mode, files, rules=None):
    listfile = os.path.join(WORK, mode + '.list')
    with open(listfile, 'w') as f:
        f.write('\n'.join(files) + '\n')
    out = subprocess.run([binary, mode, listfile, '2'] + ([rules] if rules else []),
                         capture_output=True, text=True, check=True).stdout
    return dict(kv.split('=') for kv in out.split())


def peers(bodies_json):
    node, npm = shutil.which('node'), shutil.which('npm')
    if not (node and npm):
        print('# peers: skipped (node and npm are not installed)')
        return []
    nm = os.path.join(WORK, 'node')
    os.makedirs(nm, exist_ok=True)
    if not all(os.path.isdir(os.path.join(nm, 'node_modules', p)) for p in PEERS):
        r = subprocess.run([npm, 'install', '--no-audit', '--no-fund', '--silent', '--prefix', nm]
                           + ['%s@%s' % kv for kv in PEERS.items()], capture_output=True, text=True)
        if r.returncode != 0:
            print('# peers: skipped (npm install failed: %s)' % r.stderr.strip()[-200:])
            return []
    script = os.path.join(nm, 'peers.js')
    with open(script, 'w') as f:
        f.write(JS)
    r = subprocess.run([node, script, bodies_json], capture_output=True, text=True, cwd=nm)
    if r.returncode != 0:
        print('# peers: failed: %s' % r.stderr.strip()[-300:])
        return []
    return [json.loads(l) for l in r.stdout.splitlines() if l.startswith('{')]


def main():
    binary = sys.argv[1]
    os.makedirs(WORK, exist_ok=True)
    mime_dir = os.path.join(SHARED, 'corpora', 'mime')
    reply_dir = os.path.join(SHARED, 'corpora', 'reply')
    emls = []
    if os.path.isdir(mime_dir):
        for dirpath, _, names in os.walk(mime_dir):
            emls += [os.path.join(dirpath, n) for n in names if n.endswith('.eml')]
    if os.path.isdir(reply_dir):
        emls += [os.path.join(reply_dir, d, 'input.eml') for d in sorted(os.listdir(reply_dir))
                 if os.path.isfile(os.path.join(reply_dir, d, 'input.eml'))]
    if not emls:
        print('# corpora not present beside the clone: benchmarking tests/fuzz/seeds only')
        seeds = os.path.join(ROOT, 'tests', 'fuzz', 'seeds', 'mime')
        emls = [os.path.join(seeds, n) for n in sorted(os.listdir(seeds))]
    emls.sort()
    # screening as the relay does it, with the shipped rules (and, given
    # MENTORGATE_RULES_BEFORE, another set to compare with), in microseconds
    # a message over the mime corpus and the safeguarding set
    guard = os.path.join(SHARED, 'corpora', 'safeguard', 'cases')
    screened = emls + ([os.path.join(guard, n) for n in sorted(os.listdir(guard))]
                       if os.path.isdir(guard) else [])
    for name, rules in (('shipped rules', os.path.join(ROOT, 'conf', 'rules')),
                        ('rules before', os.environ.get('MENTORGATE_RULES_BEFORE'))):
        if rules:
            r = bench(binary, 'screen', screened, rules)
            print('mentorgate screen (%s): %d messages in %.2fs: %.1f us a message, slowest %s ms'
                  % (name, int(r['messages']), float(r['seconds']),
                     1e6 * float(r['seconds']) / int(r['messages']), r['max_ms']))
    full = bench(binary, 'eml', emls)
    print('mentorgate normalise+extract: %d messages (%d files) in %.2fs: %s msg/s, slowest %s ms'
          % (int(full['messages']), len(emls), float(full['seconds']), full['rate'],
             full['max_ms']))

    # the reply bodies, decoded once, for extraction alone
    bodies = []
    for p in emls:
        if '/corpora/reply/' in p or '/seeds/' in p:
            with open(p, 'rb') as f:
                bodies.append(text_body(f.read()))
    files = []
    for i, b in enumerate(bodies):
        fn = os.path.join(WORK, 'body-%04d.txt' % i)
        with open(fn, 'w', encoding='utf-8') as f:
            f.write(b)
        files.append(fn)
    ours = bench(binary, 'text', files)
    rate = float(ours['rate'])
    print('mentorgate extract: %d bodies in %.2fs: %.0f bodies/s, slowest %s ms'
          % (int(ours['messages']), float(ours['seconds']), rate, ours['max_ms']))
    bodies_json = os.path.join(WORK, 'bodies.json')
    with open(bodies_json, 'w', encoding='utf-8') as f:
        json.dump(bodies, f)
    for p in peers(bodies_json):
        print('%s (node, same bodies): %.0f bodies/s; mentorgate is %.1fx faster'
              % (p['name'], p['rate'], rate / p['rate']))


if __name__ == '__main__':
    main()
