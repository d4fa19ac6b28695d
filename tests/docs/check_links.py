#!/usr/bin/env python3
"""Every relative link in the user documentation resolves, and the README stays short.

Usage: check_links.py REPO_ROOT

Scans README.md, docs/*.md and, where they exist, protocols/README.md, tests/bad-input.md and results/README.md for
Markdown links and images `[text](target)` outside code. http(s) and mailto links are skipped. A relative target
must name an existing file or folder (relative to the file that links to it); a `#anchor` must match the GitHub
slug of a heading (or an explicit <a id/name>) in the target Markdown file. README.md must have at most 250 lines
and no line over 120 characters. Prints one line per problem (`file:line: link 'target' -> missing file` or
`missing anchor`) and exits 1, or prints "N links checked, 0 broken" and exits 0. Standard library only.
"""
import os
import re
import sys
import unicodedata
from urllib.parse import unquote

README_MAX_LINES = 250
README_MAX_WIDTH = 120
EXTRA_FILES = ("protocols/README.md", "tests/bad-input.md", "results/README.md")

FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
INLINE_CODE = re.compile(r"(`+)(.+?)\1")
# [text](target) or [text](target "title"); text may hold one level of nested brackets (images inside links).
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\[\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_ANCHOR = re.compile(r"<a\s+(?:[^>]*?\s)?(?:id|name)=\"([^\"]+)\"", re.IGNORECASE)


def prose_lines(path):
    """(line number, text) of every line outside fenced code blocks."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    fence = None
    for no, line in enumerate(lines, 1):
        m = FENCE.match(line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            continue
        if m:
            fence = m.group(1)
            continue
        yield no, line


def slug(heading):
    """GitHub's anchor for a heading: the rendered text, lower-cased, punctuation dropped, spaces made hyphens."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # links and images → their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("`", "").replace("*", "")
    out = []
    for ch in text.lower():
        cat = unicodedata.category(ch)
        if ch in " -_" or cat[0] in "LNM":
            out.append("-" if ch == " " else ch)
    return "".join(out)


_anchor_cache = {}


def anchors(path):
    if path not in _anchor_cache:
        seen = {}
        found = set()
        for _, line in prose_lines(path):
            for a in HTML_ANCHOR.findall(line):
                found.add(a)
            m = HEADING.match(line)
            if not m:
                continue
            base = slug(m.group(2))
            n = seen.get(base, 0)
            seen[base] = n + 1
            found.add(base if n == 0 else f"{base}-{n}")
        _anchor_cache[path] = found
    return _anchor_cache[path]


def check_file(root, rel, problems):
    path = os.path.join(root, rel)
    count = 0
    for no, line in prose_lines(path):
        text = INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line)
        for m in LINK.finditer(text):
            target = m.group(1)
            if re.match(r"^(https?:|mailto:)", target, re.IGNORECASE):
                continue
            count += 1
            file_part, _, anchor = target.partition("#")
            dest = os.path.normpath(os.path.join(os.path.dirname(path), unquote(file_part))) if file_part else path
            if not os.path.exists(dest):
                problems.append(f"{rel}:{no}: link '{target}' -> missing file")
                continue
            if anchor:
                if os.path.isdir(dest) or not dest.endswith(".md"):
                    problems.append(f"{rel}:{no}: link '{target}' -> missing anchor (not a Markdown file)")
                elif unquote(anchor).lower() not in {a.lower() for a in anchors(dest)}:
                    problems.append(f"{rel}:{no}: link '{target}' -> missing anchor")
    return count


def main(argv):
    if len(argv) != 2:
        print("usage: check_links.py REPO_ROOT", file=sys.stderr)
        return 2
    root = argv[1]
    files = ["README.md"]
    docs = os.path.join(root, "docs")
    if os.path.isdir(docs):
        files += sorted(os.path.join("docs", f) for f in os.listdir(docs) if f.endswith(".md"))
    files += [f for f in EXTRA_FILES if os.path.isfile(os.path.join(root, f))]

    problems = []
    checked = 0
    for rel in files:
        checked += check_file(root, rel, problems)

    with open(os.path.join(root, "README.md"), encoding="utf-8") as f:
        readme = f.read().split("\n")
    if readme and readme[-1] == "":
        readme.pop()
    if len(readme) > README_MAX_LINES:
        problems.append(f"README.md:{len(readme)}: {len(readme)} lines, more than {README_MAX_LINES}; "
                        "move detail into docs/")
    for no, line in enumerate(readme, 1):
        if len(line) > README_MAX_WIDTH:
            problems.append(f"README.md:{no}: line of {len(line)} characters, more than {README_MAX_WIDTH}")

    for p in problems:
        print(p)
    if problems:
        print(f"{checked} links checked, {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"{checked} links checked, 0 broken")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
