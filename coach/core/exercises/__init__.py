"""Exercise engines: one state machine per exercise on shared hold and repetition parts."""
