#!/usr/bin/env python3
"""Score `mentorctl classify` and `mentorctl extract` over the MIME corpus.

  mime_score.py CORPUS_DIR MENTORCTL [--show N] [--min-bounce P] ...

For every file in CORPUS_DIR/manifest.csv: classify and extract run once
each; a non-zero exit, a signal or a sanitizer report is a crash.  Prints
  bounces: detected D/N (P%), exact address sets A/M (P%), false bounces F/K (P%)
  autoreplies: detected D/N, ordinary messages called autoreply F/K
  crashes: C/T files
and exits 1 when a target is missed.  Python 3 standard library only.
"""
import argparse
import csv
import os
import re
import subprocess
import sys


def run(cmd, path):
    with open(path, 'rb') as f:
        p = subprocess.run(cmd, stdin=f, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=30)
    bad = p.returncode != 0 or b'Sanitizer' in p.stderr or b'runtime error' in p.stderr
    return p.stdout.decode('utf-8', 'replace').strip(), bad, p.stderr.decode('utf-8', 'replace')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('corpus')
    ap.add_argument('mentorctl')
    ap.add_argument('--show', type=int, default=0, help='print up to N misses per kind')
    ap.add_argument('--min-bounce', type=float, default=97.0)
    ap.add_argument('--min-addr', type=float, default=98.0)
    ap.add_argument('--max-false-bounce', type=float, default=1.0)
    a = ap.parse_args()

    rows = list(csv.DictReader(open(os.path.join(a.corpus, 'manifest.csv'), encoding='utf-8')))
    det = n_bounce = addr_ok = n_addr = false_b = n_non = 0
    auto_det = n_auto = false_auto = n_ordinary = crashes = 0
    misses = {'bounce': [], 'addr': [], 'false-bounce': [], 'auto': [], 'false-auto': [],
              'crash': []}
    for r in rows:
        path = os.path.join(a.corpus, r['file'])
        out, bad1, err1 = run([a.mentorctl, 'classify', '-'], path)
        _, bad2, err2 = run([a.mentorctl, 'extract', '-'], path)
        if bad1 or bad2:
            crashes += 1
            misses['crash'].append(r['file'] + ': ' + (err1 + err2)[-300:])
        words = out.split()
        is_bounce = words[:1] == ['bounce']
        bounce_label = re.match(r'bounce=(\w+)', r['notes'])
        bounce_label = bounce_label.group(1) if bounce_label else 'unknown'
        if bounce_label == 'yes':
            n_bounce += 1
            det += is_bounce
            if not is_bounce:
                misses['bounce'].append(r['file'] + ' -> ' + out)
            if r['expect_bounce_addresses']:
                n_addr += 1
                want = set(x.strip().lower() for x in re.split(r'[;,\s]+', r['expect_bounce_addresses']) if x.strip())
                got = set(words[2].split(',')) if is_bounce and len(words) > 2 else set()
                if got == want and words[1:2] == ['permanent']:
                    addr_ok += 1
                else:
                    misses['addr'].append('%s -> %s (want %s)' % (r['file'], out, ','.join(sorted(want))))
        elif r['category'] != 'bounce' and 'dsn' not in r['notes'] and 'is_bounce=1' not in r['notes']:
            # not a bounce: neither labelled one nor carrying a DSN its source noted
            n_non += 1
            if is_bounce:
                false_b += 1
                misses['false-bounce'].append(r['file'] + ' -> ' + out)
        if r['expect_autoreply'] == 'yes':
            n_auto += 1
            auto_det += out == 'autoreply'
            if out != 'autoreply':
                misses['auto'].append(r['file'] + ' -> ' + out)
        elif r['expect_autoreply'] == 'no' and bounce_label != 'yes':
            # ordinary: the source says it is not automatic (unlabelled files
            # include bulk, junk and auto-generated mail, which we do ignore)
            n_ordinary += 1
            if out == 'autoreply':
                false_auto += 1
                misses['false-auto'].append(r['file'])

    def pct(x, n):
        return 100.0 * x / n if n else 100.0

    for k, v in misses.items():
        for line in v[:a.show]:
            print('# miss %s: %s' % (k, line))
    print('bounces: detected %d/%d (%.1f%%), exact address sets %d/%d (%.1f%%), '
          'false bounces %d/%d (%.1f%%)' % (det, n_bounce, pct(det, n_bounce), addr_ok, n_addr,
                                            pct(addr_ok, n_addr), false_b, n_non, pct(false_b, n_non)))
    print('autoreplies: detected %d/%d, ordinary messages called autoreply %d/%d'
          % (auto_det, n_auto, false_auto, n_ordinary))
    print('crashes: %d/%d files' % (crashes, len(rows)))
    checks = [
        (pct(det, n_bounce) >= a.min_bounce, 'bounce detection >= %.0f%%' % a.min_bounce),
        (pct(addr_ok, n_addr) >= a.min_addr, 'exact address sets >= %.0f%%' % a.min_addr),
        (pct(false_b, n_non) < a.max_false_bounce, 'false bounces < %.0f%%' % a.max_false_bounce),
        (auto_det == n_auto, 'every labelled auto-reply detected'),
        (false_auto == 0, 'no ordinary message called an auto-reply'),
        (crashes == 0, 'no crash or sanitizer report on any corpus file'),
    ]
    passed = 0
    for good, name in checks:
        print('%s - mime corpus: %s' % ('ok' if good else 'not ok', name))
        passed += good
    print('%d passed, %d failed' % (passed, len(checks) - passed))
    return 0 if passed == len(checks) else 1


if __name__ == '__main__':
    sys.exit(main())
