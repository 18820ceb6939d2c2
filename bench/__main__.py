"""`python -m bench` (`make bench`): the Graph layer benchmark of issue #3, then the turn benchmark of issue #9.

    python -m bench [--quick | --long]          both
    python -m bench graph [options]             the Graph layer only (see `python -m bench graph --help`)
    python -m bench turns [options]             the turn benchmark only (see `python -m bench turns --help`)
"""

import sys

from bench import graph_layer, turns


def main(argv: list[str]) -> int:
    if argv[:1] == ["graph"]:
        return graph_layer.main(argv[1:])
    if argv[:1] == ["turns"]:
        return turns.main(argv[1:])
    if argv[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return 0
    graph_args = [arg for arg in argv if arg == "--quick"]  # the Graph layer has no long mode
    status = graph_layer.main(graph_args)
    print()
    return status or turns.main(argv)


raise SystemExit(main(sys.argv[1:]))
