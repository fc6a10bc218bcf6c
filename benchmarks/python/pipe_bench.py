"""Python's multiprocessing.Pipe between two processes, as its documentation shows it.

`pipe_bench.py rtt N`: N ping-pongs of 64 bytes (send_bytes / recv_bytes), after a warm-up of N/10.
`pipe_bench.py small N`: N 64-byte messages one way, the receiver acknowledging the last.
`pipe_bench.py bw N`: N messages of 1 MiB one way, the receiver acknowledging the last.
Prints one JSON object. With PIPE_PIN=1 the parent runs on CPU 0 and the child on CPU 1, as the Node
benchmark pins its main threads.
"""
import json
import multiprocessing
import os
import sys
import time


def pin(cpu):
    if os.environ.get("PIPE_PIN") == "1":
        os.sched_setaffinity(0, {cpu})


def echo(conn, count):
    pin(1)
    for _ in range(count):
        conn.send_bytes(conn.recv_bytes())


def sink(conn, count):
    pin(1)
    for _ in range(count):
        conn.recv_bytes()
    conn.send_bytes(b"1")


def main():
    mode, count = sys.argv[1], int(sys.argv[2])
    pin(0)
    here, there = multiprocessing.Pipe()
    if mode == "rtt":
        warm = max(1, count // 10)
        child = multiprocessing.Process(target=echo, args=(there, warm + count))
        child.start()
        message = b"*" * 64
        for _ in range(warm):
            here.send_bytes(message)
            here.recv_bytes()
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            here.send_bytes(message)
            here.recv_bytes()
            samples.append((time.perf_counter() - start) * 1e6)
        child.join()
        samples.sort()
        print(json.dumps({"rttP50Us": samples[len(samples) // 2], "rttP99Us": samples[int(len(samples) * 0.99)]}))
        return
    size = 64 if mode == "small" else 1 << 20
    child = multiprocessing.Process(target=sink, args=(there, count))
    child.start()
    message = b"\x07" * size
    start = time.perf_counter()
    for _ in range(count):
        here.send_bytes(message)
    here.recv_bytes()
    seconds = time.perf_counter() - start
    child.join()
    key = "messagesPerSecond" if mode == "small" else "bytesPerSecond"
    print(json.dumps({key: count / seconds if mode == "small" else count * size / seconds}))


if __name__ == "__main__":
    main()
