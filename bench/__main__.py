"""`python -m bench` (`make bench`): the Graph layer benchmark of issue #3."""

from bench.graph_layer import main

raise SystemExit(main())
