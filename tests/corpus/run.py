#!/usr/bin/env python3
"""Corpus checks: reply extraction and message classification scored over the
public corpora beside the clone (../shared, or $MENTORGATE_SHARED).  A clone
without them prints that the checks are skipped.  Ends with "N passed, N failed".
"""
import json
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import screen_eval  # noqa: E402

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
    """The screening set in two parts.  Cases below 1000 are the ones the
    rules were written against: held to 95 % recall, 90 % in every
    category, 2 % false alarms.  Cases from 1000 up were written later by
    others; their odd half is blind (scored, never listed here, so nobody
    tunes to it).  On those, until issue 21 is closed, the check is a floor
    at the level last measured, so a change that loses ground on text
    nobody tuned to fails."""
    # (a sanitizer build: every case through one process, see score_batch)
    rows, out = screen_eval.score_batch() if os.environ.get('SAN') == '1' else screen_eval.score()
    if rows is None:
        print('# safeguard corpus: skipped (../shared/corpora/safeguard not present)')
        return
    for line in out:
        print('# screen (all): ' + line)
    num = screen_eval.num
    old = [r for r in rows if 0 <= num(r) < 1000]
    new = [r for r in rows if num(r) >= 1000]
    for r in new:
        wrong = not (set(r['printed']) & set(r['labels'])) if r['labels'] else bool(r['printed'])
        if not screen_eval.blind(r) and (wrong or r['error']):
            print('# screen (new, readable): %s want=%s got=%s' % (
                r['file'], ';'.join(r['labels']) or 'none', ','.join(r['printed']) or '-'))
    check(len(old) >= 100 and len(new) >= 100, 'the screening set was scored (%d + %d cases)'
          % (len(old), len(new)))
    rec, per, fa, npos, nneg = screen_eval.stats(old)
    print('# ' + screen_eval.table('screen (original)', old))
    check(rec >= 95.0, 'screening recall at least 95% on the original cases')
    check(len(per) == 8 and min(per.values()) >= 90.0,
          'screening recall at least 90% in every category on the original cases')
    check(fa <= 2.0, 'screening false alarms at most 2% on the original cases')
    print('# ' + screen_eval.table('screen (new, readable)', [r for r in new if not screen_eval.blind(r)]))
    print('# ' + screen_eval.table('screen (new, blind)', [r for r in new if screen_eval.blind(r)]))
    rec, per, fa, npos, nneg = screen_eval.stats(new)
    # (floors: 57 % and 5.6 % when these cases came; 87.8 % and 1.7 % after
    # the rules were rewritten from the categories; 95.5 % and 2.2 % with
    # the statistical second opinion; each with a margin)
    check(rec >= 93.0, 'screening recall on the later cases at least 93%%: %.1f%%' % rec)
    check(fa <= 3.0, 'screening false alarms on the later cases at most 3%%: %.1f%%' % fa)


def model():
    """The shipped model was made from what the project holds now: its
    header names the sets and counts the messages (`make model` remakes it)."""
    import train_model
    path = os.path.join(ROOT, 'conf', 'rules', 'screen.model')
    with open(path) as fh:
        head = fh.read(2000)
    sets = os.path.join(ROOT, 'tests', 'corpus', 'sets')
    names = sorted(d for d in os.listdir(sets) if os.path.isfile(os.path.join(sets, d, 'labels.csv')))
    m = re.search(r'Trained on (\d+) labelled messages.*?tests/corpus/sets/ \(([^)]*)\)', head, re.S)
    check(m is not None and m.group(2).split(', ') == names,
          'screen.model was trained on tests/corpus/sets/ as it is (%s)' % ', '.join(names))
    with open(path) as fh:
        held = dict(line[2:].split() for line in fh if line.startswith('c:'))
    classes = train_model.word_classes()
    check(held == classes, 'screen.model holds the word classes of tests/corpus/word_classes.tsv '
          '(%d of %d words)' % (len(held), len(classes)))
    shared = os.path.join(SHARED, 'corpora', 'safeguard')
    if not os.path.isfile(os.path.join(shared, 'labels.csv')):
        print('# screen.model size of training: skipped (%s not present)' % shared)
        return
    n = len(list(train_model.cases(shared, True)))
    n += sum(len(list(train_model.cases(os.path.join(sets, d), False))) for d in names)
    check(m is not None and int(m.group(1)) == n,
          'screen.model was trained on the %d messages there are (make model)' % n)


reply()
mime()
model()
safeguard()
print('%d passed, %d failed' % (passed, failed))
sys.exit(1 if failed else 0)
