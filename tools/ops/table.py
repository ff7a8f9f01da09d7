"""Plain-text and Markdown tables for the ops tools' output."""


def text_table(header, rows):
    """Columns padded to their widest cell; returns the lines as a str."""
    rows = [[str(c) for c in r] for r in rows]
    widths = [len(h) for h in header]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    fmt = "  ".join("%%-%ds" % w for w in widths)
    out = [fmt % tuple(header), fmt % tuple("-" * w for w in widths)]
    out += [(fmt % tuple(r)).rstrip() for r in rows]
    return "\n".join(out)


def md_escape(s):
    return str(s).replace("|", "\\|").replace("\n", " ")


def markdown_table(header, rows):
    out = ["| " + " | ".join(header) + " |",
           "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(md_escape(c) for c in r) + " |" for r in rows]
    return "\n".join(out)
