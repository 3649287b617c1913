"""Can I trust it: TrustView (:mod:`.view`) with its curves, sanity strip, scrubber and ranking
table, and the trust badges.
"""
