"""Python's own multiprocessing queues, measured the way the @ipc/queue rows are (standard library only).

`python3 queue_bench.py <scenario> <items> <item bytes>`: scenario is "1to1" (Queue, one producer and one
consumer), "joinable" (JoinableQueue, get + task_done), or "4x4" (Queue, 4 producers and 4 consumers).
Prints the items per second, timed from the first item a consumer got to the last.
"""
import json
import multiprocessing as mp
import sys
import time


def produce(queue, count, size):
    item = b"x" * size
    for _ in range(count):
        queue.put(item)


def consume(queue, count, done, results, joinable):
    first = None
    for _ in range(count):
        queue.get()
        if joinable:
            queue.task_done()
        if first is None:
            first = time.perf_counter()
    results.put((first, time.perf_counter()))


def run(scenario, items, size):
    producers, consumers = (4, 4) if scenario == "4x4" else (1, 1)
    joinable = scenario == "joinable"
    queue = mp.JoinableQueue() if joinable else mp.Queue()
    results = mp.Queue()
    per_producer = items // producers
    per_consumer = per_producer * producers // consumers
    procs = [mp.Process(target=consume, args=(queue, per_consumer, None, results, joinable)) for _ in range(consumers)]
    procs += [mp.Process(target=produce, args=(queue, per_producer, size)) for _ in range(producers)]
    for p in procs:
        p.start()
    spans = [results.get() for _ in range(consumers)]
    for p in procs:
        p.join()
    first = min(s[0] for s in spans)
    last = max(s[1] for s in spans)
    return (per_consumer * consumers - 1) / (last - first)


if __name__ == "__main__":
    scenario, items, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps({"itemsPerSecond": run(scenario, items, size)}))
