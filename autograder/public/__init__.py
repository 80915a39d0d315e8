"""Public cases: shipped to students with the stubs and run by `autograder check`.

They need no torch: expected values are the articles' worked numbers and small
cases whose answers can be written down by hand.
"""
