"""Test machinery, apart from the tests: the act harness, the moto-backed ECS simulator, the
GitHub REST stand-in, the registry client, and the shared fixtures built on them."""
