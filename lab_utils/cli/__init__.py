"""The command line's commands, one module per group: ``data`` (dataset, melody), ``train``
(train, export), ``music`` (harmonize, enhance, compose), ``evaluation`` (evaluate); ``common``
holds what they share. Each command imports its library modules inside itself, so that
``python -m lab_utils --help`` starts fast (no TensorFlow, music21 or matplotlib)."""
