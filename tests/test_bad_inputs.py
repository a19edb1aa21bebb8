"""Every misuse of the public API is refused cleanly: one table of bad inputs across all pools,
Block, Mark and replay. Each case asserts the exception type, a fragment of the message, and
that the pool is unchanged afterwards: walk(), stats (failure counters aside), check() and the
bytes of every live block."""

from dataclasses import dataclass, field

import pytest

import mempools as mp
from mempools.constants import SIZE_MAX


@dataclass
class Scene:
    """A pool with live blocks full of distinct bytes, plus the wrong things a student holds:
    a freed block, a stale one, one from another pool of the same kind, a closed pool's."""

    pool: mp.Pool
    live: list = field(default_factory=list)
    freed: object = None
    stale: object = None
    foreign: object = None
    extra: dict = field(default_factory=dict)


def fill(scene, blocks):
    for i, b in enumerate(blocks):
        b.write(bytes((i * 37 + j) & 0xFF for j in range(b.size)))
    scene.live = blocks
    return scene


def malloc_scene():
    heap, other = mp.Malloc(), mp.Malloc()
    s = Scene(heap)
    a, b = heap.malloc(24), heap.malloc(40)
    s.freed = heap.malloc(8)
    heap.free(s.freed)
    old = heap.malloc(16)
    heap.realloc(old, 64)  # `old` is stale now; the new block is live
    s.stale = old
    s.foreign = other.malloc(8)
    s.extra["other"] = other
    return fill(s, [a, b, *[x for x in heap.live if x not in (a, b)]])


def bump_scene():
    pool = mp.BumpPool(256)
    s = Scene(pool)
    early = pool.mark()
    gone = pool.alloc(8)
    pool.release(early)  # `gone` is stale
    a, b = pool.alloc(9), pool.alloc(16)
    m0 = pool.mark()
    c = pool.alloc(16)
    m1 = pool.mark()
    pool.release(m0)  # c is stale, m1 is released past
    s.stale, s.extra = gone, {"m0": m0, "m1": m1, "c": c}
    other = mp.BumpPool(64)
    s.foreign, s.extra["other_mark"] = other.alloc(8), other.mark()
    s.extra["reset_pool"] = reset = mp.BumpPool(64)
    s.extra["before_reset"] = reset.mark()
    reset.reset()
    return fill(s, [a, b])


def growable_scene():
    pool = mp.BumpPool(64, growable=True)
    s = Scene(pool)
    a = pool.alloc(60)
    b = pool.alloc(200)  # a second chunk
    return fill(s, [a, b])


def fixed_scene():
    pool = mp.FixedPool(16, 4)
    s = Scene(pool)
    a, b = pool.alloc(), pool.alloc()
    s.freed = pool.alloc()
    s.extra["freed_address"] = s.freed.address
    pool.free(s.freed)
    s.foreign = mp.FixedPool(16, 4).alloc()
    return fill(s, [a, b])


def full_fixed_scene():
    pool = mp.FixedPool(16, 2)
    return fill(Scene(pool), [pool.alloc(), pool.alloc()])


def embedded_scene():
    pool = mp.EmbeddedPool(1024, 4)
    s = Scene(pool)
    a, b = pool.alloc(24), pool.alloc(40)
    locked = pool.alloc(16)
    pool.lock(locked)
    s.freed = pool.alloc(8)
    pool.free(s.freed)
    s.foreign = mp.EmbeddedPool(512, 4).alloc(8)
    s.extra["locked"] = locked
    return fill(s, [a, b, locked])


def full_slots_scene():
    pool = mp.EmbeddedPool(1024, 2)
    return fill(Scene(pool), [pool.alloc(8), pool.alloc(8)])


def closed_scene(make):
    def build():
        s = make()
        s.extra["closed"] = closed = type(s.pool).__new__(type(s.pool))
        closed.__init__(*CLOSED_ARGS[type(s.pool)])
        s.extra["closed_block"] = (closed.malloc(8) if isinstance(closed, mp.Malloc)
                                   else closed.alloc() if isinstance(closed, mp.FixedPool)
                                   else closed.alloc(8))
        closed.close()
        return s
    return build


CLOSED_ARGS = {mp.Malloc: (), mp.BumpPool: (64,), mp.FixedPool: (16, 2),
               mp.EmbeddedPool: (1024, 2)}
SCENES = {"malloc": closed_scene(malloc_scene), "bump": closed_scene(bump_scene),
          "growable": growable_scene, "fixed": closed_scene(fixed_scene), "full": full_fixed_scene,
          "embedded": closed_scene(embedded_scene), "slots": full_slots_scene}
IGNORED_STATS = {"failed", "last_steps"}  # failure counters and step counts are bookkeeping


def snapshot(scene):
    pool = scene.pool
    pool.check()
    stats = {k: v for k, v in pool.stats.items() if k not in IGNORED_STATS}
    return pool.walk(), stats, [(b.offset, b.size, b.read()) for b in scene.live]


def forged(scene, block_id=None):
    return mp.Block(scene.pool, scene.live[0].id if block_id is None else block_id, 8)


BIG = 2**62
C = []  # (scene, call, exception, message fragment)


def case(scene, exc, fragment):
    def register(call):
        C.append(pytest.param(scene, call, exc, fragment,
                              id=f"{scene}-{len([c for c in C if c.values[0] == scene])}"))
        return call
    return register


def add(scene, exc, fragment, *calls):
    for call in calls:
        case(scene, exc, fragment)(call)


# -- Malloc ----------------------------------------------------------------------------------
add("malloc", mp.BadSize, "at least 1 byte", lambda s: s.pool.malloc(0))
add("malloc", mp.BadSize, "must not be negative", lambda s: s.pool.malloc(-1))
add("malloc", mp.BadSize, "not the bool True", lambda s: s.pool.malloc(True))
add("malloc", mp.BadSize, "must be an integer", lambda s: s.pool.malloc(1.5),
    lambda s: s.pool.malloc("8"), lambda s: s.pool.malloc(None), lambda s: s.pool.malloc(b"8"))
add("malloc", mp.BadSize, "does not fit in size_t", lambda s: s.pool.malloc(2**64))
add("malloc", mp.OutOfMemory, "returned NULL", lambda s: s.pool.malloc(BIG))
add("malloc", mp.BadSize, "overflows size_t", lambda s: s.pool.calloc(2**61 + 1, 8))
add("malloc", mp.BadSize, "asks for 0 bytes", lambda s: s.pool.calloc(0, 8))
add("malloc", mp.BadSize, "count must not be negative", lambda s: s.pool.calloc(-1, 8))
add("malloc", mp.DoubleFree, "already freed", lambda s: s.pool.free(s.freed))
add("malloc", mp.ForeignBlock, "belongs to another pool", lambda s: s.pool.free(s.foreign))
add("malloc", mp.ForeignBlock, "expected a Block", lambda s: s.pool.free(None),
    lambda s: s.pool.free(s.live[0].address), lambda s: s.pool.realloc("b", 8))
add("malloc", mp.ForeignBlock, "was not handed out by this pool",
    lambda s: s.pool.free(forged(s, 999)), lambda s: s.pool.free(forged(s)),
    lambda s: forged(s).read())
add("malloc", mp.BadSize, "at least 1 byte", lambda s: s.pool.realloc(s.live[0], 0))
add("malloc", mp.OutOfMemory, "old block is unchanged", lambda s: s.pool.realloc(s.live[0], BIG))
add("malloc", mp.StaleHandle, "use after free", lambda s: s.pool.realloc(s.freed, 8),
    lambda s: s.freed.read(), lambda s: s.pool.usable_size(s.freed), lambda s: s.freed.offset)
add("malloc", mp.StaleHandle, "is stale", lambda s: s.pool.realloc(s.stale, 8),
    lambda s: s.stale.write(b"x"), lambda s: s.pool.free(s.stale))
add("malloc", mp.BadSize, "must not be negative", lambda s: s.live[0].read(at=-1),
    lambda s: s.live[0].unsafe_write(b"x", at=-1))
add("malloc", mp.BadSize, "past the end", lambda s: s.live[0].read(25),
    lambda s: s.live[0].read(2**20, at=2**33), lambda s: s.live[0].write(b"x" * 25),
    lambda s: s.live[0].write(b"x", at=25))
add("malloc", mp.BadSize, "must be a whole number", lambda s: s.live[0].read(at=True),
    lambda s: s.live[0].read(n=2.0), lambda s: s.live[0].write(b"x", at="0"))
add("malloc", mp.PoolMisuse, "not str", lambda s: s.live[0].write("hello"))
add("malloc", mp.PoolMisuse, "bytes-like", lambda s: s.live[0].write(12),
    lambda s: s.live[0].unsafe_write(None))
add("malloc", mp.BadSize, "even the unsafe path stops there",
    lambda s: s.live[0].unsafe_write(b"x" * 4096))
add("malloc", mp.UseAfterClose, "is closed", lambda s: s.extra["closed"].malloc(8),
    lambda s: s.extra["closed"].walk(), lambda s: s.extra["closed"].stats,
    lambda s: s.extra["closed_block"].read())
add("malloc", mp.BadSize, "at most", lambda s: s.pool.checkerboard(10**9, 8),
    lambda s: s.pool.reuse_after_free(2**40))
add("malloc", mp.BadSize, "at least 1 block", lambda s: s.pool.checkerboard(0, 8))
add("malloc", AttributeError, "", lambda s: setattr(s.live[0], "size", 2**34),
    lambda s: setattr(s.live[0], "id", 0), lambda s: setattr(s.live[0], "pool", s.foreign.pool))

# -- BumpPool --------------------------------------------------------------------------------
add("bump", mp.BadSize, "capacity must be at least 1 byte", lambda s: mp.BumpPool(0))
add("bump", mp.BadSize, "capacity must", lambda s: mp.BumpPool(-4), lambda s: mp.BumpPool(1.5),
    lambda s: mp.BumpPool(True))
add("bump", mp.BadAlignment, "power of two", lambda s: mp.BumpPool(64, align=12),
    lambda s: mp.BumpPool(64, align=0))
add("bump", mp.BadAlignment, "at least 8", lambda s: mp.BumpPool(64, align=4))
add("bump", mp.BadSize, "size overflow", lambda s: mp.BumpPool(SIZE_MAX))
add("bump", mp.OutOfMemory, "BumpPool(capacity=", lambda s: mp.BumpPool(BIG))
add("bump", mp.PoolMisuse, "must be True or False", lambda s: mp.BumpPool(64, growable="yes"))
add("bump", mp.BadSize, "at least 1 byte", lambda s: s.pool.alloc(0))
add("bump", mp.BadSize, "must be an integer", lambda s: s.pool.alloc(8.0),
    lambda s: s.pool.alloc(None))
add("bump", mp.BadSize, "does not fit in size_t", lambda s: s.pool.alloc(2**64))
add("bump", mp.OutOfMemory, "growable=True", lambda s: s.pool.alloc(SIZE_MAX - 3),
    lambda s: s.pool.alloc(400))
add("bump", mp.BadAlignment, "power of two", lambda s: s.pool.alloc(8, align=3),
    lambda s: s.pool.alloc(8, align=0))
add("bump", mp.BadAlignment, "not the bool", lambda s: s.pool.alloc(8, align=True))
add("bump", mp.ForeignBlock, "not a mark of this pool", lambda s: s.pool.release(s.extra["other_mark"]),
    lambda s: s.pool.release("mark"), lambda s: s.pool.release(None),
    lambda s: s.pool.release(mp.Mark(s.pool, 0, 0, None, 0)))
add("bump", mp.StaleHandle, "no longer valid", lambda s: s.pool.release(s.extra["m1"]),
    lambda s: s.extra["reset_pool"].release(s.extra["before_reset"]))
add("bump", mp.StaleHandle, "is stale", lambda s: s.stale.read(), lambda s: s.extra["c"].offset,
    lambda s: s.pool.replay_free(s.stale))
add("bump", mp.ForeignBlock, "made by replay_alloc", lambda s: s.pool.replay_free(s.live[0]))
add("bump", mp.ForeignBlock, "belongs to another pool", lambda s: s.pool.replay_free(s.foreign))
add("bump", mp.UseAfterClose, "is closed", lambda s: s.extra["closed"].alloc(8),
    lambda s: s.extra["closed"].mark(), lambda s: s.extra["closed"].available,
    lambda s: s.extra["closed"].reset(), lambda s: s.extra["closed"].chunks())
add("growable", mp.BadSize, "chunk at offset 0", lambda s: s.live[0].unsafe_write(b"X" * 20000),
    lambda s: s.live[0].unsafe_write(b"X" * 5, at=62))

# -- FixedPool -------------------------------------------------------------------------------
add("fixed", mp.BadSize, "block_size must be at least 1 byte", lambda s: mp.FixedPool(0, 4))
add("fixed", mp.BadSize, "count must be at least 1 block", lambda s: mp.FixedPool(16, 0))
add("fixed", mp.BadSize, "count must not be negative", lambda s: mp.FixedPool(16, -1))
add("fixed", mp.BadSize, "overflows size_t", lambda s: mp.FixedPool(16, 2**62))
add("fixed", mp.BadAlignment, "power of two", lambda s: mp.FixedPool(16, 4, align=3))
add("fixed", mp.BadSize, "overflows size_t", lambda s: mp.FixedPool(2**40, 2**40))
add("fixed", mp.OutOfMemory, "FixedPool(8, ", lambda s: mp.FixedPool(8, 2**58))
add("fixed", mp.ForeignBlock, "expected a Block", lambda s: s.pool.free(None),
    lambda s: s.pool.index(3))
add("full", mp.OutOfMemory, "all 2 blocks are in use", lambda s: s.pool.alloc())
add("fixed", mp.DoubleFree, "already freed", lambda s: s.pool.free(s.freed))
add("fixed", mp.ForeignBlock, "belongs to another pool", lambda s: s.pool.free(s.foreign))
add("fixed", mp.ForeignBlock, "was not handed out", lambda s: s.pool.free(forged(s)))
add("fixed", mp.ForeignBlock, "foreign pointer", lambda s: s.pool.free_address(s.live[0].address + 4))
add("fixed", mp.ForeignBlock, "outside this pool's blocks",
    lambda s: s.pool.free_address(s.foreign.address), lambda s: s.pool.free_address(-1),
    lambda s: s.pool.free_address(2**70), lambda s: s.pool.free_address(s.live[0].address + 2**64))
add("fixed", mp.DoubleFree, "double free", lambda s: s.pool.free_address(s.extra["freed_address"]))
add("fixed", mp.BadSize, "address must be an integer", lambda s: s.pool.free_address("0x10"),
    lambda s: s.pool.free_address(False))
add("fixed", mp.BadSize, "index must be an integer", lambda s: s.pool.next_pointer("a"),
    lambda s: s.pool.next_pointer(None))
add("fixed", mp.BadSize, "not on the free list", lambda s: s.pool.next_pointer(-1),
    lambda s: s.pool.next_pointer(0), lambda s: s.pool.next_pointer(10**30))
add("fixed", mp.ForeignBlock, "outside this pool's memory", lambda s: s.pool.offset_of_address(0))
add("fixed", mp.StaleHandle, "use after free", lambda s: s.pool.index(s.freed),
    lambda s: s.freed.write(b"x"))
add("fixed", mp.BadSize, "do not fit a 16-byte block", lambda s: s.pool.replay_alloc(17),
    lambda s: s.pool.replay_realloc(s.live[0], 17))
add("fixed", mp.UseAfterClose, "is closed", lambda s: s.extra["closed"].alloc(),
    lambda s: s.extra["closed"].free_list(), lambda s: s.extra["closed"].check(),
    lambda s: s.extra["closed"].free(s.extra["closed_block"]))

# -- EmbeddedPool ----------------------------------------------------------------------------
add("embedded", mp.OutOfMemory, "no 18446744073709551615-byte array",
    lambda s: mp.EmbeddedPool(SIZE_MAX))
add("embedded", mp.OutOfMemory, "ask for a smaller capacity", lambda s: mp.EmbeddedPool(2**48))
add("embedded", mp.OutOfMemory, "needs room", lambda s: mp.EmbeddedPool(16, 16))
add("embedded", mp.BadSize, "slots must be at least 1 slot", lambda s: mp.EmbeddedPool(1024, 0))
add("embedded", mp.BadSize, "not the bool", lambda s: mp.EmbeddedPool(1024, True))
add("embedded", mp.BadSize, "does not fit in size_t", lambda s: mp.EmbeddedPool.for_blocks(8, 2**62))
add("embedded", mp.BadSize, "at least 1 byte", lambda s: s.pool.alloc(0),
    lambda s: s.pool.realloc(s.live[0], 0))
add("embedded", mp.OutOfMemory, "bytes free", lambda s: s.pool.alloc(4096),
    lambda s: s.pool.realloc(s.live[0], 4096))
add("slots", mp.OutOfMemory, "all 2 slots are in use (free a block", lambda s: s.pool.alloc(8))
add("embedded", mp.DoubleFree, "already freed", lambda s: s.pool.free(s.freed))
add("embedded", mp.StaleHandle, "use after free", lambda s: s.pool.realloc(s.freed, 8),
    lambda s: s.pool.lock(s.freed), lambda s: s.freed.read())
add("embedded", mp.ForeignBlock, "belongs to another pool", lambda s: s.pool.free(s.foreign),
    lambda s: s.pool.lock(s.foreign))
add("embedded", mp.LockError, "unlock it first", lambda s: s.pool.free(s.extra["locked"]))
add("embedded", mp.LockError, "only a locked block", lambda s: s.pool.unlock(s.live[0]))
add("embedded", mp.BadSize, "runs past the pool", lambda s: s.pool.peek(0, 10**6))
add("embedded", mp.BadSize, "must not be negative", lambda s: s.pool.peek(-1, 1))
add("embedded", mp.BadSize, "must be an integer", lambda s: s.pool.peek("a", 1))
add("embedded", mp.UseAfterClose, "is closed", lambda s: s.extra["closed"].compact(),
    lambda s: s.extra["closed"].alloc(8), lambda s: s.extra["closed"].memory())

# -- replay ----------------------------------------------------------------------------------
add("embedded", mp.TraceError, "needs a Trace", lambda s: mp.replay("a 0 8", s.pool))
add("embedded", mp.UseAfterClose, "is closed",
    lambda s: mp.replay(mp.Trace.parse("+8"), s.extra["closed"]))


@pytest.mark.parametrize("scene, call, exc, fragment", C)
def test_bad_input_is_refused_and_changes_nothing(scene, call, exc, fragment):
    s = SCENES[scene]()
    before = snapshot(s)
    with pytest.raises(exc) as caught:
        call(s)
    assert fragment in str(caught.value)
    if exc is not AttributeError:
        assert isinstance(caught.value, mp.PoolError)
    assert snapshot(s) == before


def test_the_table_is_large():
    assert len(C) >= 80


# -- the reproductions of issue 17, each a regression test -----------------------------------
def run_isolated(code):
    """Run `code` in a child process: a crash there fails the test instead of killing pytest."""
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", "import mempools as mp\n" + code],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stdout}\n{done.stderr[-2000:]}"
    return done.stdout


@pytest.mark.parametrize("growable", [False, True])
def test_mark_released_past_is_refused(growable):
    p = mp.BumpPool(128, growable=growable)
    p.alloc(9)
    m0 = p.mark()
    p.alloc(16)
    m1 = p.mark()
    p.release(m0)
    p.alloc(40)
    with pytest.raises(mp.StaleHandle, match="no longer valid"):
        p.release(m1)
    p.check()
    p.release(m0)  # the earlier mark is still good, as often as wanted
    p.release(m0)
    p.check()


def test_hand_built_mark_is_refused():
    p = mp.BumpPool(128)
    real = p.mark()
    p.alloc(64)
    fake = mp.Mark(p, real._index, 0, real._c_mark, 0)
    with pytest.raises(mp.ForeignBlock, match="not a mark of this pool"):
        p.release(fake)
    assert p.stats["used"] == 64


def test_unsafe_write_past_a_growable_chunk_is_refused_and_the_interpreter_lives():
    out = run_isolated(
        "p = mp.BumpPool(64, growable=True); a = p.alloc(60); p.alloc(20000)\n"
        "try:\n    a.unsafe_write(b'X' * 20000)\nexcept mp.BadSize as e:\n    print('refused', e)\n"
        "p.check(); p.close(); print('alive')")
    assert "refused" in out and "alive" in out


def test_unsafe_write_over_a_free_list_link_is_caught_before_it_is_followed():
    out = run_isolated(
        "f = mp.FixedPool(16, 4); a = f.alloc(); b = f.alloc(); f.free(b)\n"
        "a.unsafe_write(b'A' * 24)\n"
        "try:\n    f.alloc(); f.alloc()\nexcept mp.CorruptPool as e:\n    print('caught', e)\n"
        "try:\n    f.check()\nexcept mp.CorruptPool as e:\n    print('check', e)\n"
        "f.close(); print('alive')")
    assert "caught" in out and "overwritten" in out and "alive" in out


def test_block_size_cannot_be_forged():
    h = mp.Malloc()
    b = h.malloc(24)
    with pytest.raises(AttributeError):
        b.size = 2**34
    assert b.size == 24
    with pytest.raises(mp.BadSize, match="past the end"):
        b.read(2**20, at=2**33)


def test_hand_built_block_is_foreign_not_a_key_error():
    h = mp.Malloc()
    with pytest.raises(mp.ForeignBlock, match="not handed out by this pool"):
        h.free(mp.Block(h, 999, 8))


def test_free_address_that_wraps_around_is_foreign():
    f = mp.FixedPool(16, 4)
    a = f.alloc()
    with pytest.raises(mp.ForeignBlock, match="outside this pool's blocks"):
        f.free_address(a.address + 2**64)
    c = f.alloc()
    assert c.address != a.address and a.live
    f.check()


def test_reading_a_freed_block_is_a_use_after_free_not_a_double_free():
    h = mp.Malloc()
    b = h.malloc(8)
    h.free(b)
    with pytest.raises(mp.StaleHandle, match="use after free"):
        b.read()


@pytest.mark.parametrize("capacity, fragment", [(2**64 - 1, "no 18446744073709551615-byte array"),
                                                (2**48, "ask for a smaller capacity")])
def test_embedded_pool_too_large_is_out_of_memory_with_a_message(capacity, fragment):
    with pytest.raises(mp.OutOfMemory, match=fragment):
        mp.EmbeddedPool(capacity)


def test_next_pointer_of_a_string_is_bad_size_not_type_error():
    with pytest.raises(mp.BadSize, match="index must be an integer"):
        mp.FixedPool(16, 4).next_pointer("a")


def test_free_address_far_outside_names_the_address_not_an_offset():
    with pytest.raises(mp.ForeignBlock, match=f"{2**70:#x}"):
        mp.FixedPool(16, 4).free_address(2**70)


def test_embedded_out_of_slots_says_so():
    e = mp.EmbeddedPool(1024, 4)
    for _ in range(4):
        e.alloc(8)
    with pytest.raises(mp.OutOfMemory, match=r"EmbeddedPool.alloc\(8\): all 4 slots are in use "
                                             r"\(free a block or create the pool with more slots\)"):
        e.alloc(8)


def test_count_errors_use_the_right_unit():
    with pytest.raises(mp.BadSize, match="count must be at least 1 block"):
        mp.FixedPool(16, 0)
