#!/usr/bin/env python3
"""Reads ThreadSanitizer reports (make test-tsan) and fails on races in the project's code.

DuckDB and RocksDB are not instrumented: they hand memory between threads with atomics
ThreadSanitizer cannot see (DuckDB's lock-free task queue and the reference counts it
releases inside the library, RocksDB's write thread), so every such hand-over shows up as
a race with one access inside the library. A report counts as ours when both accesses
start in the project's code: the first frame of each that is not the sanitizer runtime,
the C and C++ libraries, inlined standard-library templates or the allocator of
common/allocation_limit.cpp lies outside those libraries. Other reports are counted and
listed by the library function they start in.

usage: tsan_races.py REPORT...   (exit status 1 when a race in our code was found)
"""
import collections
import re
import sys

RUNTIME = ("libtsan", "libc.so", "libstdc++", "libm.so", "ld-linux")
LIBRARIES = ("libduckdb", "librocksdb")


def parse(path):
    """Yields (kind, [stack, ...], text) for every report in the file."""
    text = open(path, errors="replace").read()
    for block in text.split("==================\n"):
        match = re.search(r"WARNING: ThreadSanitizer: ([^(\n]*)", block)
        if not match:
            continue
        stacks, current = [], None
        for line in block.split("\n"):
            if re.match(r"  (Write|Read|Atomic|Previous)", line):
                current = []
                stacks.append(current)
            elif re.match(r"  (Location|Mutex|Thread)", line) or line.startswith("SUMMARY"):
                current = None
            elif current is not None:
                frame = re.match(r"\s+#\d+ (.*) \(([^+)]*)", line)
                if frame:
                    current.append((frame.group(1), frame.group(2)))
        yield match.group(1).strip(), stacks, block


def first_real_frame(stack):
    for function, module in stack:
        if any(r in module for r in RUNTIME):
            continue
        if "/usr/include/c++/" in function or "allocation_limit.cpp" in function:
            continue
        return function, module
    return None


def main(paths):
    ours, theirs = [], collections.Counter()
    for path in paths:
        for kind, stacks, block in parse(path):
            starts = [first_real_frame(s) for s in stacks[:2]]
            library = next((s for s in starts if s and any(l in s[1] for l in LIBRARIES)), None)
            if kind == "data race" and len(starts) == 2 and all(starts) and library is None:
                ours.append(block)
            else:
                where = library or (starts[0] if starts and starts[0] else ("?", "?"))
                theirs[(where[1].split("/")[-1].split(".so")[0], where[0].split(" (")[0][:100])] += 1
    total = sum(theirs.values())
    print(f"tsan: {len(ours)} race(s) in the project's code; {total} report(s) of library hand-overs")
    for (module, function), n in theirs.most_common():
        print(f"  {n:4d}  {module}: {function}")
    for block in ours:
        print("==================\n" + block)
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
