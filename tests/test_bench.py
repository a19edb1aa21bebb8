"""Benchmarks and workloads: bundled traces replay cleanly, C replay runs every supported pool,
the command prints JSON. No wall-clock threshold is asserted anywhere."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

import mempools as mp
from mempools import bench, workloads
from mempools.c import ffi, lib

TRACES = Path(__file__).resolve().parents[1] / "data" / "traces"


def test_bundled_traces_exist_and_match_their_seeds(tmp_path):
    bundled = sorted(TRACES.glob("*.rep"))
    assert len(bundled) >= 3
    for path in workloads.write_traces(tmp_path):
        assert path.read_text() == (TRACES / path.name).read_text()


@pytest.mark.parametrize("path", sorted(TRACES.glob("*.rep")), ids=lambda p: p.name)
def test_bundled_trace_replays_with_zero_errors_on_malloc(path):
    # every payload is still verified when it is freed or reallocated; re-reading all live
    # blocks after every op as well would take minutes on 2000-op traces (the embedded pool's
    # two policies are replayed in test_embedded_policy.py)
    with mp.Malloc() as heap:
        assert mp.replay(mp.Trace.parse(path.read_text()), heap, verify_all=False).errors == []


@pytest.mark.parametrize("path", sorted(TRACES.glob("*.rep")), ids=lambda p: p.name)
def test_c_replay_of_bundled_traces_reports_latency_and_bounded_good_fit_steps(path):
    trace = mp.Trace.parse(path.read_text())
    s = bench.shape(trace)
    pools = [p for p in bench.POOLS if bench.supports(p, s)]
    assert pools == ["malloc", "EmbeddedPool", "EmbeddedPool first fit", "FreeListPool"]
    rows = {p: bench.replay_in_c(p, trace, s, 1) for p in pools}
    for r in rows.values():
        assert r.failures == 0 and 0 <= r.p50_ns <= r.p99_ns <= r.max_ns
    assert rows["EmbeddedPool"].max_steps <= 8 < rows["EmbeddedPool first fit"].max_steps


def test_micro_loops_report_their_floor():
    rows = {r.pool: r for r in bench.micro(repeats=1)}
    assert set(rows) == {"FixedPool", "BumpPool", "EmbeddedPool", "EmbeddedPool first fit"}
    for r in rows.values():
        assert r.pool_ns > 0 and r.libc_ns > 0 and r.floor_ns > 0 and r.vs_floor > 0


@pytest.mark.parametrize("loop, args", [
    ("bench_fixed_pairs", (0, 16, 10, 1)), ("bench_list_pairs", (32, 0, 10, 1)),
    ("bench_malloc_pairs", (32, 16, 0, 1)), ("bench_bump_allocs", (0, 100, 1)),
    ("bench_pointer_allocs", (0, 100, 1)), ("bench_malloc_allocs", (0, 100, 1)),
    ("bench_list_pairs", (2**62, 1 << 10, 10, 1)), ("bench_bump_allocs", (2**62, 100, 1)),
])
def test_c_loops_refuse_bad_sizes_without_crashing(loop, args):
    assert getattr(lib, loop)(*args) < 0


def test_embedded_pair_loop_refuses_too_many_slots():
    assert lib.bench_embedded_pairs(32, int(lib.EMBEDDED_POOL_MAX_SLOTS) + 1, 10, 1, 0) < 0


@pytest.mark.parametrize("name", sorted(workloads.WORKLOADS))
def test_every_supported_pool_runs_every_workload_in_c_without_refusals(name):
    trace = workloads.WORKLOADS[name](3, ops=400)
    rows = bench.measure(name, trace, repeats=1)
    assert {r.pool for r in rows} >= {"malloc", "EmbeddedPool"}
    for r in rows:
        assert r.failures == 0 and r.ns_per_op >= 0 and 0 < r.utilisation <= 1
        if r.pool in ("FixedPool", "BumpPool"):
            assert r.max_steps <= 2


def test_shape_and_support():
    s = bench.shape(mp.Trace.parse("+8,+8,-1,-0"))
    assert s.stack_like and s.max_live == 2 and s.min_size == s.max_size == 8
    assert bench.supports("BumpPool", s) and bench.supports("FixedPool", s)
    s = bench.shape(mp.Trace.parse("+8,+16,-0,-1"))
    assert not s.stack_like and not bench.supports("BumpPool", s)
    assert not bench.supports("FixedPool", s) and bench.supports("EmbeddedPool", s)


def test_c_replay_refuses_bad_ids():
    out = ffi.new("bench_result *")
    kinds, ids, sizes = ffi.new("char[]", b"a"), ffi.new("size_t[]", [5]), ffi.new("size_t[]", [8])
    assert lib.bench_replay(lib.BENCH_MALLOC, kinds, ids, sizes, 1, 1, 1, 0, 1, out) == lib.POOL_EINVAL


def test_bench_command_prints_json_with_libc_in_the_same_run():
    run = subprocess.run([sys.executable, "-m", "mempools", "bench", "--json", "--ops", "300",
                          "--repeats", "1", "--trace", "+10,+20,-0,-1"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["machine"] and {m["pool"] for m in data["micro"]} == {
        "FixedPool", "BumpPool", "EmbeddedPool", "EmbeddedPool first fit"}
    assert all(m["floor_ns"] > 0 for m in data["micro"])
    assert data["wrapper"]["fixed_pair_ns"] > 0 and data["wrapper"]["cffi_pair_ns"] > 0
    workloads_seen = {w["workload"] for w in data["workloads"]}
    assert "+10,+20,-0,-1" in workloads_seen and "malloclab" in workloads_seen
    assert all(w["libc_ns_per_op"] >= 0 and w["pool"] for w in data["workloads"])  # no timing threshold
    assert all(0 <= w["p50_ns"] <= w["p99_ns"] <= w["max_ns"] for w in data["workloads"])
