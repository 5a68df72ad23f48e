#!/usr/bin/env python3
"""Independent check of our ERIS-FS vectors (vectors/erisfs/*.json).

An ERIS-FS index encoder written here from the format (the digest in the
project's docs), sharing no code with liberis: deterministic CBOR by hand,
each file's capability from the Python ERIS encoder of check_vectors.py
(itself checked against the official ERIS vectors). For every vector:

  - the path rules hold and the symlink targets stay in the tree unless
    the vector says "external-links" (and then at least one leaves it);
  - the index built from the tree description equals "index" byte for
    byte, its URN equals "urn", each file's URN equals its "urn";
  - the blocks of the files and of the index are exactly "blocks";
  - decoding "urn" against "blocks" gives the index, and each file's URN
    gives its content.

The set as a whole must cover: an empty tree, nested directories, empty
files, executables, symlinks, names equal under Unicode NFC but distinct
as bytes, and files with 1 KiB and with 32 KiB blocks.

Usage: check_erisfs_vectors.py DIR
"""
import base64
import json
import os
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from check_vectors import b2, b32d, chacha20, decode, encode  # noqa: E402

TAG = 1701996916
TYPES = {"file": 0, "executable": 1, "symlink": 2}
NULL_SECRET = bytes(32)


def head(major, n):
    """The shortest CBOR head (RFC 8949 section 4.2.1)."""
    if n < 24:
        return bytes([major << 5 | n])
    for extra, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * width):
            return bytes([major << 5 | extra]) + n.to_bytes(width, "big")
    raise ValueError(n)


def tstr(s):
    b = s.encode("utf-8")
    return head(3, len(b)) + b


def block_size(length):
    """The size rule of eris put: 1 KiB below 16 KiB, else 32 KiB."""
    return 1024 if length < 16384 else 32768


def content_of(node):
    if "content" in node:
        return base64.b64decode(node["content"], validate=True)
    key = b2(node["content-seed"].encode("utf-8"))
    return chacha20(key, 0, bytes(node["size"]))


def path_problem(path):
    if not path:
        return "empty path"
    for c in path:
        if c in ("", ".", "..") or "/" in c or "\0" in c:
            return "bad component %r" % c
    return None


def leaves_tree(path, target):
    """True if the link at `path` points outside the root (lexically)."""
    if target.startswith("/"):
        return True
    depth = len(path) - 1  # the link's directory
    for c in target.split("/"):
        if c == "..":
            depth -= 1
            if depth < 0:
                return True
        elif c not in ("", "."):
            depth += 1
    return False


def check(v):
    external = "external-links" in v.get("flags", [])
    entries = {}
    blocks = {}
    files = []
    any_external = False
    for node in v["tree"]:
        path = tuple(node["path"])
        problem = path_problem(path)
        if problem:
            return "%s: %s" % ("/".join(path), problem)
        key = head(4, len(path)) + b"".join(tstr(c) for c in path)
        if key in entries:
            return "duplicate path %s" % "/".join(path)
        kind = TYPES[node["type"]]
        if kind == 2:
            target = node["target"]
            if not target or "\0" in target:
                return "bad target of %s" % "/".join(path)
            if leaves_tree(path, target):
                any_external = True
                if not external:
                    return "%s leaves the tree" % "/".join(path)
            value = b"\x82\x02" + tstr(target)
        else:
            content = content_of(node)
            urn, fblocks = encode(content, NULL_SECRET,
                                  block_size(len(content)))
            if urn != node["urn"]:
                return "%s: URN %s, expected %s" % ("/".join(path), urn,
                                                    node["urn"])
            blocks.update(fblocks)
            files.append((urn, content))
            cap = b32d(urn[len("urn:eris:"):])
            value = (b"\x82" + head(0, kind) + head(6, 276) +
                     head(2, len(cap)) + cap)
        entries[key] = (path, value)
    if external and not any_external:
        return "flag external-links without an external link"
    paths = {p for p, _ in entries.values()}
    for p in paths:
        for i in range(1, len(p)):
            if p[:i] in paths:
                return "%s is a file and a directory" % "/".join(p[:i])

    index = (head(6, TAG) + head(4, 2) + head(0, 1) + head(5, len(entries)) +
             b"".join(k + entries[k][1] for k in sorted(entries)))
    if index.hex() != v["index"] or len(index) != v["index-length"]:
        return "index bytes differ"
    urn, iblocks = encode(index, NULL_SECRET, block_size(len(index)))
    if urn != v["urn"]:
        return "index URN %s, expected %s" % (urn, v["urn"])
    blocks.update(iblocks)
    given = {b32d(r): b32d(b) for r, b in v["blocks"].items()}
    if given != blocks:
        return "block set differs (%d given, %d computed)" % (len(given),
                                                             len(blocks))
    if decode(v["urn"], given) != index:
        return "the index does not decode from the blocks"
    for furn, content in files:
        if decode(furn, given) != content:
            return "a file does not decode from the blocks"
    return None


def coverage(vectors):
    """What the set as a whole must exercise; the names of what is missing."""
    seen = set()
    for v in vectors:
        if not v["tree"]:
            seen.add("empty tree")
        for node in v["tree"]:
            if len(node["path"]) > 2:
                seen.add("nested directories")
            if node["type"] == "symlink":
                seen.add("symlink")
                continue
            if node["type"] == "executable":
                seen.add("executable")
            size = len(content_of(node))
            if size == 0:
                seen.add("empty file")
            seen.add("32 KiB blocks" if size >= 16384 else "1 KiB blocks")
        names = {}
        for node in v["tree"]:
            for c in node["path"]:
                names.setdefault(unicodedata.normalize("NFC", c), set()).add(c)
        if any(len(s) > 1 for s in names.values()):
            seen.add("NFC/NFD look-alikes")
    want = {"empty tree", "nested directories", "symlink", "executable",
            "empty file", "32 KiB blocks", "1 KiB blocks",
            "NFC/NFD look-alikes"}
    return sorted(want - seen)


def main(d):
    passed = failed = 0
    vectors = []
    for name in sorted(os.listdir(d)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(d, name), encoding="utf-8") as f:
            v = json.load(f)
        vectors.append(v)
        problem = check(v)
        if problem:
            failed += 1
            print("FAIL %s: %s" % (name, problem))
        else:
            passed += 1
    missing = coverage(vectors)
    if missing:
        failed += 1
        print("FAIL the vectors do not cover: %s" % ", ".join(missing))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]) if len(sys.argv) == 2 else 2)
