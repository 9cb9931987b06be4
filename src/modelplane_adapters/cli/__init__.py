"""The ``modelplane`` command line: one module per subcommand group."""
