package conformance

// The Blob API beyond block blobs through azblob: leases, snapshots, copies, tiers, append and
// page blobs, index tags.

import (
	"bytes"
	"io"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/appendblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/lease"
)

func download(t *testing.T, b *blob.Client) []byte {
	t.Helper()
	resp, err := b.DownloadStream(ctx(t), nil)
	must(t, err, "download")
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	must(t, err, "read body")
	return data
}

func TestLeaseGuardsWrites(t *testing.T) {
	c := newContainer(t, "go-lease")
	bb := c.NewBlockBlobClient("leased")
	_, err := bb.UploadBuffer(ctx(t), []byte("one"), nil)
	must(t, err, "upload")
	lc, err := lease.NewBlobClient(bb, &lease.BlobClientOptions{LeaseID: ptr("6c3ef0aa-0000-4000-8000-000000000001")})
	must(t, err, "lease client")
	_, err = lc.AcquireLease(ctx(t), -1, nil)
	must(t, err, "acquire")

	_, err = bb.UploadBuffer(ctx(t), []byte("two"), nil)
	expectError(t, err, 412, "LeaseIdMissing")
	_, err = bb.UploadBuffer(ctx(t), []byte("two"), &blockblob.UploadBufferOptions{
		AccessConditions: &blob.AccessConditions{LeaseAccessConditions: &blob.LeaseAccessConditions{LeaseID: lc.LeaseID()}},
	})
	must(t, err, "upload with the lease")
	props, err := bb.GetProperties(ctx(t), nil)
	must(t, err, "properties")
	if string(*props.LeaseState) != "leased" || string(*props.LeaseStatus) != "locked" || string(*props.LeaseDuration) != "infinite" {
		t.Fatalf("lease %v %v %v", *props.LeaseState, *props.LeaseStatus, *props.LeaseDuration)
	}
	_, err = lc.ReleaseLease(ctx(t), nil)
	must(t, err, "release")
	_, err = bb.Delete(ctx(t), nil)
	must(t, err, "delete once released")
}

func TestSnapshotsCopiesAndTiers(t *testing.T) {
	c := newContainer(t, "go-snap")
	bb := c.NewBlockBlobClient("base")
	_, err := bb.UploadBuffer(ctx(t), []byte("first"), nil)
	must(t, err, "upload")
	snap, err := bb.CreateSnapshot(ctx(t), nil)
	must(t, err, "snapshot")
	_, err = bb.UploadBuffer(ctx(t), []byte("second"), nil)
	must(t, err, "overwrite")
	old, err := bb.WithSnapshot(*snap.Snapshot)
	must(t, err, "snapshot client")
	if got := download(t, old.BlobClient()); string(got) != "first" {
		t.Fatalf("snapshot reads %q", got)
	}
	_, err = bb.Delete(ctx(t), nil)
	expectError(t, err, 409, "SnapshotsPresent")

	dest := c.NewBlobClient("copy")
	copied, err := dest.StartCopyFromURL(ctx(t), bb.URL(), nil)
	must(t, err, "copy")
	if string(*copied.CopyStatus) != "success" {
		t.Fatalf("copy status %v", *copied.CopyStatus)
	}
	if got := download(t, dest); string(got) != "second" {
		t.Fatalf("copy reads %q", got)
	}

	_, err = dest.SetTier(ctx(t), blob.AccessTierArchive, nil)
	must(t, err, "archive")
	_, err = dest.DownloadStream(ctx(t), nil)
	expectError(t, err, 409, "BlobArchived")
	_, err = dest.SetTier(ctx(t), blob.AccessTierHot, nil)
	must(t, err, "rehydrate")
	if got := download(t, dest); string(got) != "second" {
		t.Fatalf("rehydrated copy reads %q", got)
	}
	_, err = bb.Delete(ctx(t), &blob.DeleteOptions{DeleteSnapshots: ptr(blob.DeleteSnapshotsOptionTypeInclude)})
	must(t, err, "delete with snapshots")
}

func TestAppendAndPageBlobs(t *testing.T) {
	c := newContainer(t, "go-types")
	ab := c.NewAppendBlobClient("log")
	_, err := ab.Create(ctx(t), nil)
	must(t, err, "create append blob")
	for _, part := range []string{"a", "bc", "def"} {
		_, err = ab.AppendBlock(ctx(t), body([]byte(part)), nil)
		must(t, err, "append")
	}
	_, err = ab.AppendBlock(ctx(t), body([]byte("x")), &appendblob.AppendBlockOptions{
		AppendPositionAccessConditions: &appendblob.AppendPositionAccessConditions{AppendPosition: ptr(int64(1))},
	})
	expectError(t, err, 412, "AppendPositionConditionNotMet")
	_, err = ab.Seal(ctx(t), nil)
	must(t, err, "seal")
	_, err = ab.AppendBlock(ctx(t), body([]byte("g")), nil)
	expectError(t, err, 409, "BlobIsSealed")
	if got := download(t, ab.BlobClient()); string(got) != "abcdef" {
		t.Fatalf("append blob reads %q", got)
	}

	pb := c.NewPageBlobClient("disk")
	_, err = pb.Create(ctx(t), 1<<30, nil)
	must(t, err, "create 1 GiB page blob")
	page := bytes.Repeat([]byte{7}, 512)
	_, err = pb.UploadPages(ctx(t), body(page), blob.HTTPRange{Offset: 4096, Count: 512}, nil)
	must(t, err, "upload page")
	pager := pb.NewGetPageRangesPager(nil)
	resp, err := pager.NextPage(ctx(t))
	must(t, err, "page ranges")
	if len(resp.PageRange) != 1 || *resp.PageRange[0].Start != 4096 || *resp.PageRange[0].End != 4607 {
		t.Fatalf("ranges %+v", resp.PageRange)
	}
	r, err := pb.DownloadStream(ctx(t), &blob.DownloadStreamOptions{Range: blob.HTTPRange{Offset: 4000, Count: 200}})
	must(t, err, "ranged read")
	got, _ := io.ReadAll(r.Body)
	r.Body.Close()
	want := append(make([]byte, 96), page[:104]...)
	if !bytes.Equal(got, want) {
		t.Fatalf("sparse read: zeros then the page expected")
	}
	_, err = pb.UploadPages(ctx(t), body(page[:100]), blob.HTTPRange{Offset: 0, Count: 100}, nil)
	if err == nil {
		t.Fatal("a page write that is not 512-aligned was accepted")
	}
}

func TestIndexTags(t *testing.T) {
	if targetIsAzurite {
		t.Skip("Azurite's Find Blobs by Tags needs its SQL metadata store")
	}
	c := newContainer(t, "go-tags")
	bb := c.NewBlockBlobClient("tagged")
	_, err := bb.UploadBuffer(ctx(t), []byte("x"), &blockblob.UploadBufferOptions{
		Tags: map[string]string{"project": "lapis", "stage": "test"},
	})
	must(t, err, "upload with tags")
	tags, err := bb.GetTags(ctx(t), nil)
	must(t, err, "get tags")
	if len(tags.BlobTagSet) != 2 {
		t.Fatalf("tags %+v", tags.BlobTagSet)
	}
	found, err := c.FilterBlobs(ctx(t), `"project"='lapis'`, nil)
	must(t, err, "find by tags")
	if len(found.Blobs) != 1 || *found.Blobs[0].Name != "tagged" {
		t.Fatalf("found %+v", found.Blobs)
	}
}
