"""The example submissions bundled with the course (examples/submissions/), as `autograder build`
makes them: the reference, the untouched stubs, or the reference with typical mistakes planted."""

EXAMPLES = {
    "alice_correct": "solutions",
    "bob_buggy": ("dW transposed", "relu'(0) = 1", "loss recorded after the step"),
    "carol_untouched": "exercises",
}
