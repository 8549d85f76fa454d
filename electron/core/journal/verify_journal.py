#!/usr/bin/env python3
"""Checks a qpki ceremony journal (journal.jsonl) without the qpki app: for auditors.

Each entry's hash is the SHA-256 of its RFC 8785 canonical JSON without the "hash" member;
each entry's "prev" is the previous entry's hash (64 zeros for the first). Python's
json.dumps(sort_keys=True, separators=(',', ':'), ensure_ascii=False) gives the same bytes as
RFC 8785 for what the journal holds (integers, strings, booleans, null, arrays, objects),
as long as no object key mixes characters above U+FFFF with ones in U+E000..U+FFFF (RFC 8785
sorts keys by UTF-16 code units, Python by code points) and no fact is a non-integer number.

Usage: python3 verify_journal.py CA_DIR/journal.jsonl [HASH_WRITTEN_ON_PAPER]
Exit status 0 when intact, 1 when not.
"""
import hashlib
import json
import sys


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(',', ':'), ensure_ascii=False, allow_nan=False)


def main(path, paper=None):
    data = open(path, 'rb').read()
    lines = data.split(b'\n')
    tail = lines.pop()
    prev, hashes = '0' * 64, []
    for n, raw in enumerate(lines, start=1):
        expected = len(hashes) + 1
        try:
            entry = json.loads(raw.decode('utf-8'))
        except ValueError:
            return fail(expected, n, 'line is not valid JSON')
        if entry.get('seq') != expected:
            return fail(expected, n, 'found entry %r where %d belongs' % (entry.get('seq'), expected))
        if entry.get('prev') != prev:
            return fail(expected, n, 'does not chain to the entry before')
        body = {k: v for k, v in entry.items() if k != 'hash'}
        digest = hashlib.sha256(canonical(body).encode('utf-8')).hexdigest()
        if digest != entry.get('hash'):
            return fail(expected, n, 'content does not match its hash')
        prev = digest
        hashes.append(digest)
    if tail:
        return fail(len(hashes) + 1, len(lines) + 1, 'truncated last entry')
    if paper is not None:
        wanted = ''.join(paper.split()).replace(':', '').lower()
        if wanted not in hashes:
            return fail(len(hashes) + 1, len(lines) + 1, 'the hash written on paper is not in the journal')
    print('OK %d entries, last hash %s' % (len(hashes), prev))
    return 0


def fail(seq, line, reason):
    print('BROKEN at entry %d (line %d): %s' % (seq, line, reason))
    return 1


if __name__ == '__main__':
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], ' '.join(sys.argv[2:]) if len(sys.argv) == 3 else None))
