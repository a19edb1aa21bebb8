"""find-leak: count the words, and leave no block live on any path. The live count belongs to
the tracked allocator; no call resets it, so each check compares before and after."""

from mempools.exercises.tester import Checks, Tester

LESSON = "01"
TITLE = "Find the leak"
DECLARATIONS = "int ex_word_count(const char *text);"
CHECKS = Checks()


def _count(t: Tester, text: str) -> int:
    t.op(f'ex_word_count("{text}")')
    return int(t.lib.ex_word_count(text.encode()))


def _no_new_blocks(t: Tester, text: str, want: int, path: str) -> None:
    before, foreign = t.live_blocks(), t.foreign_frees()
    got = _count(t, text)
    if got != want:
        t.fail("word count", f'ex_word_count("{text}") returned {got}, expected {want}')
    if t.foreign_frees() != foreign:
        t.fail("free what you allocated", f'ex_word_count("{text}") freed a pointer that malloc '
               "never handed out")
    leaked = t.live_blocks() - before
    if leaked:
        t.fail("no leak", f"{leaked} block(s) still live after {path}: a leak")


@CHECKS("counts words")
def _leak_counts(t: Tester) -> None:
    for text, want in [("one two three", 3), ("single", 1), ("", 0)]:
        got = _count(t, text)
        if got != want:
            t.fail("word count", f'ex_word_count("{text}") returned {got}, expected {want}')


@CHECKS("no leak on the normal path")
def _leak_normal(t: Tester) -> None:
    _no_new_blocks(t, "a b c", 3, "a normal call")


@CHECKS("no leak on the early return")
def _leak_early(t: Tester) -> None:
    _no_new_blocks(t, "go STOP here", -1, "returning -1 at STOP")
