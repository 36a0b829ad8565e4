package conformance

// Upload and download of block blobs: small, empty, multi-MB through block staging, and the
// block list in each of its three views.

import (
	"bytes"
	"crypto/md5"
	"regexp"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
)

const miB = 1024 * 1024

var etagPattern = regexp.MustCompile(`^"0x[0-9A-F]+"$`)

func TestSmallUploadRoundTrips(t *testing.T) {
	c := newContainer(t, "go-small")
	bb := c.NewBlockBlobClient("dir/small.txt")
	data := []byte("hello, lapis\n")
	put, err := bb.Upload(ctx(t), body(data), &blockblob.UploadOptions{
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: ptr("text/plain; charset=utf-8")},
		Metadata:    map[string]*string{"origin": ptr("go")},
	})
	must(t, err, "upload")
	if put.ETag == nil || !etagPattern.MatchString(string(*put.ETag)) {
		t.Fatalf("etag %v does not look like Azure's", put.ETag)
	}
	// Azure computes Content-MD5 for a single-shot Put Blob.
	sum := md5.Sum(data)
	if !bytes.Equal(put.ContentMD5, sum[:]) {
		t.Fatalf("Content-MD5 %x, want %x", put.ContentMD5, sum)
	}

	got, resp := readAll(t, bb.BlobClient(), nil)
	if !bytes.Equal(got, data) {
		t.Fatalf("body %q, want %q", got, data)
	}
	if *resp.ContentLength != int64(len(data)) || *resp.ContentType != "text/plain; charset=utf-8" {
		t.Fatalf("length %d type %q", *resp.ContentLength, *resp.ContentType)
	}
	if *resp.ETag != *put.ETag || *resp.BlobType != blob.BlobTypeBlockBlob {
		t.Fatalf("etag %v type %v", *resp.ETag, *resp.BlobType)
	}
	if v := metaValue(resp.Metadata, "origin"); v != "go" {
		t.Fatalf("metadata %v", resp.Metadata)
	}
}

func TestRangedDownloadIs206(t *testing.T) {
	c := newContainer(t, "go-range")
	bb := c.NewBlockBlobClient("range.bin")
	data := payload(1000, 7)
	_, err := bb.Upload(ctx(t), body(data), nil)
	must(t, err, "upload")
	got, resp := readAll(t, bb.BlobClient(), &blob.DownloadStreamOptions{Range: blob.HTTPRange{Offset: 100, Count: 50}})
	if !bytes.Equal(got, data[100:150]) {
		t.Fatalf("range body differs")
	}
	if *resp.ContentLength != 50 || *resp.ContentRange != "bytes 100-149/1000" {
		t.Fatalf("length %d range %q", *resp.ContentLength, *resp.ContentRange)
	}
}

func TestEmptyBlob(t *testing.T) {
	c := newContainer(t, "go-empty")
	bb := c.NewBlockBlobClient("empty")
	_, err := bb.Upload(ctx(t), body(nil), nil)
	must(t, err, "upload")
	got, resp := readAll(t, bb.BlobClient(), nil)
	if len(got) != 0 || *resp.ContentLength != 0 {
		t.Fatalf("empty blob came back with %d bytes, length %d", len(got), *resp.ContentLength)
	}
	props, err := bb.GetProperties(ctx(t), nil)
	must(t, err, "get properties")
	if *props.ContentLength != 0 {
		t.Fatalf("content length %d", *props.ContentLength)
	}
}

func TestMissingBlobIs404(t *testing.T) {
	c := newContainer(t, "go-missing")
	b := c.NewBlobClient("nope")
	_, err := b.DownloadStream(ctx(t), nil)
	expectError(t, err, 404, "BlobNotFound")
	// HEAD has no body; the code must still come in x-ms-error-code.
	_, err = b.GetProperties(ctx(t), nil)
	expectError(t, err, 404, "BlobNotFound")
}

func TestMultiMegabyteUploadThroughStaging(t *testing.T) {
	c := newContainer(t, "go-big")
	bb := c.NewBlockBlobClient("big.bin")
	data := payload(5*miB+123, 3)
	// UploadStream stages one block per BlockSize and commits them: Put Block + Put Block List.
	opts := &blockblob.UploadStreamOptions{BlockSize: miB, Concurrency: 2}
	_, err := bb.UploadStream(ctx(t), bytes.NewReader(data), opts)
	must(t, err, "upload stream")
	list, err := bb.GetBlockList(ctx(t), blockblob.BlockListTypeCommitted, nil)
	must(t, err, "get block list")
	if n := len(list.BlockList.CommittedBlocks); n != 6 {
		t.Fatalf("%d committed blocks, want 6", n)
	}
	if *list.BlobContentLength != int64(len(data)) {
		t.Fatalf("blob length %d, want %d", *list.BlobContentLength, len(data))
	}
	got, _ := readAll(t, bb.BlobClient(), nil)
	if !bytes.Equal(got, data) {
		t.Fatalf("downloaded %d bytes differ from the %d uploaded", len(got), len(data))
	}
}

func blockNames(blocks []*blockblob.Block) [][2]any {
	out := [][2]any{}
	for _, b := range blocks {
		out = append(out, [2]any{*b.Name, *b.Size})
	}
	return out
}

func TestBlockListViews(t *testing.T) {
	c := newContainer(t, "go-blocks")
	bb := c.NewBlockBlobClient("blocks.bin")
	parts := [][]byte{payload(1000, 11), payload(2000, 12), payload(3000, 13)}
	for i, p := range parts {
		_, err := bb.StageBlock(ctx(t), blockID(i), body(p), nil)
		must(t, err, "stage block")
	}
	// Staged blocks do not make a blob.
	_, err := bb.GetProperties(ctx(t), nil)
	expectError(t, err, 404, "BlobNotFound")

	before, err := bb.GetBlockList(ctx(t), blockblob.BlockListTypeUncommitted, nil)
	must(t, err, "uncommitted list")
	want := [][2]any{{blockID(0), int64(1000)}, {blockID(1), int64(2000)}, {blockID(2), int64(3000)}}
	if got := blockNames(before.BlockList.UncommittedBlocks); !equalPairs(got, want) {
		t.Fatalf("uncommitted %v, want %v", got, want)
	}
	if len(before.BlockList.CommittedBlocks) != 0 {
		t.Fatalf("committed blocks before any commit: %v", blockNames(before.BlockList.CommittedBlocks))
	}

	// Commit out of order and leave one block out: the blob is exactly the listed blocks.
	commit, err := bb.CommitBlockList(ctx(t), []string{blockID(2), blockID(0)}, nil)
	must(t, err, "commit")
	got, _ := readAll(t, bb.BlobClient(), nil)
	if !bytes.Equal(got, append(append([]byte{}, parts[2]...), parts[0]...)) {
		t.Fatalf("committed blob is not block 2 then block 0")
	}
	committed, err := bb.GetBlockList(ctx(t), blockblob.BlockListTypeCommitted, nil)
	must(t, err, "committed list")
	want = [][2]any{{blockID(2), int64(3000)}, {blockID(0), int64(1000)}}
	if g := blockNames(committed.BlockList.CommittedBlocks); !equalPairs(g, want) {
		t.Fatalf("committed %v, want %v", g, want)
	}
	if *committed.BlobContentLength != 4000 || *committed.ETag != *commit.ETag {
		t.Fatalf("length %d etag %v (commit etag %v)", *committed.BlobContentLength, *committed.ETag, *commit.ETag)
	}

	// Committing discards the uncommitted blocks that were not used.
	all, err := bb.GetBlockList(ctx(t), blockblob.BlockListTypeAll, nil)
	must(t, err, "all list")
	if len(all.BlockList.CommittedBlocks) != 2 || len(all.BlockList.UncommittedBlocks) != 0 {
		t.Fatalf("after commit: committed %v uncommitted %v",
			blockNames(all.BlockList.CommittedBlocks), blockNames(all.BlockList.UncommittedBlocks))
	}
	_, err = bb.StageBlock(ctx(t), blockID(9), body(parts[1]), nil)
	must(t, err, "stage block 9")
	mixed, err := bb.GetBlockList(ctx(t), blockblob.BlockListTypeAll, nil)
	must(t, err, "mixed list")
	if g := blockNames(mixed.BlockList.UncommittedBlocks); !equalPairs(g, [][2]any{{blockID(9), int64(2000)}}) {
		t.Fatalf("uncommitted after restage %v", g)
	}
	if len(mixed.BlockList.CommittedBlocks) != 2 {
		t.Fatalf("committed after restage %v", blockNames(mixed.BlockList.CommittedBlocks))
	}
}

func TestCommitUnknownBlockIsInvalidBlockList(t *testing.T) {
	c := newContainer(t, "go-badlist")
	bb := c.NewBlockBlobClient("bad.bin")
	_, err := bb.StageBlock(ctx(t), blockID(1), body([]byte("abc")), nil)
	must(t, err, "stage")
	_, err = bb.CommitBlockList(ctx(t), []string{blockID(1), blockID(2)}, nil)
	expectError(t, err, 400, "InvalidBlockList")
}

func equalPairs(a, b [][2]any) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
