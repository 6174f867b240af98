#!/usr/bin/env python3
"""Screening scored over the safeguarding set beside the clone
(../shared/corpora/safeguard), with the project's scorer, in two halves:
the blind half (odd-numbered cases from 1000 up: scored, never listed) and
the working half (every other case).  `make screen-eval` prints recall per
category and false alarms for both; tests/corpus/run.py checks floors."""
import json
import os
import re
import subprocess
import sys
import tempfile

import train_model

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get('MENTORGATE_SHARED', os.path.join(ROOT, '..', 'shared'))
CTL = os.path.join(ROOT, os.environ.get('BUILD', 'build'), 'mentorctl')
CATS = ['contact-phone', 'contact-email', 'social', 'address', 'meeting', 'money', 'risk', 'abuse']


def paths():
    corpus = os.path.join(SHARED, 'corpora', 'safeguard')
    scorer = os.path.join(SHARED, 'tools', 'screen_score.py')
    if os.path.isfile(os.path.join(corpus, 'labels.csv')) and os.path.isfile(scorer):
        return corpus, scorer
    return None, None


def score():
    """The scorer's per-case rows and its own summary lines (None when the
    set is not beside the clone)."""
    corpus, scorer = paths()
    if not corpus:
        return None, []
    env = dict(os.environ, MENTORGATE_RULES=os.path.join(ROOT, 'conf', 'rules'))
    fd, js = tempfile.mkstemp(suffix='.json')
    os.close(fd)
    try:
        # (a sanitizer build loads the rules ten times slower: the scorer's
        # 5 s a case is for the plain build)
        p = subprocess.run([sys.executable, scorer, '--corpus', corpus, '--jobs', '2', '--json', js,
                            '--timeout', '120', '--', CTL, 'rules', 'test', '-'], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, env=env)
        with open(js, encoding='utf-8') as f:
            rows = json.load(f) if os.path.getsize(js) else []
    finally:
        os.unlink(js)
    return rows, p.stdout.splitlines()


def score_batch():
    """As score(), but every case through one `mentorctl rules test
    FILE...` per core (the rules loaded once, not once a case): for the
    sanitizer builds, which load the rules ten times slower and are run to
    find memory errors on real input, not to be judged.  The same screening
    code, the same rows; the judged figures come from score()."""
    corpus, _ = paths()
    if not corpus:
        return None, []
    env = dict(os.environ, MENTORGATE_RULES=os.path.join(ROOT, 'conf', 'rules'))
    cases = [(os.path.relpath(p, corpus), sorted(cats)) for p, cats in train_model.cases(corpus, False)]
    full = {os.path.join(corpus, f): f for f, _ in cases}
    got = {f: set() for f, _ in cases}
    paths_ = sorted(full)
    # (-H: every line named, however many files)
    # (a batch is never empty: with no file, rules test would read stdin)
    procs = [subprocess.Popen([CTL, 'rules', 'test', '-H'] + paths_[k::2], env=env,
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True,
                              errors='replace') for k in range(2) if paths_[k::2]]
    bad = []
    for p in procs:
        for line in p.stdout:
            path, _, rest = line.partition(': ')
            word = rest.split()[:1]
            if path in full and word and word[0] in CATS:
                got[full[path]].add(word[0])
        if p.wait():
            bad.append('mentorctl rules test exited %d' % p.returncode)
    rows = [dict(file=f, labels=cats, printed=sorted(got[f]), error='; '.join(bad) or None)
            for f, cats in cases]
    return rows, ['%d cases through mentorctl rules test FILE... (%s)' % (
        len(rows), 'exit status 0' if not bad else bad[0])]


def num(r):
    m = re.search(r'(\d+)\.eml$', r['file'])
    return int(m.group(1)) if m else -1


def blind(r):
    return num(r) >= 1000 and num(r) % 2 == 1


def stats(rows):
    """Recall over positives, recall per category, false alarms over
    negatives, and the counts."""
    cats = {}
    pos = [r for r in rows if r['labels']]
    neg = [r for r in rows if not r['labels']]
    for r in pos:
        for c in r['labels']:
            n, k = cats.get(c, (0, 0))
            cats[c] = (n + 1, k + (c in r['printed'] and not r['error']))
    caught = sum(1 for r in pos if set(r['printed']) & set(r['labels']) and not r['error'])
    alarms = sum(1 for r in neg if r['printed'] or r['error'])
    return (100.0 * caught / max(1, len(pos)), {c: 100.0 * k / n for c, (n, k) in cats.items()},
            100.0 * alarms / max(1, len(neg)), len(pos), len(neg))


def table(name, rows):
    rec, per, fa, npos, nneg = stats(rows)
    return '%-28s recall %5.1f%% of %3d  false alarms %4.1f%% of %3d  | %s' % (
        name, rec, npos, fa, nneg, ' '.join('%s %.0f%%' % (c, per[c]) for c in CATS if c in per))


def main():
    """--working: the working half only (for tuning: the blind half is
    scored at milestones); --misses: also list the working half's misses
    and false alarms (never a blind case)."""
    rows, _ = score()
    if rows is None:
        print('screen-eval: skipped (../shared/corpora/safeguard not present)')
        return 0
    print(table('working half (all but blind)', [r for r in rows if not blind(r)]))
    print(table('  of it, cases below 1000', [r for r in rows if 0 <= num(r) < 1000]))
    print(table('  of it, even cases 1000 up', [r for r in rows if num(r) >= 1000 and not blind(r)]))
    if '--working' not in sys.argv:
        print(table('blind half (odd, 1000 up)', [r for r in rows if blind(r)]))
    if '--misses' in sys.argv:
        for r in rows:
            if blind(r):
                continue
            want, got = set(r['labels']), set(r['printed'])
            if (want and not want & got) or (not want and got) or (want and want - got):
                print('%s want=%s got=%s' % (r['file'], ';'.join(sorted(want)) or 'none',
                                             ','.join(sorted(got)) or '-'))
    return 0


if __name__ == '__main__':
    sys.exit(main())
