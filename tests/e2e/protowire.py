"""A hand-packed protobuf codec for tests that build RPC envelopes without
generated code: varint and length-delimited fields only."""


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def fbytes(no, b):
    if isinstance(b, str):
        b = b.encode()
    return varint(no << 3 | 2) + varint(len(b)) + b


def fvarint(no, v):
    return varint(no << 3) + varint(v)


def fields(buf):
    """{field number: [values]} of one protobuf message (varint, bytes)."""
    out, i = {}, 0
    while i < len(buf):
        key, i = read_varint(buf, i)
        no, wt = key >> 3, key & 7
        if wt == 0:
            v, i = read_varint(buf, i)
        elif wt == 2:
            n, i = read_varint(buf, i)
            v, i = buf[i:i + n], i + n
        else:
            raise AssertionError("wire type %d" % wt)
        out.setdefault(no, []).append(v)
    return out


def read_varint(buf, i):
    v = shift = 0
    while True:
        b = buf[i]
        i += 1
        v |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return v, i
