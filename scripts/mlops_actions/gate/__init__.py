"""The model gate: metrics with confidence intervals, checks, and the verdict."""
