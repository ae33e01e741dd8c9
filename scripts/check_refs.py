#!/usr/bin/env python3
# check_refs.py - every file and function a comment or a doc names exists in the tree.
#
#   scripts/check_refs.py [ROOT]      exit 0 when all references resolve, 1 (listing them) if not
#
# Where it looks: the comments (/* */ and //) of agent/, parsers/ and outputs/ (.c and .h),
# and the whole text of docs/*.md and README.md.
#
# The rule:
# - A file name ending in .c or .h (`tail.c`, `agent/base/json.h`, `tests/fuzz/fuzz_json.c`)
#   must be a file of the tree: a path with a folder must exist as written (from the root),
#   a bare name must be the name of some tracked file or of a header under /usr/include (a
#   library's, like `rdkafka_mock.h`). Names with a wildcard (`kafka*.c`) or the placeholder
#   NAME (`parsers/NAME.c`) are not checked.
# - A function written with its parentheses (`lf_status_json()`, `reg_set()`) must be
#   defined in the tree (a definition line, a macro, a struct member `(*name)(` or a
#   descriptor field), or declared in a header of the system or of a library we build with
#   (/usr/include: libc, jansson, libcurl, librdkafka, PCRE2, ...), so `fdatasync()` and
#   `curl_easy_perform()` pass without a list. Only names that look like code are checked:
#   with an underscore, or all lower case and followed by `()`.
# - OTHER_PROJECTS lists the files and functions of other projects that the docs name on
#   purpose and that are not installed here (Fluent Bit's tail_file.c, rsyslog's
#   re_extract()); keep it short and say whose each is.
#
# Run by scripts/test before the build and by ctest (core.check_refs, label unit).
import os
import re
import subprocess
import sys

ROOT = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                       os.path.join(os.path.dirname(__file__), ".."))
CODE_DIRS = ("agent", "parsers", "outputs")
DEF_DIRS = ("agent", "parsers", "outputs", "tests", "bench", "scripts", "packaging")

# Names from other projects that our docs cite deliberately (whose, in the comment).
OTHER_PROJECTS = {
    "tail_file.c", "tail_scan.c", "in_tail.c",          # Fluent Bit plugins/in_tail
    "rdkafka.h", "rdkafka.c",                           # librdkafka src/
    "ae.c", "anet.c", "adlist.h", "monotonic.h",        # Redis src/
    "cfilters.h", "curl.h",                             # curl lib/, include/
    "logthrdestdrv.h", "imfile.c",                      # syslog-ng, rsyslog
    "re_extract",                                       # rsyslog RainerScript
}

FILE_RE = re.compile(r"(?<![\w*/.-])((?:[\w.-]+/)*[\w-]+\.[ch])(?![\w*])")
FUNC_RE = re.compile(r"(?<![\w.>-])([A-Za-z_]\w*)\(\)")


def tracked_files():
    try:
        out = subprocess.run(["git", "-C", ROOT, "ls-files", "-co", "--exclude-standard"],
                             capture_output=True, text=True, check=True).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        out = []
        for d, _, fs in os.walk(ROOT):
            if "/build" in d or "/.git" in d:
                continue
            out += [os.path.relpath(os.path.join(d, f), ROOT) for f in fs]
    return out


def comments_of(text):
    """(line number, text) of every comment in C source."""
    for m in re.finditer(r"/\*.*?\*/|//[^\n]*|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'",
                         text, re.S):
        s = m.group(0)
        if s[0] in "\"'":
            continue
        yield text.count("\n", 0, m.start()) + 1, s


def defined_names(files):
    names = set()
    pats = [re.compile(r"^[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*\([^;]*$", re.M),   # definitions
            re.compile(r"^[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*\(.*\)\s*;", re.M),  # prototypes
            re.compile(r"#\s*define\s+([A-Za-z_]\w*)"),
            re.compile(r"\(\s*\*\s*([A-Za-z_]\w*)\s*\)\s*\("),                     # members
            re.compile(r"\.([A-Za-z_]\w*)\s*="),                                       # fields
            re.compile(r"^(?:def|function)\s+([A-Za-z_]\w*)|^([A-Za-z_]\w*)\s*\(\)\s*\{",
                       re.M)]                                                          # py, sh
    for f in files:
        if not f.startswith(DEF_DIRS) or not f.endswith((".c", ".h", ".py", ".sh", ".bash")):
            continue
        try:
            text = open(os.path.join(ROOT, f), encoding="utf-8", errors="replace").read()
        except OSError:
            continue
        for p in pats:
            for m in p.finditer(text):
                names.update(g for g in m.groups() if g)
    return names


_system = None
_system_headers = set()


def system_names():
    global _system
    if _system is None:
        _system = set()
        pat = re.compile(rb"\b([A-Za-z_]\w*)\s*\(")
        for d, _, fs in os.walk("/usr/include"):
            for f in fs:
                _system_headers.add(f)
                if f.endswith(".h"):
                    try:
                        _system.update(m.group(1).decode() for m in
                                       pat.finditer(open(os.path.join(d, f), "rb").read()))
                    except OSError:
                        pass
    return _system


def main():
    files = tracked_files()
    basenames = {os.path.basename(f) for f in files}
    fileset = set(files)
    sources = []  # (path, line, text)
    for f in files:
        if f.startswith(tuple(d + "/" for d in CODE_DIRS)) and f.endswith((".c", ".h")):
            text = open(os.path.join(ROOT, f), encoding="utf-8", errors="replace").read()
            sources += [(f, ln, c) for ln, c in comments_of(text)]
        elif (f.startswith("docs/") and f.endswith(".md")) or f == "README.md":
            for ln, line in enumerate(open(os.path.join(ROOT, f), encoding="utf-8",
                                           errors="replace"), 1):
                sources.append((f, ln, line))
    defined = defined_names(files)
    bad = []
    for f, ln, text in sources:
        for m in FILE_RE.finditer(text):
            name = m.group(1)
            if name in OTHER_PROJECTS or name.startswith(("http", "www.")):
                continue
            if name[0] == "." or re.fullmatch(r"[\d.]+\.[ch]", name):
                continue  # a version number, a sentence's end
            if re.search(r"(^|[/_])NAME([._]|$)", name):
                continue  # a placeholder: `parsers/NAME.c`, `test_parser_NAME.c`
            ok = name in fileset if "/" in name else name in basenames
            if not ok and "/" in name:
                ok = os.path.basename(name) in basenames and not name.startswith(
                    ("agent/", "parsers/", "outputs/", "tests/", "docs/", "scripts/"))
            if not ok:
                system_names()
                ok = os.path.basename(name) in _system_headers
            if not ok:
                bad.append("%s:%d: file %s does not exist" % (f, ln + text.count("\n", 0, m.start()), name))
        for m in FUNC_RE.finditer(text):
            name = m.group(1)
            if "_" not in name and not name.islower():
                continue
            if name in defined or name in OTHER_PROJECTS or name in system_names():
                continue
            bad.append("%s:%d: function %s() is defined nowhere" % (f, ln + text.count("\n", 0, m.start()), name))
    for b in bad:
        print(b)
    if bad:
        print("check_refs: %d reference(s) to files or functions that do not exist (the rule "
              "is in scripts/check_refs.py's header)" % len(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
