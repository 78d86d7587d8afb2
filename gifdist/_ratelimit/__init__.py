"""Rate-limit internals: the value types, the algorithms and the storage backends.

The public surface is :mod:`gifdist.ratelimit`; nothing here is imported directly
by other modules.
"""
