"""mp.show_c: what it displays is the function's real lines of the C file, read at run time."""

import html
import re

import pytest

import mempools as mp
from mempools import resources, source

# one core function per lesson (and the naive versions lessons show next to the real ones)
LESSON_FUNCTIONS = [
    ("bump_pool_alloc_aligned", "bump_pool.c"),
    ("fixed_pool_alloc", "fixed_pool.h"),  # the inline fast path; the rest is fixed_pool_alloc_slow
    ("fixed_pool_free", "fixed_pool.h"),
    ("gap_first_fit", "embedded_pool.c"),
    ("pool_compact", "embedded_pool.c"),
    ("naive_embedded_alloc", "naive/naive_pools.c"),
    ("naive_bump_alloc", "naive/naive_pools.c"),
]

NUMBERED = re.compile(r" *(\d+)  (.*)")


def shown_lines(shown):
    """(line number, text) of every numbered line of the text/plain display."""
    return [(int(m.group(1)), m.group(2)) for m in map(NUMBERED.fullmatch, repr(shown).splitlines()) if m]


@pytest.mark.parametrize("name, file", LESSON_FUNCTIONS)
def test_displayed_lines_are_the_files_lines(name, file):
    shown = mp.show_c(name)
    file_lines = (resources.csrc_dir() / file).read_text().splitlines()
    lines = shown_lines(shown)
    numbers = [n for n, _ in lines]
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))
    assert all(file_lines[n - 1] == text for n, text in lines)
    # the whole definition: its signature, its body up to the closing brace, nothing after
    signature = next(i for i, t in enumerate(file_lines) if re.match(rf"\S.*\b{name}\(", t)
                     and not t.rstrip().endswith(";"))
    assert signature + 1 in numbers and lines[-1][1] == "}"
    assert f"csrc/{file}, lines {numbers[0]}-{numbers[-1]}" in repr(shown)


@pytest.mark.parametrize("name, file", LESSON_FUNCTIONS)
def test_highlighted_html_holds_the_same_lines(name, file):
    shown = mp.show_c(name)
    text = html.unescape(re.sub(r"<[^>]+>", "", shown._repr_html_()))
    for number, line in shown_lines(shown):
        assert f"{number}{line}" in text
    assert f"csrc/{file}" in text and "<span style=" in shown._repr_html_()


def test_several_functions_side_by_side():
    shown = mp.show_c("naive_embedded_alloc", "gap_first_fit")
    assert [f.name for f in shown.functions] == ["naive_embedded_alloc", "gap_first_fit"]
    assert shown._repr_html_().count("class='mp-c-source'") == 2


def test_source_is_read_at_run_time_from_csrc_dir(tmp_path, monkeypatch):
    (tmp_path / "demo.c").write_text(
        "/* a prototype is not a definition */\n"
        "int demo_fn(int x);\n"
        "\n"
        "/* braces in strings and comments\n"
        " * do not end it */\n"
        "int demo_fn(int x)\n"
        "{\n"
        '    const char *s = "}"; /* } */\n'
        "    char c = '}'; // }\n"
        "    if (x) { return s[0] + c; }\n"
        "    return 0;\n"
        "}\n"
        "int after(void) { return 1; }\n")
    monkeypatch.setattr(source, "csrc_dir", lambda: tmp_path)
    f = source.find_c("demo_fn")
    assert (f.first_line, f.last_line) == (4, 12)
    assert f.lines[0].startswith("/* braces") and f.lines[-1] == "}"


@pytest.mark.parametrize("args, kwargs, message", [
    (("no_such_function",), {}, "no definition"),
    (("fixed_pool_alloc",), {"file": "nope.c"}, "no C file"),
    (("fixed pool",), {}, "identifier"),
    ((), {}, "at least one"),
    ((3,), {}, "identifier"),
])
def test_bad_names_are_refused(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        mp.show_c(*args, **kwargs)


def test_file_chooses_between_two_static_functions(tmp_path, monkeypatch):
    (tmp_path / "naive").mkdir()
    for name in ("one.c", "naive/two.c"):
        (tmp_path / name).write_text(f"static int helper(void)\n{{\n    return {len(name)};\n}}\n")
    monkeypatch.setattr(source, "csrc_dir", lambda: tmp_path)
    with pytest.raises(ValueError, match=r"csrc/naive/two.c, csrc/one.c: pass file="):
        mp.show_c("helper")
    assert mp.show_c("helper", file="naive/two.c").functions[0].where == "csrc/naive/two.c"
    assert mp.show_c("helper", file="one.c").functions[0].lines[2] == "    return 5;"
