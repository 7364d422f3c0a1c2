"""Turn plain results (diffs, revision lists) into terminal text, plain markers, JSON or HTML.

Article text is data: every renderer passes it through :func:`revtrack.render.safe.visible`
(or JSON/HTML escaping), so nothing in an article can steer the terminal or rich.
"""
