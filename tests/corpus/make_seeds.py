#!/usr/bin/env python3
"""Writes the seed inputs of the fuzz targets (tests/corpus/{csv,npy,idx,png,model}/).

Valid files and the interesting invalid ones the readers must refuse with a
diffeo::Error.  Run from anywhere; rewrites only the seed_* files, so
regression inputs saved from fuzz findings (other names) are kept.  Model
seeds are made at fuzz time by the current CLI (scripts/fuzz).
"""
import gzip
import os
import struct
import zlib


ROOT = os.path.dirname(os.path.abspath(__file__))


def write(reader, name, data):
    os.makedirs(os.path.join(ROOT, reader), exist_ok=True)
    with open(os.path.join(ROOT, reader, "seed_" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


# ---------------------------------------------------------------- CSV
csv = {
    "valid.csv": "x,y\n1,2\n3.5,-4e-3\n",
    "no_header.csv": "1,2,3\n4,5,6\n",
    "one_column.csv": "v\n1\n2\n3\n",
    "header_only.csv": "x,y\n",
    "empty.csv": "",
    "blank_lines.csv": "\n\nx,y\n\n1,2\n\n3,4\n\n",
    "ragged.csv": "x,y\n1,2\n3\n",
    "crlf.csv": "x,y\r\n1,2\r\n3,4\r\n",
    "bom.csv": "\ufeffx,y\n1,2\n",
    "nan.csv": "x,y\n1,nan\nNaN,2\n",
    "inf.csv": "x,y\ninf,1\n-Infinity,2\n",
    "semicolon.csv": "x;y\n1;2\n",
    "tabs_and_spaces.csv": " 1 ,\t2\n+3, 4 \n",
    "empty_cell.csv": "1,,3\n",
    "extremes.csv": "1e308,1e-320,-0\n1.7976931348623157e308,4.9e-324,0x10\n",
    "quoted.csv": '"a","b"\n"1","2"\n',
    "no_final_newline.csv": "1,2\n3,4",
    "trailing_comma.csv": "1,2,\n3,4,\n",
}
for name, text in csv.items():
    write("csv", name, text)


# ---------------------------------------------------------------- NPY
def npy(header, data=b"", major=1, pad=True):
    header = header.encode()
    length_width = 2 if major == 1 else 4
    if pad:
        unpadded = 6 + 2 + length_width + len(header) + 1
        header += b" " * ((64 - unpadded % 64) % 64) + b"\n"
    length = struct.pack("<H" if major == 1 else "<I", len(header))
    return b"\x93NUMPY" + bytes([major, 0]) + length + header + data


def dict_header(descr, shape, fortran=False):
    return "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (
        descr, "True" if fortran else "False", shape)


def pack(fmt, values):
    return b"".join(struct.pack(fmt, v) for v in values)


six = list(range(6))
f8, f4 = pack("<d", six), pack("<f", six)
write("npy", "v1_f8.npy", npy(dict_header("<f8", "(3, 2)"), f8))
write("npy", "v1_f4.npy", npy(dict_header("<f4", "(3, 2)"), f4))
write("npy", "v2_f8.npy", npy(dict_header("<f8", "(3, 2)"), f8, major=2))
write("npy", "v3.npy", npy(dict_header("<f8", "(3, 2)"), f8, major=3))
write("npy", "truncated_data.npy", npy(dict_header("<f8", "(3, 2)"), f8[:20]))
write("npy", "truncated_header.npy", npy(dict_header("<f8", "(3, 2)"))[:30])
write("npy", "big_endian.npy", npy(dict_header(">f8", "(3, 2)"), pack(">d", six)))
write("npy", "int64.npy", npy(dict_header("<i8", "(3, 2)"), pack("<q", six)))
write("npy", "fortran.npy", npy(dict_header("<f8", "(3, 2)", fortran=True), f8))
write("npy", "one_d.npy", npy(dict_header("<f8", "(6,)"), f8))
write("npy", "three_d.npy", npy(dict_header("<f8", "(1, 3, 2)"), f8))
write("npy", "empty_array.npy", npy(dict_header("<f8", "(0, 2)")))
write("npy", "huge_shape.npy", npy(dict_header("<f8", "(4294967296, 4294967296)"), f8))
write("npy", "negative_shape.npy", npy(dict_header("<f8", "(-1, 2)"), f8))
write("npy", "nan.npy", npy(dict_header("<f8", "(3, 2)"),
                            pack("<d", [1, float("nan"), float("inf"), 2, 3, 4])))
write("npy", "bad_magic.npy", b"\x93NUMPZ\x01\x00" + f8)
write("npy", "no_shape.npy", npy("{'descr': '<f8', 'fortran_order': False, }", f8))
write("npy", "unpadded.npy", npy(dict_header("<f8", "(3, 2)"), f8, pad=False))


# ---------------------------------------------------------------- IDX
def idx(code, shape, data):
    return bytes([0, 0, code, len(shape)]) + b"".join(struct.pack(">I", s) for s in shape) + data


twelve = list(range(12))
u8 = bytes(twelve)
write("idx", "uint8.idx", idx(0x08, (3, 2, 2), u8))
write("idx", "int8.idx", idx(0x09, (12,), u8))
write("idx", "int16.idx", idx(0x0B, (3, 4), pack(">h", twelve)))
write("idx", "int32.idx", idx(0x0C, (2, 6), pack(">i", twelve)))
write("idx", "float32.idx", idx(0x0D, (4, 3), pack(">f", twelve)))
write("idx", "float64.idx", idx(0x0E, (2, 2, 3), pack(">d", twelve)))
write("idx", "uint8.idx.gz", gzip.compress(idx(0x08, (3, 4), u8), mtime=0))
write("idx", "float32.idx.gz", gzip.compress(idx(0x0D, (12,), pack(">f", twelve)), mtime=0))
write("idx", "truncated.gz", gzip.compress(idx(0x08, (3, 4), u8), mtime=0)[:25])
write("idx", "truncated_data.idx", idx(0x08, (3, 5), u8))
write("idx", "trailing.idx", idx(0x08, (2, 5), u8))
write("idx", "bad_type.idx", idx(0x0A, (12,), u8))
write("idx", "bad_magic.idx", b"\x00\x01" + idx(0x08, (12,), u8)[2:])
write("idx", "rank0.idx", bytes([0, 0, 8, 0]))
write("idx", "rank9.idx", idx(0x08, (1,) * 9, u8[:1]))
write("idx", "huge_dims.idx", idx(0x08, (0xFFFFFFFF, 0xFFFFFFFF), u8))
write("idx", "zero_dim.idx", idx(0x08, (0, 5), b""))
write("idx", "short_header.idx", bytes([0, 0, 8, 3, 0, 0]))


# ---------------------------------------------------------------- PNG
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width, height, bit_depth, color_type, rows, extra=b"", interlace=0):
    """A PNG of `rows` (bytes per row, filter byte 0 prepended), with `extra` chunks before IDAT."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, interlace)
    raw = b"".join(b"\x00" + r for r in rows)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra +
            chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


grey = png(3, 2, 8, 0, [bytes([0, 128, 255]), bytes([1, 2, 3])])
write("png", "grey.png", grey)
write("png", "rgb.png", png(2, 2, 8, 2, [bytes(range(6)), bytes(range(6, 12))]))
write("png", "rgba_opaque.png", png(1, 2, 8, 6, [bytes([1, 2, 3, 255]), bytes([4, 5, 6, 255])]))
write("png", "rgba_transparent.png", png(1, 1, 8, 6, [bytes([1, 2, 3, 0])]))
write("png", "grey_alpha.png", png(2, 1, 8, 4, [bytes([9, 255, 10, 255])]))
write("png", "palette.png", png(4, 1, 2, 3, [bytes([0b00011011])],
                                chunk(b"PLTE", bytes(range(12)))))
write("png", "palette_trns.png", png(2, 1, 8, 3, [bytes([0, 1])],
                                     chunk(b"PLTE", bytes(range(6))) + chunk(b"tRNS", b"\xff\x00")))
write("png", "palette_missing.png", png(2, 1, 8, 3, [bytes([0, 1])]))
write("png", "one_bit.png", png(9, 1, 1, 0, [bytes([0b10101010, 0b10000000])]))
write("png", "sixteen_bit.png", png(2, 1, 16, 2, [bytes(range(12))]))
write("png", "interlaced.png", png(3, 3, 8, 0, [bytes([i, i, i]) for i in range(3)], interlace=1))
write("png", "truncated.png", grey[:len(grey) - 20])
write("png", "bad_crc.png", grey[:20] + bytes([grey[20] ^ 1]) + grey[21:])
write("png", "signature_only.png", grey[:8])
write("png", "huge_header.png", png(1000000, 1000000, 8, 0, [bytes(16)]))
write("png", "zero_width.png", png(0, 1, 8, 0, [b""]))
write("png", "bad_depth.png", png(1, 1, 7, 0, [b"\x00"]))
write("png", "short_rows.png", png(4, 4, 8, 0, [bytes(2)]))


# ---------------------------------------------------------------- model files
# Invalid ones only: valid model files change with the format, so scripts/fuzz
# and the corpus_model test make them with the current CLI.
magic = b"\x89DIFFEO\n"
write("model", "empty.flow", b"")
write("model", "zip.flow", b"PK\x03\x04" + bytes(26))
write("model", "magic_only.flow", magic)
write("model", "short_preamble.flow", magic + struct.pack("<I", 1) + bytes(8))
write("model", "huge_lengths.flow", magic + struct.pack("<IIQQ", 1, 0, 2**63, 2**63))
header = b'{"meta": {}, "tensors": []}'
write("model", "no_spec.flow",
      magic + struct.pack("<IIQQ", 1, 0, len(header), 0) + header)
