"""Exercise kit and sandboxed autograder for neural-network internals."""
