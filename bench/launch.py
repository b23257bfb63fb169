# SPDX-License-Identifier: GPL-3.0-or-later
"""Record the spawn time, then become the program.

    launch.py STAMPFILE [NAME=VALUE ...] -- PROGRAM [ARGS ...]

Writes CLOCK_MONOTONIC (nanoseconds) to STAMPFILE immediately before
execve(), so a time measured from it starts with the kernel loading the
program: process start-up, dynamic linking, the program's own start-up and its
first frame are all inside. The program gets exactly the NAME=VALUE
environment given, plus TERM from the terminal (tmux sets it), nothing else.
"""
import os
import sys
import time


def main():
    args = sys.argv[1:]
    stamp = args.pop(0)
    sep = args.index("--")
    env = dict(a.split("=", 1) for a in args[:sep])
    argv = args[sep + 1:]
    if "TERM" in os.environ and "TERM" not in env:
        env["TERM"] = os.environ["TERM"]
    fd = os.open(stamp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    t0 = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
    os.write(fd, b"%d\n" % t0)
    os.close(fd)
    os.execve(argv[0], argv, env)


if __name__ == "__main__":
    main()
