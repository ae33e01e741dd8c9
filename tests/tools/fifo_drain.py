#!/usr/bin/env python3
"""fifo_drain.py - a slow consumer for the torture suite: drains a named pipe (the file
output's `path`) into a regular file at a fixed rate, so the output is slower than the writer
and the agent works under backpressure, as with a congested disk or a slow pipe reader.

    fifo_drain.py FIFO OUT LINES_PER_S

Reads whole chunks, appends them to OUT, and sleeps so that no more than LINES_PER_S lines
per second pass. When the writer closes the pipe (the agent was killed, reloaded or stopped)
it reopens it and waits for the next writer. A last line left without its newline by a
writer that died in the middle of a write (pipe writes above PIPE_BUF are not atomic) is
ended with one, as a consumer must, and counted: it is written to OUT.torn as a count on
exit (SIGTERM). Python 3 standard library only.
"""
import os
import signal
import sys
import time

fifo, out, rate = sys.argv[1], sys.argv[2], float(sys.argv[3])
torn = 0
stop = False


def on_term(*_):
    global stop
    stop = True
    with open(out + ".torn", "w") as f:
        f.write(f"{torn}\n")
    sys.exit(0)


signal.signal(signal.SIGTERM, on_term)
with open(out, "ab", buffering=0) as o:
    while not stop:
        fd = os.open(fifo, os.O_RDONLY)
        last = b"\n"
        t0, lines = time.monotonic(), 0
        while True:
            chunk = os.read(fd, 16384)
            if not chunk:
                break
            o.write(chunk)
            last = chunk[-1:]
            lines += chunk.count(b"\n")
            ahead = lines / rate - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
        os.close(fd)
        if last != b"\n":
            o.write(b"\n")
            torn += 1
