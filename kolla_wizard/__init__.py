"""The composition root: the one place that assembles the program.

It parses argv, starts the lab when asked, points openstacksdk at the lab's clouds.yaml, and picks
the face (the Textual app or a headless command). ``wizard/`` (the headless core), ``screens/``
(the TUI) and ``kolla_lab/`` (the lab) never import it and never import each other upward;
``tests/unit/test_layering.py`` holds that."""
