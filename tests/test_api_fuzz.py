"""Random public calls with random, mostly invalid, arguments on random pools, in a child
process: any crash, any exception outside the documented set (mempools.PoolError and its
subclasses), or a check() failure on a pool no unsafe write touched, fails the test."""

import json
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

import mempools as mp

ROOT = Path(__file__).resolve().parents[1]
CALLS = 10_000  # at least this many public calls

try:
    import numpy

    NUMPY = [numpy.int64(8), numpy.uint8(3)]
except ImportError:  # numpy comes with matplotlib; without it, plain ints only
    NUMPY = []

ODD = [0, -1, 1, 7, 8, 16, 64, 2**31, 2**62, 2**64 - 1, 2**64, 2**70, -(2**64), True, False, 1.5,
       float("nan"), "8", "", None, b"xx", [], object(), *NUMPY]
SMALL_ODD = [v for v in ODD if not (isinstance(v, int) and not isinstance(v, bool)
                                    and 2**20 < v < 2**62)]
# methods per pool kind: name -> kinds of argument ("size", "block", "mark", "data", "any")
METHODS = {
    mp.Malloc: {"malloc": ["size"], "calloc": ["size", "size"], "realloc": ["block", "size"],
                "free": ["block"], "usable_size": ["block"], "chunk_size_field": ["block"],
                "checkerboard": ["size", "size"], "reuse_after_free": ["size"], "holes": [],
                "leaks": [], "ints_fill_and_sum": ["block"]},
    mp.BumpPool: {"alloc": ["size", "align"], "mark": [], "release": ["mark"], "reset": [],
                  "chunks": [], "replay_alloc": ["size"], "replay_realloc": ["block", "size"],
                  "replay_free": ["block"]},
    mp.FixedPool: {"alloc": [], "free": ["block"], "free_address": ["address"], "free_list": [],
                   "links": [], "next_pointer": ["size"], "offset_of_address": ["address"],
                   "index": ["block"], "replay_alloc": ["size"], "replay_realloc": ["block", "size"],
                   "replay_free": ["block"]},
    mp.EmbeddedPool: {"alloc": ["size"], "realloc": ["block", "size"], "free": ["block"],
                      "compact": [], "lock": ["block"], "unlock": ["block"],
                      "peek": ["size", "size"]},
}
COMMON = {"walk": [], "check": [], "memory": [], "close": []}
BLOCK_METHODS = {"read": ["size", "size"], "write": ["data", "size"],
                 "unsafe_write": ["data", "size"]}
BLOCK_PROPERTIES = ("offset", "address", "live", "size", "id")
POOL_PROPERTIES = ("stats", "live", "closed", "measuring", "sized", "moves_blocks", "alignment",
                   "footprint")
EXTRA_PROPERTIES = {mp.BumpPool: ("available", "measured", "growable")}


def make_pool(rng):
    kind = rng.choice(list(METHODS))

    def small(top=2048):
        return rng.randint(1, top) if rng.random() < 0.8 else rng.choice(SMALL_ODD)

    try:
        if kind is mp.Malloc:
            return mp.Malloc()
        if kind is mp.BumpPool:
            return mp.BumpPool(small(), rng.choice([8, 16, 3, 0, True]), rng.choice([False, True, 1]))
        if kind is mp.FixedPool:
            return mp.FixedPool(small(), small(64), rng.choice([8, 16, 5]))
        return mp.EmbeddedPool(small(), small(16))
    except mp.PoolError:
        return None


class Fuzzer:
    def __init__(self, rng):
        self.rng, self.calls = rng, 0
        self.pools, self.blocks, self.marks, self.tainted = [], [], [], set()

    def argument(self, kind):
        r = self.rng
        things = self.blocks + self.marks
        if kind == "block" and self.blocks and r.random() < 0.6:
            return r.choice(self.blocks)
        if kind in ("block", "mark") and self.pools and r.random() < 0.1:  # forged by hand
            pool = r.choice(self.pools)
            if kind == "mark" or isinstance(pool, mp.BumpPool) and r.random() < 0.5:
                return mp.Mark(pool, r.randint(0, 3), r.randint(0, 3), None, 0)
            return mp.Block(pool, r.randint(0, 5), r.choice([1, 8, 2**40]))
        if kind == "mark" and self.marks and r.random() < 0.6:
            return r.choice(self.marks)
        if kind == "data":
            return r.randbytes(r.randint(0, 80)) if r.random() < 0.8 else r.choice(SMALL_ODD)
        if kind == "address" and self.blocks and r.random() < 0.6:
            delta = r.choice([0, 1, 8, -8, 2**64, 10**6])
            try:
                return r.choice(self.blocks).address + delta
            except mp.PoolError:
                return delta
        if kind == "align":
            return r.choice([None, 1, 2, 8, 16, 3, 0, -8, True, 2**63])
        if things and r.random() < 0.15:
            return r.choice(things)
        return r.randint(-4, 300) if r.random() < 0.7 else r.choice(SMALL_ODD)

    def step(self):
        r = self.rng
        if not self.pools or r.random() < 0.03:
            pool = make_pool(r)
            self.calls += 1
            if pool is not None:
                self.pools.append(pool)
            return
        pool = r.choice(self.pools)
        target, table = pool, {**METHODS[type(pool)], **COMMON}
        if self.blocks and r.random() < 0.25:
            target, table = r.choice(self.blocks), BLOCK_METHODS
            pool = target.pool
        if r.random() < 0.1:
            names = (BLOCK_PROPERTIES if target is not pool
                     else POOL_PROPERTIES + EXTRA_PROPERTIES.get(type(pool), ()))
            name = r.choice(names)
            call = lambda: getattr(target, name)  # noqa: E731
        else:
            name = r.choice(sorted(table))
            if name == "close" and r.random() < 0.8:
                name = "walk"  # closing ends a pool's usefulness: keep it rare
            args = [self.argument(kind) for kind in table[name]]
            call = lambda: getattr(target, name)(*args)  # noqa: E731
        if name == "unsafe_write":
            self.tainted.add(id(pool))
        self.calls += 1
        try:
            result = call()
        except mp.PoolError:
            return
        for item in result if isinstance(result, list) else [result]:
            if isinstance(item, mp.Block) and item not in self.blocks:
                self.blocks.append(item)
            elif isinstance(item, mp.Mark):
                self.marks.append(item)
        if not pool.closed and id(pool) not in self.tainted:
            pool.check()


def fuzz(examples, steps):
    """Run the hypothesis search; print how many public calls it made."""
    total = [0]

    # hypothesis draws the seed of each random call sequence; no shrinking, because libc's
    # addresses are state it cannot replay exactly: the traceback names the failing call
    @settings(max_examples=examples, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(st.randoms(use_true_random=True))
    def run(rng):
        fuzzer = Fuzzer(rng)
        try:
            for _ in range(steps):
                fuzzer.step()
        finally:
            total[0] += fuzzer.calls
            for pool in fuzzer.pools:
                pool.close()

    run()
    print(json.dumps({"calls": total[0]}))


def test_random_public_calls_never_crash_or_escape_the_documented_errors():
    code = f"from tests.test_api_fuzz import fuzz; fuzz(examples={CALLS // 40 + 10}, steps=50)"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    calls = json.loads(done.stdout.strip().splitlines()[-1])["calls"]
    assert calls >= CALLS, calls
