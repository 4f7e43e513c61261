#!/usr/bin/env python3
"""
Userspace WAN link for the network tests: forwards Ethernet frames between two TAP
devices with configurable one-way delay and random loss, or not at all (a cut link).

Why not `tc netem`: kernels built without sch_netem (as on the CI machines) refuse the
qdisc. This does the same at packet level: every frame that crosses the WAN is delayed or
dropped, TCP sees real loss and real RTT.

Usage: wan.py TAP_A TAP_B   (creates both TAPs in the current namespace, prints "ready",
then reads commands on stdin, one per line, and answers "ok" to each):
  set DELAY_MS LOSS   one-way delay in ms and loss probability in [0, 1]
  cut                 drop everything (partition)
  heal                forward again
  stats               print "stats a2b=N b2a=N dropped=N"
"""
import fcntl
import heapq
import os
import random
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000
MAX_QUEUE = 20000  # frames in flight; beyond that a frame is dropped (a full router queue)


def open_tap(name):
    fd = os.open('/dev/net/tun', os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TAP | IFF_NO_PI))
    return fd


def main():
    a_name, b_name = sys.argv[1], sys.argv[2]
    a, b = open_tap(a_name), open_tap(b_name)
    other = {a: b, b: a}
    delay, loss, cut = 0.0, 0.0, False
    queue = []  # (due, seq, fd, frame)
    seq = 0
    counts = {'a2b': 0, 'b2a': 0, 'dropped': 0}
    rng = random.Random(int(os.environ.get('WAN_SEED', '1')))
    sys.stdout.write('ready\n')
    sys.stdout.flush()
    stdin = sys.stdin.fileno()
    buf = b''
    while True:
        now = time.monotonic()
        while queue and queue[0][0] <= now:
            _, _, fd, frame = heapq.heappop(queue)
            try:
                os.write(fd, frame)
            except (BlockingIOError, OSError):
                counts['dropped'] += 1
        timeout = max(0.0, queue[0][0] - now) if queue else 0.5
        ready, _, _ = select.select([a, b, stdin], [], [], min(timeout, 0.5))
        for fd in ready:
            if fd == stdin:
                chunk = os.read(stdin, 4096)
                if not chunk:
                    return  # the harness went away: so does the link
                buf += chunk
                while b'\n' in buf:
                    line, buf = buf.split(b'\n', 1)
                    words = line.decode().split()
                    if not words:
                        continue
                    if words[0] == 'set':
                        delay, loss = float(words[1]) / 1000.0, float(words[2])
                    elif words[0] == 'cut':
                        cut = True
                    elif words[0] == 'heal':
                        cut = False
                    elif words[0] == 'stats':
                        sys.stdout.write('stats a2b=%d b2a=%d dropped=%d\n' % (counts['a2b'], counts['b2a'], counts['dropped']))
                    sys.stdout.write('ok\n')
                    sys.stdout.flush()
                continue
            for _ in range(64):  # drain a burst without starving the other side
                try:
                    frame = os.read(fd, 65536)
                except BlockingIOError:
                    break
                if cut or (loss > 0 and rng.random() < loss) or len(queue) >= MAX_QUEUE:
                    counts['dropped'] += 1
                    continue
                counts['a2b' if fd == a else 'b2a'] += 1
                if delay <= 0:
                    try:
                        os.write(other[fd], frame)
                    except (BlockingIOError, OSError):
                        counts['dropped'] += 1
                else:
                    seq += 1
                    heapq.heappush(queue, (time.monotonic() + delay, seq, other[fd], frame))


if __name__ == '__main__':
    main()
