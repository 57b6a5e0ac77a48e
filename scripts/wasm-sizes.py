#!/usr/bin/env python3
"""What makes a WebAssembly file large: its code by crate and by function.

    scripts/wasm-sizes.py FILE.wasm [CRATES] [FUNCTIONS]

Reads the function names from the file's `name` section, so give it the file cargo builds
before wasm-bindgen and wasm-opt strip them:
`$CARGO_TARGET_DIR/front/wasm32-unknown-unknown/wasm-release/frontend.wasm` after
`make release-site`. Sizes are of the code before wasm-opt (which shrinks it by about a
third); what counts is their share. A generic function is listed once with the number of
its copies (`x151`): copies of the same code for other types are what a Leptos bundle is
mostly made of. Prints the CRATES largest crates (default 25) and FUNCTIONS largest
functions (default 40).
"""
import collections
import re
import sys

ESCAPES = {'$LT$': '<', '$GT$': '>', '$u20$': ' ', '$RF$': '&', '$C$': ',', '$BP$': '*',
           '$SP$': '@', '$LP$': '(', '$RP$': ')', '$u7b$': '{', '$u7d$': '}', '$u3b$': ';',
           '$u2b$': '+', '$u3d$': '=', '$u27$': "'", '$u5b$': '[', '$u5d$': ']',
           '$u7e$': '~', '$u21$': '!'}


def leb(data, i):
    result = shift = 0
    while True:
        byte = data[i]
        i += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return result, i


def demangle(name):
    """Legacy Rust mangling (`_ZN…E`) to a path, without the hash; other names as they are."""
    if not name.startswith('_ZN'):
        return name
    i, parts = 3, []
    while i < len(name) and name[i] != 'E':
        digits = re.match(r'\d+', name[i:])
        if not digits:
            break
        i += len(digits.group())
        part = name[i:i + int(digits.group())]
        i += int(digits.group())
        for escape, char in ESCAPES.items():
            part = part.replace(escape, char)
        parts.append(part.replace('..', '::').removeprefix('_'))
    if parts and re.fullmatch(r'h[0-9a-f]{16}', parts[-1]):
        parts.pop()
    return '::'.join(parts)


def functions(data):
    """(size, name) of every function body in the file."""
    if data[:4] != b'\0asm':
        sys.exit('not a WebAssembly file')
    i, imported, bodies, names = 8, 0, [], {}
    while i < len(data):
        section = data[i]
        size, i = leb(data, i + 1)
        start, i = i, i + size
        if section == 2:  # imports: functions imported take the first indices
            count, j = leb(data, start)
            for _ in range(count):
                for _ in range(2):
                    length, j = leb(data, j)
                    j += length
                kind = data[j]
                j += 1
                if kind == 0:
                    _, j = leb(data, j)
                    imported += 1
                elif kind in (1, 2):
                    if kind == 1:
                        j += 1
                    flags = data[j]
                    _, j = leb(data, j + 1)
                    if flags & 1:
                        _, j = leb(data, j)
                elif kind == 3:
                    j += 2
        elif section == 10:  # code
            count, j = leb(data, start)
            for _ in range(count):
                length, body = leb(data, j)
                bodies.append(length + body - j)
                j = body + length
        elif section == 0:  # custom: the `name` section
            length, j = leb(data, start)
            if data[j:j + length] == b'name':
                j += length
                while j < start + size:
                    sub = data[j]
                    sub_size, j = leb(data, j + 1)
                    end = j + sub_size
                    if sub == 1:
                        count, j = leb(data, j)
                        for _ in range(count):
                            index, j = leb(data, j)
                            length, j = leb(data, j)
                            names[index] = data[j:j + length].decode('utf-8', 'replace')
                            j += length
                    j = end
    if not names:
        sys.exit('the file has no name section: give it the file cargo built, before wasm-opt')
    return [(size, demangle(names.get(k + imported, '?'))) for k, size in enumerate(bodies)]


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    with open(sys.argv[1], 'rb') as file:
        funcs = functions(file.read())
    crates_shown = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    functions_shown = int(sys.argv[3]) if len(sys.argv) > 3 else 40
    total = sum(size for size, _ in funcs)
    by_crate, by_function, copies = collections.Counter(), collections.Counter(), collections.Counter()
    for size, name in funcs:
        crates = re.findall(r'([a-z_][a-z_0-9]*)::', name)
        by_crate['app' if 'app::' in name else (crates[0] if crates else name[:30])] += size
        by_function[name] += size
        copies[name] += 1
    print(f'{total} bytes of code in {len(funcs)} functions')
    for crate, size in by_crate.most_common(crates_shown):
        print(f'{size:9d} {100 * size / total:5.1f}%  {crate}')
    print()
    for name, size in by_function.most_common(functions_shown):
        print(f'{size:9d} x{copies[name]:<4d} {name[:150]}')


if __name__ == '__main__':
    main()
