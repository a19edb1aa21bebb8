"""mp.practice: seeded problems whose answers come from the C pools. Each answer is checked here
against an independent Python model that reads only the problem's text, as a student would."""

import re
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

import mempools as mp
from mempools import practice
from mempools.malloc import GLIBC

TOPICS = sorted(practice.TOPICS)
needs_glibc = pytest.mark.skipif(not GLIBC, reason="the malloc topic reads glibc chunk headers")


def topic_param(topic):
    return pytest.param(topic, marks=needs_glibc) if topic == "malloc" else topic


ALL = [topic_param(t) for t in TOPICS]


def align_up(n, a):
    return -(-n // a) * a


# -- independent models: the problem's text in, the answer out ---------------------------------
def model_bump(p):
    capacity = int(re.search(r"BumpPool\((\d+), align=8\)", p.setup).group(1))
    top = padding = start = 0
    for line in p.trace:
        m = re.fullmatch(r"\w+ = alloc\((\d+)(?:, align=(\d+))?\)", line)
        size, align = int(m.group(1)), int(m.group(2) or 8)
        start = align_up(top, align)
        padding += start - top
        top = start + size
    if "offset" in p.question:
        return start
    return padding if "padding" in p.question else capacity - top


def model_fixed(p):
    block_size, count = map(int, re.search(r"FixedPool\((\d+), (\d+)\)", p.setup).groups())
    stride = align_up(block_size, 8)
    free_list, high_water, where = [], 0, {}

    def alloc():
        nonlocal high_water
        if free_list:
            return free_list.pop(0)
        high_water += 1
        assert high_water <= count
        return (high_water - 1) * stride

    for line in p.trace:
        if m := re.fullmatch(r"(\w+) = alloc\(\)", line):
            where[m.group(1)] = alloc()
        else:
            free_list.insert(0, where.pop(re.fullmatch(r"free\((\w+)\)", line).group(1)))
    if "next two" in p.question:
        return f"{alloc()} {alloc()}"
    return alloc()


def model_embedded(p):
    data = int(re.search(r"with (\d+) bytes of data area", p.setup).group(1))
    blocks = {}  # name -> [offset, requested size]

    def first_fit(extent):
        cursor = 0
        for off, size in sorted(blocks.values()):
            if off - cursor >= extent:
                return cursor
            cursor = off + align_up(size, 8)
        return cursor if data - cursor >= extent else None

    def compact():
        moved, cursor = 0, 0
        for b in sorted(blocks.values()):
            if b[0] != cursor:
                moved += b[1]
                b[0] = cursor
            cursor += align_up(b[1], 8)
        return moved

    answer = None
    for line in p.trace:
        if m := re.fullmatch(r"(\w+) = alloc\((\d+)\)", line):
            size = int(m.group(2))
            at = first_fit(align_up(size, 8))
            if at is None:
                compact()
                at = first_fit(align_up(size, 8))
            blocks[m.group(1)] = [at, size]
            answer = at
        elif line == "compact()":
            answer = compact()
        else:
            del blocks[re.fullmatch(r"free\((\w+)\)", line).group(1)]
    return answer


def model_free_list(p):
    fit = re.search(r"fit='(\w+)'", p.setup).group(1)
    heap = []  # [offset, size, free] blocks tiling the heap from its first header
    where = {}  # name -> its block's header offset

    def block_at(off):
        return next(b for b in heap if b[0] == off)

    def alloc(n):
        need = max(32, align_up(n + 8, 16))
        fits = [b for b in heap if b[2] and b[1] >= need]
        if fits:
            block = min(fits, key=lambda b: b[0] if fit == "first" else (b[1], b[0]))
        elif heap and heap[-1][2]:  # the heap grows, merging with a free last block
            block = heap[-1]
            block[1] = need
        else:
            block = [heap[-1][0] + heap[-1][1] if heap else 0, need, True]
            heap.append(block)
        block[2] = False
        if block[1] - need >= 32:  # split
            heap.insert(heap.index(block) + 1, [block[0] + need, block[1] - need, True])
            block[1] = need
        return block[0]

    def free(off):
        i = heap.index(block_at(off))
        heap[i][2] = True
        if i + 1 < len(heap) and heap[i + 1][2]:
            heap[i][1] += heap.pop(i + 1)[1]
        if i > 0 and heap[i - 1][2]:
            heap[i - 1][1] += heap.pop(i)[1]

    answer = None
    for line in p.trace:
        if m := re.fullmatch(r"(\w+) = alloc\((\d+)\)", line):
            where[m.group(1)] = alloc(int(m.group(2)))
            answer = where[m.group(1)] + 8
        else:
            free(where.pop(re.fullmatch(r"free\((\w+)\)", line).group(1)))
    if "free blocks" in p.question:
        return sum(1 for b in heap if b[2])
    return answer


def model_malloc(p):
    n = int(re.fullmatch(r"p = malloc\((\d+)\)", p.trace[0]).group(1))
    chunk = max(32, align_up(n + 8, 16))  # 64-bit glibc: 8-byte size word, 16-byte granules
    return chunk if "chunk" in p.question else chunk - 8


MODELS = {"bump": model_bump, "fixed": model_fixed, "embedded": model_embedded,
          "free_list": model_free_list, "malloc": model_malloc}


@pytest.mark.parametrize("topic", ALL)
@pytest.mark.parametrize("seed", range(25))
def test_c_answer_matches_an_independent_model(topic, seed):
    problem = practice.problem(topic, seed)
    assert problem.answer == MODELS[topic](problem), problem.text(answer=True)


@pytest.mark.parametrize("topic", ALL)
@given(seed=st.integers(min_value=0, max_value=2**63))
def test_any_seed_agrees_with_the_model(topic, seed):
    problem = practice.problem(topic, seed)
    assert problem.answer == MODELS[topic](problem), problem.text(answer=True)


@pytest.mark.parametrize("topic", ALL)
def test_fifty_seeds_give_at_least_thirty_distinct_problems(topic):
    problems = {(p.setup, p.trace, p.question) for p in map(lambda s: practice.problem(topic, s),
                                                            range(50))}
    assert len(problems) >= 30


@pytest.mark.parametrize("topic", ALL)
def test_the_same_seed_gives_the_same_problem(topic):
    assert practice.problem(topic, 7) == practice.problem(topic, 7)
    assert getattr(mp.practice, topic)(seed=7) == practice.problem(topic, 7)


@pytest.mark.parametrize("topic", ALL)
def test_question_kinds_all_occur(topic):
    questions = {re.sub(r"\b[a-z]\b|\d+", "_", practice.problem(topic, s).question)
                 for s in range(50)}
    assert len(questions) >= 2


@pytest.mark.parametrize("topic, seed", [("nope", 1), ("bump", -1), ("bump", 1.5), ("bump", True)])
def test_bad_topic_or_seed_is_refused(topic, seed):
    with pytest.raises(ValueError):
        practice.problem(topic, seed)


@pytest.mark.parametrize("seed", [-1, 2.0, "3", None])
def test_topic_functions_refuse_bad_seeds(seed):
    with pytest.raises(ValueError, match="seed"):
        mp.practice.fixed(seed=seed)


def test_a_problem_displays_as_a_prediction_without_its_answer():
    problem = practice.problem("fixed", 11)
    bundle = problem._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "(run the cell to answer)" in bundle["text/plain"]
    assert problem.trace[0] in bundle["text/plain"]
    prediction = problem.prediction()
    assert prediction.key == "practice-fixed-11" and prediction.answer == problem.answer


def test_drill_moves_to_the_next_seed():
    d = mp.practice.drill("bump", seed=4)
    box = d.widget()
    first = box.children[1]
    d._next.click()
    assert d.seed == 5 and d.problem == practice.problem("bump", 5)
    assert box.children[1] is not first and "seed 5" in box.children[0].value
    static = d._repr_mimebundle_()
    assert static["text/plain"] == "Practice: bump problems from seed 5 (run the cell)"
    assert str(d.problem.answer) not in static["text/html"]


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "mempools", "practice", *args],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("topic", ALL)
def test_cli_prints_the_problem_and_hides_the_answer_unless_asked(topic):
    problem = practice.problem(topic, 3)
    asked = run_cli(topic, "--seed", "3")
    assert asked.returncode == 0, asked.stderr
    assert problem.question in asked.stdout and "Answer:" not in asked.stdout
    assert all(line in asked.stdout for line in problem.trace)
    revealed = run_cli(topic, "--seed", "3", "--answer")
    assert revealed.returncode == 0
    assert f"Answer: {problem.answer}\n" in revealed.stdout and problem.explain in revealed.stdout


@pytest.mark.parametrize("args", [("nope",), ("bump", "--seed", "-1"), ("bump", "--seed", "x")])
def test_cli_refuses_bad_arguments(args):
    result = run_cli(*args)
    assert result.returncode == 2 and "usage" in result.stderr
