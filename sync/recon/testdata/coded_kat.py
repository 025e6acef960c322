# Independent computation of the known answers in TestCodedKnownAnswers
# (coded_test.go): python3 testdata/coded_kat.py
import hashlib, struct
M64 = (1<<64)-1
def fmix(z):
    z ^= z >> 30; z = (z * 0xbf58476d1ce4e5b9) & M64
    z ^= z >> 27; z = (z * 0x94d049bb133111eb) & M64
    z ^= z >> 31; return z
def hashid(idb, key):
    h = key
    for k in range(4):
        h = fmix(h ^ struct.unpack_from('<Q', idb, 8*k)[0])
    return h
KSEED = 0x6a09e667f3bcc909; KAUX = 0xbb67ae8584caa73b
MAXSYM = 1<<24; NOIDX = None
class Mapping:
    def __init__(self, idb): self.rng = hashid(idb, KSEED); self.idx = 0
    def next(self):
        if self.idx is None or self.idx >= MAXSYM: self.idx = None; return None
        self.rng = (self.rng + 0x9e3779b97f4a7c15) & M64
        r = fmix(self.rng); i = self.idx; p = (i+1)*(i+2)
        if p >= r: self.idx = None; return None
        q = (p << 64) // r
        # smallest j > i with (j+1)(j+2) > q
        import math
        j = max(i+1, math.isqrt(q) - 3)
        while (j+1)*(j+2) <= q: j += 1
        assert j == i+1 or (j)*(j+1) <= q
        if j >= MAXSYM: j = None
        self.idx = j; return j
def checksum(idb): return hashid(idb, KAUX) & 0xffffffff
def uvarint(v):
    out = b''
    while v >= 0x80: out += bytes([v & 0x7f | 0x80]); v >>= 7
    return out + bytes([v])
def coded(ids, lo, hi):
    syms = [[0,0,0,0,0,0] for _ in range(hi-lo)]  # 4 limbs, chk, cnt
    for idb in ids:
        m = Mapping(idb); j = 0
        limbs = struct.unpack('<4Q', idb); c = checksum(idb)
        while j is not None and j < hi:
            if j >= lo:
                s = syms[j-lo]
                for k in range(4): s[k] ^= limbs[k]
                s[4] ^= c; s[5] = (s[5] + 1) & 0xff
            j = m.next()
    return b''.join(struct.pack('<4QIB', *s) for s in syms)
def fp(ids):
    s = sum(int.from_bytes(i, 'little') for i in ids) % (1<<256)
    return hashlib.sha256(s.to_bytes(32, 'little') + uvarint(len(ids))).digest()[:16]

idb = bytes(range(32))
print("hashSeed %016x" % hashid(idb, KSEED))
print("hashAux  %016x" % hashid(idb, KAUX))
print("checksum %08x" % checksum(idb))
m = Mapping(idb); seq = [0]
for _ in range(15): seq.append(m.next())
print("indices", seq)
# set
ids = [hashlib.sha256(b"vigil-recon-kat" + bytes([k])).digest() for k in range(40)]
msg = bytes([2, 1]) + uvarint(0) + uvarint(40) + fp(ids) + uvarint(6) + uvarint(6) + coded(ids, 0, 6)
print("initiate len", len(msg), "sha256", hashlib.sha256(msg).hexdigest())
print("symbols 6..8", coded(ids, 6, 8).hex())
# sketch logm=2 levels=4
logm, levels = 2, 4
cells = bytearray(levels << logm)
for idb2 in ids:
    a = hashid(idb2, KAUX) >> 32
    b = a & ((1<<logm)-1)
    rest = (a >> logm) | (1 << (24-logm))
    lvl = 0
    while rest & 1 == 0: rest >>= 1; lvl += 1
    lvl = min(lvl, levels-1)
    cells[b*levels + lvl] ^= (a >> 24) & 0xff
print("sketch", cells.hex())


