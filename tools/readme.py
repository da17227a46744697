#!/usr/bin/env python3
"""Regenerates the generated regions of README.md so it stays true:
<!-- BEGIN name --> ... <!-- END name --> regions are replaced by
  config  : `wirewatch config reference` (needs build/bin/wirewatch)
  doc:X   : docs/X.md without its first heading, headings demoted one level
Usage: tools/readme.py [--check]   (--check exits 1 when README.md is stale)"""
import re, subprocess, sys, pathlib

root = pathlib.Path(__file__).resolve().parent.parent
readme = root / "README.md"

def doc(name):
    text = (root / "docs" / f"{name}.md").read_text()
    lines = text.splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    out = []
    fence = False
    for l in lines:
        if l.startswith("```"):
            fence = not fence
        if not fence and l.startswith("#"):
            l = "#" + l
        out.append(l)
    return "\n".join(out).strip()

def gen(name):
    if name == "config":
        exe = root / "build" / "bin" / "wirewatch"
        return subprocess.run([str(exe), "config", "reference"], check=True,
                              capture_output=True, text=True).stdout.strip()
    if name.startswith("doc:"):
        return doc(name[4:])
    raise SystemExit(f"unknown region {name}")

src = readme.read_text()
def repl(m):
    return f"<!-- BEGIN {m.group(1)} -->\n{gen(m.group(1))}\n<!-- END {m.group(1)} -->"
new = re.sub(r"<!-- BEGIN (\S+) -->.*?<!-- END \1 -->", repl, src, flags=re.S)
if "--check" in sys.argv:
    sys.exit(0 if new == src else 1)
readme.write_text(new)
