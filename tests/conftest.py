import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "mempools", max_examples=60, stateful_step_count=40, deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("mempools")


def end_tokens(ident: int, size: int) -> tuple[bytes, bytes]:
    """Distinct bytes for the first and last (up to) 4 bytes of a block."""
    n = min(4, size)
    head = bytes((ident * 7 + i + 1) & 0xFF for i in range(n))
    tail = bytes((ident * 13 + i + 101) & 0xFF for i in range(n))
    return head, tail


def write_tokens(block, ident: int) -> None:
    head, tail = end_tokens(ident, block.size)
    block.write(head)
    block.write(tail, at=block.size - len(tail))


def tokens_intact(block, ident: int) -> bool:
    head, tail = end_tokens(ident, block.size)
    if block.size < 8:
        # the two tokens overlap on a tiny block: the tail was written last and wins
        return block.read(len(tail), at=block.size - len(tail)) == tail
    return block.read(len(head)) == head and block.read(len(tail), at=block.size - len(tail)) == tail


@pytest.fixture
def heap():
    import mempools as mp

    h = mp.Malloc()
    yield h
    h.close()
