"""Durations as the make variables give them: "10m", "30s", "1h", "90"."""


def seconds(text):
    """"10m", "30s", "1h", "90" -> seconds; raises ValueError."""
    t = str(text).strip().lower()
    mult = {"s": 1, "m": 60, "h": 3600}.get(t[-1:], None)
    v = float(t[:-1] if mult else t) * (mult or 1)
    if v <= 0:
        raise ValueError("not a positive duration: %r" % text)
    return v
