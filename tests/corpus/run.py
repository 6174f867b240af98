#!/usr/bin/env python3
"""Corpus checks: reply extraction and message classification scored over the
public corpora beside the clone (../shared, or $MENTORGATE_SHARED).  A clone
without them prints that the checks are skipped.  Ends with "N passed, N failed".
"""
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SHARED = os.environ.get('MENTORGATE_SHARED', os.path.join(ROOT, '..', 'shared'))
CTL = os.path.join(ROOT, os.environ.get('BUILD', 'build'), 'mentorctl')
passed = failed = 0


def check(good, name):
    global passed, failed
    print('%s - %s' % ('ok' if good else 'not ok', name))
    if good:
        passed += 1
    else:
        failed += 1


def reply():
    corpus = os.path.join(SHARED, 'corpora', 'reply')
    scorer = os.path.join(SHARED, 'tools', 'reply_score.py')
    if not (os.path.isdir(corpus) and os.path.isfile(scorer)):
        print('# reply corpus: skipped (%s not present)' % corpus)
        return
    for mode in ('eml', 'body'):
        p = subprocess.run([sys.executable, scorer, '--corpus', corpus, '--mode', mode,
                            '--timeout', '10', '--', CTL, 'extract', '-'],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out = p.stdout
        for line in out.splitlines():
            if re.match(r'(\w+ +\d+ |source|cases|reply-accuracy)', line):
                print('# %s: %s' % (mode, line))
        m = re.search(r'reply-accuracy: (\d+)/(\d+) exact \(([\d.]+)%\)', out)
        check(m is not None and float(m.group(3)) >= 85.0,
              'reply extraction (%s mode) at least 85%% exact' % mode)
        table_bad = any(int(t[0]) or int(t[1]) for t in
                        re.findall(r'^\w+ +\d+ +\d+ +[\d.]+% +[\d.]+ +(\d+) +(\d+)$', out, re.M))
        check(m is not None and not table_bad,
              'reply extraction (%s mode): no case crashed or timed out' % mode)


def mime():
    corpus = os.path.join(SHARED, 'corpora', 'mime')
    if not os.path.isfile(os.path.join(corpus, 'manifest.csv')):
        print('# mime corpus: skipped (%s not present)' % corpus)
        return
    p = subprocess.run([sys.executable, os.path.join(ROOT, 'tests', 'corpus', 'mime_score.py'),
                        corpus, CTL, '--show', '20'], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    for line in p.stdout.splitlines():
        if line.startswith(('ok - ', 'not ok - ')):
            check(line.startswith('ok'), line.split(' - ', 1)[1])
        elif not re.match(r'\d+ passed, \d+ failed', line):
            print('# ' + line)
    check(re.search(r'^\d+ passed, \d+ failed$', p.stdout, re.M) is not None,
          'the mime corpus scorer ran to its end')


def safeguard():
    corpus = os.path.join(SHARED, 'corpora', 'safeguard')
    scorer = os.path.join(SHARED, 'tools', 'screen_score.py')
    if not (os.path.isfile(os.path.join(corpus, 'labels.csv')) and os.path.isfile(scorer)):
        print('# safeguard corpus: skipped (%s not present)' % corpus)
        return
    env = dict(os.environ, MENTORGATE_RULES=os.path.join(ROOT, 'conf', 'rules'))
    p = subprocess.run([sys.executable, scorer, '--corpus', corpus, '--show', '20', '--', CTL,
                        'rules', 'test', '-'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, env=env)
    out = p.stdout
    for line in out.splitlines():
        print('# screen: ' + line)
    m = re.search(r'screen: recall ([\d.]+)% \((\d+)/(\d+) positives\), false alarms ([\d.]+)%', out)
    check(m is not None and float(m.group(1)) >= 95.0, 'screening recall at least 95% overall')
    rows = re.findall(r'^(\S+)\s+(\d+)\s+(\d+)\s+([\d.]+)%\s+\d+$', out, re.M)
    check(len(rows) == 8 and all(float(r[3]) >= 90.0 for r in rows),
          'screening recall at least 90% in every category')
    check(m is not None and float(m.group(4)) <= 2.0, 'screening false alarms at most 2%')


reply()
mime()
safeguard()
print('%d passed, %d failed' % (passed, failed))
sys.exit(1 if failed else 0)
