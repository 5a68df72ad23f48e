#!/usr/bin/env python3
"""Copy every docs/examples/*.c into docs/guide.md, replacing the block
after its "<!-- example: NAME.c -->" marker (tests/docs checks that the
two agree)."""
import glob
import os
import re
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
guide_path = os.path.join(root, "docs", "guide.md")
guide = open(guide_path).read()
for path in sorted(glob.glob(os.path.join(root, "docs", "examples", "*.c"))):
    name = os.path.basename(path)
    marker = "<!-- example: %s -->\n```c\n" % name
    at = guide.find(marker)
    if at < 0:
        sys.exit("guide.md has no block for %s" % name)
    start = at + len(marker)
    end = guide.index("```\n", start)
    guide = guide[:start] + open(path).read() + guide[end:]
open(guide_path, "w").write(guide)
