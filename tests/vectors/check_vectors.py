#!/usr/bin/env python3
"""Independent check of ERIS test vectors, sharing no code with liberis.

A small re-implementation of ERIS 1.0.0 in plain Python: BLAKE2b from
hashlib, ChaCha20 (RFC 8439) written out here. For every JSON vector in the
directories given:

  positive: encoding the content reproduces the URN and exactly the block
            set, and decoding the URN against the blocks gives the content;
  negative: decoding fails, by the rule in "x-expected-error" (our own
            vectors) or the rule the spec digest's table names (official).

Run it on the official vectors first: that they pass is what makes its
verdict on our own vectors worth something.

Usage: check_vectors.py DIR [DIR...]
"""
import base64
import hashlib
import json
import os
import struct
import sys

MASK = 0xFFFFFFFF


def rotl(v, n):
    return ((v << n) & MASK) | (v >> (32 - n))


def chacha20_block(key_words, counter, nonce_words):
    state = [0x61707865, 0x3320646E, 0x79622D32, 0x6B206574,
             *key_words, counter, *nonce_words]
    x = list(state)

    def quarter(a, b, c, d):
        x[a] = (x[a] + x[b]) & MASK; x[d] = rotl(x[d] ^ x[a], 16)
        x[c] = (x[c] + x[d]) & MASK; x[b] = rotl(x[b] ^ x[c], 12)
        x[a] = (x[a] + x[b]) & MASK; x[d] = rotl(x[d] ^ x[a], 8)
        x[c] = (x[c] + x[d]) & MASK; x[b] = rotl(x[b] ^ x[c], 7)

    for _ in range(10):
        quarter(0, 4, 8, 12); quarter(1, 5, 9, 13)
        quarter(2, 6, 10, 14); quarter(3, 7, 11, 15)
        quarter(0, 5, 10, 15); quarter(1, 6, 11, 12)
        quarter(2, 7, 8, 13); quarter(3, 4, 9, 14)
    return struct.pack("<16I", *((x[i] + state[i]) & MASK for i in range(16)))


def chacha20(key, level, data):
    """data XOR ChaCha20(key, nonce = [level, 0 x 11], counter 0)."""
    key_words = struct.unpack("<8I", key)
    nonce_words = struct.unpack("<3I", bytes([level]) + bytes(11))
    stream = b"".join(chacha20_block(key_words, i, nonce_words)
                      for i in range((len(data) + 63) // 64))
    n = len(data)
    return (int.from_bytes(data, "little") ^
            int.from_bytes(stream[:n], "little")).to_bytes(n, "little")


def b2(data, key=b""):
    return hashlib.blake2b(data, digest_size=32, key=key).digest()


def b32d(s):
    return base64.b32decode(s + "=" * (-len(s) % 8))


def b32e(b):
    return base64.b32encode(b).decode().rstrip("=")


def encode(content, secret, bs):
    blocks = {}
    padded = content + b"\x80" + bytes(bs - 1 - len(content) % bs)
    pairs = []
    for i in range(0, len(padded), bs):
        leaf = padded[i:i + bs]
        key = b2(leaf, secret)
        block = chacha20(key, 0, leaf)
        ref = b2(block)
        blocks[ref] = block
        pairs.append(ref + key)
    level, arity = 0, bs // 64
    while len(pairs) > 1:
        level += 1
        upper = []
        for i in range(0, len(pairs), arity):
            node = b"".join(pairs[i:i + arity])
            node += bytes(bs - len(node))
            key = b2(node)
            block = chacha20(key, level, node)
            ref = b2(block)
            blocks[ref] = block
            upper.append(ref + key)
        pairs = upper
    code = {1024: 0x0A, 32768: 0x0F}[bs]
    cap = bytes([code, level]) + pairs[0]
    return "urn:eris:" + b32e(cap), blocks


class Fail(Exception):
    def __init__(self, rule):
        super().__init__(rule)
        self.rule = rule


def decode(urn, blocks):
    cap = b32d(urn[len("urn:eris:"):])
    bs = {0x0A: 1024, 0x0F: 32768}[cap[0]]
    level, ref, key = cap[1], cap[2:34], cap[34:66]

    def deref(r, k, lvl):
        if r not in blocks:
            raise Fail("R1")
        block = blocks[r]
        if len(block) != bs:
            raise Fail("R2")
        if b2(block) != r:
            raise Fail("R3")
        return chacha20(k, lvl, block)

    def pairs(node):
        out = []
        for i in range(0, bs, 64):
            slot = node[i:i + 64]
            if slot == bytes(64):
                if node[i:] != bytes(bs - i):
                    raise Fail("R5")
                break
            out.append((slot[:32], slot[32:]))
        if not out:
            raise Fail("R5")
        return out

    def walk(r, k, lvl):
        node = deref(r, k, lvl)
        if lvl == 0:
            return [node]
        return [leaf for (cr, ck) in pairs(node) for leaf in walk(cr, ck, lvl - 1)]

    if level > 0 and b2(deref(ref, key, level)) != key:
        raise Fail("R4")
    leaves = walk(ref, key, level)
    last = leaves[-1].rstrip(b"\x00")
    if not last.endswith(b"\x80"):
        raise Fail("R6")
    return b"".join(leaves[:-1]) + last[:-1]


OFFICIAL_NEGATIVE = {13: "R1", 14: "R3", 15: "R1", 16: "R3", 17: "R4",
                     18: "R4", 19: "R6", 20: "R2", 21: "R2", 22: "R6",
                     23: "R6", 24: "R5"}


def check(path):
    with open(path) as f:
        v = json.load(f)
    blocks = {b32d(k): b32d(b) for k, b in v["blocks"].items()}
    if v["type"] == "positive":
        content = b32d(v["content"])
        urn, mine = encode(content, b32d(v["convergence-secret"]),
                           v["block-size"])
        if urn != v["urn"]:
            return "URN %s, expected %s" % (urn, v["urn"])
        if mine != blocks:
            return "block set differs"
        if decode(v["urn"], blocks) != content:
            return "decoded content differs"
        return None
    want = v.get("x-expected-error") or OFFICIAL_NEGATIVE[v["id"]]
    try:
        decode(v["urn"], blocks)
    except Fail as e:
        return None if e.rule == want else "failed by %s, expected %s" % (e.rule, want)
    return "decoded, expected failure %s" % want


def main(dirs):
    passed = failed = 0
    for d in dirs:
        for name in sorted(os.listdir(d)):
            if not name.endswith(".json"):
                continue
            problem = check(os.path.join(d, name))
            if problem:
                failed += 1
                print("FAIL %s: %s" % (name, problem))
            else:
                passed += 1
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]) if len(sys.argv) > 1 else 2)
