"""A 1 GiB blob round-trips through the SDK while the server's resident memory stays under 200 MB."""

import hashlib
import io

from azure.storage.blob import BlobServiceClient

from lapis_proc import Lapis

SIZE = 1024 * 1024 * 1024
RSS_LIMIT_KIB = 200 * 1024


class PatternStream(io.RawIOBase):
    """`SIZE` bytes of a repeating non-trivial pattern, generated on the fly, hashed as read."""

    def __init__(self, size):
        self.remaining = size
        self.block = hashlib.sha256(b"lapis").digest() * 32768  # 1 MiB
        self.offset = 0
        self.digest = hashlib.sha256()

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), self.remaining)
        if n == 0:
            return 0
        filled = 0
        while filled < n:
            start = (self.offset + filled) % len(self.block)
            piece = self.block[start:start + (n - filled)]
            b[filled:filled + len(piece)] = piece
            filled += len(piece)
        self.digest.update(b[:n])
        self.offset += n
        self.remaining -= n
        return n


class HashSink(io.RawIOBase):
    def __init__(self):
        self.digest = hashlib.sha256()
        self.size = 0

    def writable(self):
        return True

    def write(self, b):
        self.digest.update(b)
        self.size += len(b)
        return len(b)


def test_one_gib_round_trip_in_bounded_memory(tmp_path):
    server = Lapis(tmp_path / "data")
    try:
        service = BlobServiceClient.from_connection_string(
            server.blob_conn_str, max_block_size=8 * 1024 * 1024, max_single_put_size=8 * 1024 * 1024
        )
        cc = service.create_container("large")
        source = PatternStream(SIZE)
        cc.upload_blob("one-gib", io.BufferedReader(source, 4 * 1024 * 1024), length=SIZE, max_concurrency=4)
        sink = HashSink()
        cc.get_blob_client("one-gib").download_blob(max_concurrency=1).readinto(sink)
        assert sink.size == SIZE
        assert sink.digest.hexdigest() == source.digest.hexdigest()
        peak = server.rss_kib("VmHWM")
        print(f"peak RSS {peak / 1024:.1f} MiB")
        assert peak < RSS_LIMIT_KIB, f"peak RSS {peak} KiB over {RSS_LIMIT_KIB} KiB"
    finally:
        server.stop()
