#!/usr/bin/env python3
"""Checks the rules of docs/design.md ("Layers") that a compiler does not.

1. A library folder includes only the folders below it (the LAYERS table), never the CLI.
2. No source file (lib/, src/, scripts/) over MAX_FILE_LINES lines; no function in lib/ or
   src/ over MAX_FUNCTION_LINES lines. Tests are exempt.
3. No <iostream> or <fstream> in zcryptsetup's program (lib/ and src/, the generator aside):
   iostreams' static set-up runs in every process that links them (docs/performance.md).
4. Every docs/design.md#anchor cited anywhere in the repository names a heading there, and no
   comment cites a "design section" that is not in the repository.

Prints one line per violation and exits 1 if there is any. Run from anywhere; an argument
names another tree to check (tests/structure/check_structure_test.sh uses that).
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else __file__).resolve()
if len(sys.argv) <= 1:
    ROOT = ROOT.parent.parent
LIB = ROOT / "lib" / "luks2ext"
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 70

# Each library folder and the folders it may include (besides itself). The main stack is
# base -> zoned -> luks2 -> layout -> cryptsetup -> activation -> metadata; crypttab stands on
# base alone; testing (the in-memory drive) on the drive interface.
STACK = ["base", "zoned", "luks2", "layout", "cryptsetup", "activation", "metadata"]
LAYERS = {name: set(STACK[:i]) for i, name in enumerate(STACK)}
LAYERS["crypttab"] = {"base"}
LAYERS["testing"] = {"base", "zoned"}
# bench (the benchmark verb's engine) stands beside metadata, on activation and below.
LAYERS["bench"] = set(STACK[: STACK.index("activation") + 1])

# The public headers (lib/luks2ext/include/luks2ext/) and the layer each belongs to. A new
# public header must be given a layer here.
PUBLIC = {
    "error.h": "base",
    "log.h": "base",
    "number.h": "base",
    "secret.h": "base",
    "units.h": "base",
    "fd_io.h": "base",
    "unique_fd.h": "base",
    "block_device.h": "zoned",
    "signature.h": "zoned",
    "layout.h": "layout",
    "format_options.h": "layout",
    "activation.h": "activation",
    "volume.h": "metadata",
    "format_volume.h": "metadata",
    "header_backup.h": "metadata",
    "external_edit.h": "metadata",
    "crypttab.h": "crypttab",
    "opener_schedule.h": "crypttab",
    "systemd_unit.h": "crypttab",
    "benchmark.h": "bench",
}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
problems = []


def rel(path):
    return path.relative_to(ROOT).as_posix()


def layer_of_include(target):
    """The layer a quoted include names, or None when it is no library header."""
    parts = target.split("/")
    if parts[0] == "luks2ext" and len(parts) == 2:
        return PUBLIC.get(parts[1], "?" + parts[1])
    if parts[0] in LAYERS and len(parts) == 2:
        return parts[0]
    return None


def check_layers():
    for header in sorted((LIB / "include" / "luks2ext").glob("*.h")):
        if header.name not in PUBLIC:
            problems.append(f"{rel(header)}: public header without a layer in PUBLIC")
    for path in sorted(LIB.rglob("*")):
        if path.suffix not in (".h", ".cc"):
            continue
        parts = path.relative_to(LIB).parts
        if parts[0] == "include":
            own = PUBLIC.get(path.name)
        else:
            own = parts[0] if len(parts) > 1 else None
        if own not in LAYERS:
            problems.append(f"{rel(path)}: file outside every layer folder")
            continue
        for target in INCLUDE_RE.findall(path.read_text()):
            layer = layer_of_include(target)
            if layer is None:
                problems.append(f"{rel(path)}: includes \"{target}\", which is no library header "
                                "(the library never includes the CLI)")
            elif layer.startswith("?"):
                problems.append(f"{rel(path)}: includes unknown public header \"{target}\"")
            elif layer != own and layer not in LAYERS[own]:
                problems.append(f"{rel(path)}: layer {own} includes \"{target}\" of layer {layer}")


def strip_code(text):
    """The text with comments, string and character literals blanked (newlines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif text.startswith('R"', i):
            m = re.match(r'R"([^(\s]*)\(', text[i:])
            end = text.find(")" + m.group(1) + '"', i) if m else -1
            j = n if end < 0 else end + len(m.group(1)) + 2
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(c + c)
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def functions(text):
    """(name, first line, body lines) of every function body at namespace or class scope."""
    code = strip_code(text)
    stack = []  # kinds of the open braces: "scope" (namespace/class), "function", "block"
    head_start = 0
    line = 1
    found = []
    for i, c in enumerate(code):
        if c == "\n":
            line += 1
        elif c == "{":
            head = code[head_start:i]
            if any(entry[0] in ("function", "block") for entry in stack):
                stack.append(("block", line, ""))
            elif re.search(r"\b(namespace|class|struct|union|enum)\b", head) and "(" not in head:
                stack.append(("scope", line, ""))
            elif re.search(r'extern\s*""', head):
                stack.append(("scope", line, ""))
            elif ")" in head and not re.search(r"[=(,]\s*$", head):
                name = re.findall(r"([~\w:]+)\s*\(", head)
                stack.append(("function", line, name[0] if name else "?"))
            else:
                stack.append(("block", line, ""))
            head_start = i + 1
        elif c == "}":
            if stack:
                kind, first, name = stack.pop()
                if kind == "function":
                    found.append((name, first, line - first + 1))
            head_start = i + 1
        elif c == ";":
            head_start = i + 1
        elif c == ":" and stack and stack[-1][0] == "scope" and \
                re.search(r"\b(public|private|protected)\s*$", code[head_start:i]):
            head_start = i + 1
    return found


def check_sizes():
    sources = [p for d in ("lib", "src") for p in (ROOT / d).rglob("*")
               if p.suffix in (".h", ".cc")]
    scripts = list((ROOT / "scripts").glob("*"))
    for path in sorted(sources + scripts):
        if not path.is_file():
            continue
        lines = path.read_text().count("\n")
        if lines > MAX_FILE_LINES:
            problems.append(f"{rel(path)}: {lines} lines (at most {MAX_FILE_LINES})")
    for path in sorted(sources):
        for name, first, length in functions(path.read_text()):
            if length > MAX_FUNCTION_LINES:
                problems.append(f"{rel(path)}:{first}: function {name} is {length} lines "
                                f"(at most {MAX_FUNCTION_LINES})")


IOSTREAM_RE = re.compile(r'^\s*#\s*include\s+<(iostream|fstream)>', re.M)


def check_no_iostreams():
    for path in sorted(p for d in ("lib", "src") for p in (ROOT / d).rglob("*")
                       if p.suffix in (".h", ".cc")):
        if "generator" in path.relative_to(ROOT).parts:
            continue  # its own small program, run once per boot
        for match in IOSTREAM_RE.finditer(path.read_text()):
            problems.append(f"{rel(path)}: includes <{match.group(1)}>; print with fmt::print "
                            "and read kernel files with ReadKernelText")


def slug(heading):
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def check_design_citations():
    design = ROOT / "docs" / "design.md"
    if not design.is_file():
        problems.append("docs/design.md is missing")
        return
    anchors = {slug(h) for h in re.findall(r"^#+\s+(.*)$", design.read_text(), re.M)}
    for path in sorted(ROOT.rglob("*")):
        if not path.is_file() or ".git" in path.parts or path.suffix not in (
                ".h", ".cc", ".md", ".sh", ".py", ".txt"):
            continue
        top = path.relative_to(ROOT).parts
        # Build trees hold copies; the checker's self-test plants bad citations on purpose.
        if top[0].startswith("build") or top[:2] == ("tests", "structure"):
            continue
        text = path.read_text(errors="replace")
        for number, text_line in enumerate(text.splitlines(), 1):
            for anchor in re.findall(r"design\.md#([\w\-]+)", text_line):
                if anchor != "anchor" and anchor not in anchors:  # "#anchor": the placeholder
                    problems.append(f"{rel(path)}:{number}: docs/design.md has no #{anchor}")
            if re.search(r"design section \d|section \d's invariant", text_line, re.I):
                problems.append(f"{rel(path)}:{number}: cites a design section outside the "
                                "repository; cite docs/design.md#anchor")


def main():
    check_layers()
    check_sizes()
    check_no_iostreams()
    check_design_citations()
    for problem in problems:
        print(problem)
    print(f"check-structure: {len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
