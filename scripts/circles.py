#!/usr/bin/env python3
# circles.py - the import circles of the code, measured from what the objects call.
#
#   scripts/circles.py BUILD_DIR      (after a build; reads every .o under BUILD_DIR/CMakeFiles
#                                      of the libraries lfbase, lfparsers, lfoutputs, lfagent
#                                      or, in an older tree, lfcore)
#
# A file A depends on a file B when A's object has an undefined symbol that B's object
# defines (nm). Printed: each pair of files that depend on each other (a 2-circle), each
# larger strongly connected component (a circle through 3 files or more), and the totals.
# Calls into the same file and into libraries do not count. Read-only; any machine with nm.
import os
import subprocess
import sys

LIBS = ("lfbase", "lfparsers", "lfoutputs", "lfagent", "lfcore")


def objects(build):
    libs = LIBS
    if os.path.isdir(os.path.join(build, "CMakeFiles", "lfagent.dir")):
        libs = LIBS[:-1]  # a build dir from before the split may still hold lfcore's objects
    for lib in libs:
        top = os.path.join(build, "CMakeFiles", lib + ".dir")
        for d, _, fs in os.walk(top):
            for f in fs:
                if f.endswith(".o"):
                    p = os.path.join(d, f)
                    yield os.path.relpath(p, top)[:-2], p


def nm(path, *flags):
    out = subprocess.run(["nm", *flags, path], capture_output=True, text=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            yield parts[-2], parts[-1]


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else "build"
    defs, undef = {}, {}
    for name, path in objects(build):
        undef[name] = {s for t, s in nm(path, "-u")}
        for t, s in nm(path, "--defined-only"):
            if t in "TDBRC":
                defs[s] = name
    edges = {a: {defs[s] for s in us if s in defs and defs[s] != a} for a, us in undef.items()}
    pairs = sorted({tuple(sorted((a, b))) for a in edges for b in edges[a] if a in edges.get(b, ())})
    for a, b in pairs:
        print("2-circle: %s <-> %s" % (a, b))
    # Tarjan's strongly connected components
    index, low, stack, on, sccs, n = {}, {}, [], set(), [], [0]

    def strong(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                sccs.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            strong(v)
    for c in sccs:
        if len(c) > 2:
            print("circle of %d: %s" % (len(c), " ".join(c)))
    print("files %d, 2-circles %d, strongly connected groups %d (files in them: %d)"
          % (len(edges), len(pairs), len(sccs), sum(len(c) for c in sccs)))


if __name__ == "__main__":
    main()
