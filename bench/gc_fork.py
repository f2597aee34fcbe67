"""Why full builds were superlinear: what a forked writer pays for the archive its parent holds.

A writer's workload (the postings lists of 20,000 articles: millions of small lists) runs in a
child forked from a parent holding N Article objects; the child reports its time, the part of it
spent in the cyclic garbage collector, and its page faults (copy-on-write copies). ``--mode``:
``default`` (Python's collector as it is), ``freeze`` (``gc.freeze()`` after the fork), ``writer``
(what :func:`search.engines.embedded.bulk._few_collections` does: freeze and collect rarely).

    python -m bench.gc_fork 0 50000 200000
    python -m bench.gc_fork 200000 --mode writer
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import time

from search.model import Article


def writer_workload(mode: str) -> tuple[float, float, int]:
    """Seconds, seconds in the collector, and page faults of a writer's allocations."""
    if mode in ("freeze", "writer"):
        gc.freeze()
    if mode == "writer":
        gc.set_threshold(50_000, 20, 20)
    in_gc, started = [0.0], [0.0]

    def watch(phase: str, _info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            in_gc[0] += time.perf_counter() - started[0]

    gc.callbacks.append(watch)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    begin = time.perf_counter()
    pool: dict[int, list[list[int]]] = {}
    for doc in range(20_000):  # ~40 positions lists an article, grouped by term
        for word in range(40):
            pool.setdefault(word * 997 + doc % 50, []).append([doc, word])
    return time.perf_counter() - begin, in_gc[0], resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("held", type=int, nargs="+", help="articles the parent holds before forking")
    parser.add_argument("--mode", choices=("default", "freeze", "writer"), default="default")
    args = parser.parse_args()
    for count in args.held:
        held = [
            Article(id=f"a{i}", source="f.jsonl", position=i, title="标题" * 5, body="正文" * 50, reporters=["甲"],
                    places=["乙"], people=["丙"], orgs=["丁"], keywords=["戊", "己"])
            for i in range(count)
        ]  # fmt: skip
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            os.write(write, " ".join(map(str, writer_workload(args.mode))).encode())
            os._exit(0)
        os.close(write)
        seconds, collecting, faults = os.read(read, 200).decode().split()
        os.waitpid(pid, 0)
        print(f"parent holds {count:>9,} articles: writer {float(seconds):.2f} s, {float(collecting):.2f} s of it collecting, "
              f"{int(faults) / 1000:.0f}k page faults ({args.mode})")
        del held


if __name__ == "__main__":
    main()
