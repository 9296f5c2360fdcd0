#!/usr/bin/env python3
"""Reference verdicts for French identifiers, computed by python-stdnum.

Used by crates/core/tests/ids_reference.rs to compare Maillage's parsers with an
independent implementation.

Usage: check.py FILE

FILE holds one candidate per line: "<kind>\t<value>", kind being nir, siren or siret.
For each line, in order, prints "valid" or "invalid <stdnum exception name>" on stdout.
The stdnum version goes to stderr. Exit status: 0 on success, 2 on bad usage or input,
3 when python-stdnum is missing.
"""

import sys

try:
    import stdnum
    from stdnum.exceptions import ValidationError
    from stdnum.fr import nir, siren, siret
except ImportError:
    print(
        "python-stdnum is missing: pip install -r tools/idref/requirements.txt",
        file=sys.stderr,
    )
    sys.exit(3)

VALIDATORS = {"nir": nir.validate, "siren": siren.validate, "siret": siret.validate}


def verdict(kind, value):
    try:
        VALIDATORS[kind](value)
    except ValidationError as e:
        return "invalid " + type(e).__name__
    return "valid"


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    print("stdnum " + stdnum.__version__, file=sys.stderr)
    lines = []
    with open(argv[1], encoding="utf-8") as f:
        for number, line in enumerate(f, start=1):
            kind, tab, value = line.rstrip("\n").partition("\t")
            if not tab or kind not in VALIDATORS:
                print(f"line {number}: expected '<kind>\\t<value>' with kind in "
                      f"{sorted(VALIDATORS)}, got {line!r}", file=sys.stderr)
                return 2
            lines.append(verdict(kind, value))
    sys.stdout.write("".join(v + "\n" for v in lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
