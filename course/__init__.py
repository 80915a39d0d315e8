"""The course: neural-network internals, by hand, graded against torch.

Each exercise module has a folder here beside its reference in solutions/: its torch
oracle, its public and hidden cases and its typical mistakes. See course.toml.
"""
