package conformance

// Conditional requests on blob writes and reads. Expected answers follow the real-Azure
// recordings in shared/azure-recordings/blob/Test (e.g. TestBlobPutBlobIfNoneMatchFalse,
// TestBlobDownloadDataIfNoneMatchFalse, TestBlobGetPropsAndMetadataIfModifiedSinceFalse).

import (
	"net/http"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
)

const wrongETag = azcore.ETag(`"0x8DA0000000000000"`)

func conditions(m blob.ModifiedAccessConditions) *blob.AccessConditions {
	return &blob.AccessConditions{ModifiedAccessConditions: &m}
}

func downloadIf(m blob.ModifiedAccessConditions) *blob.DownloadStreamOptions {
	return &blob.DownloadStreamOptions{AccessConditions: conditions(m)}
}

func propertiesIf(m blob.ModifiedAccessConditions) *blob.GetPropertiesOptions {
	return &blob.GetPropertiesOptions{AccessConditions: conditions(m)}
}

func deleteIf(m blob.ModifiedAccessConditions) *blob.DeleteOptions {
	return &blob.DeleteOptions{AccessConditions: conditions(m)}
}

// seeded uploads "v1" and returns the client and the upload's etag and last-modified time.
func seeded(t *testing.T, prefix string) (*blockblob.Client, azcore.ETag, time.Time) {
	t.Helper()
	bb := newContainer(t, prefix).NewBlockBlobClient("cond.txt")
	put, err := bb.Upload(ctx(t), body([]byte("v1")), nil)
	must(t, err, "seed upload")
	return bb, *put.ETag, *put.LastModified
}

func uploadIf(
	t *testing.T, bb *blockblob.Client, data string, m blob.ModifiedAccessConditions,
) (blockblob.UploadResponse, error) {
	return bb.Upload(ctx(t), body([]byte(data)), &blockblob.UploadOptions{AccessConditions: conditions(m)})
}

func TestUploadIfNoneMatchStar(t *testing.T) {
	bb := newContainer(t, "go-inm-star").NewBlockBlobClient("once.txt")
	_, err := uploadIf(t, bb, "v1", blob.ModifiedAccessConditions{IfNoneMatch: ptr(azcore.ETagAny)})
	must(t, err, "first upload with If-None-Match: *")
	_, err = uploadIf(t, bb, "v2", blob.ModifiedAccessConditions{IfNoneMatch: ptr(azcore.ETagAny)})
	expectError(t, err, 409, "BlobAlreadyExists")
	if got, _ := readAll(t, bb.BlobClient(), nil); string(got) != "v1" {
		t.Fatalf("a refused write changed the blob to %q", got)
	}
}

func TestUploadIfMatch(t *testing.T) {
	bb, etag, _ := seeded(t, "go-im")
	second, err := uploadIf(t, bb, "v2", blob.ModifiedAccessConditions{IfMatch: &etag})
	must(t, err, "upload with the current etag")
	if *second.ETag == etag {
		t.Fatalf("a write kept the etag %v", etag)
	}
	_, err = uploadIf(t, bb, "v3", blob.ModifiedAccessConditions{IfMatch: &etag})
	expectError(t, err, 412, "ConditionNotMet")
	_, err = uploadIf(t, bb, "v3", blob.ModifiedAccessConditions{IfMatch: ptr(wrongETag)})
	expectError(t, err, 412, "ConditionNotMet")
}

func TestUploadIfMatchOnMissingBlob(t *testing.T) {
	bb := newContainer(t, "go-im-missing").NewBlockBlobClient("absent.txt")
	// If-Match names an existing representation; a missing blob fails it, even for '*' (Azure/Azurite#2589).
	for _, tag := range []azcore.ETag{wrongETag, azcore.ETagAny} {
		_, err := uploadIf(t, bb, "x", blob.ModifiedAccessConditions{IfMatch: &tag})
		expectError(t, err, 412, "ConditionNotMet")
	}
	_, err := bb.GetProperties(ctx(t), nil)
	expectError(t, err, 404, "BlobNotFound")
}

func TestUploadIfNoneMatchCurrentETag(t *testing.T) {
	bb, etag, _ := seeded(t, "go-inm")
	_, err := uploadIf(t, bb, "v2", blob.ModifiedAccessConditions{IfNoneMatch: &etag})
	expectError(t, err, 412, "ConditionNotMet")
}

func TestCommitBlockListIfNoneMatchStarOverExisting(t *testing.T) {
	bb, _, _ := seeded(t, "go-bl-inm")
	_, err := bb.StageBlock(ctx(t), blockID(0), body([]byte("new")), nil)
	must(t, err, "stage")
	_, err = bb.CommitBlockList(ctx(t), []string{blockID(0)}, &blockblob.CommitBlockListOptions{
		AccessConditions: conditions(blob.ModifiedAccessConditions{IfNoneMatch: ptr(azcore.ETagAny)}),
	})
	expectError(t, err, 409, "BlobAlreadyExists")
}

func TestUploadIfUnmodifiedSince(t *testing.T) {
	bb, _, lastModified := seeded(t, "go-ius")
	before := lastModified.Add(-time.Hour)
	_, err := uploadIf(t, bb, "v2", blob.ModifiedAccessConditions{IfUnmodifiedSince: &before})
	expectError(t, err, 412, "ConditionNotMet")
	after := lastModified.Add(time.Hour)
	_, err = uploadIf(t, bb, "v2", blob.ModifiedAccessConditions{IfUnmodifiedSince: &after})
	must(t, err, "upload unmodified since a later time")
}

// expectNotModified downloads with the conditions and expects 304 labelled ConditionNotMet, as
// Azure answers (TestBlobDownloadDataIfNoneMatchFalse). The Go SDK turns a 304 into a success
// whose ErrorCode is set, so the status is read from the raw response.
func expectNotModified(t *testing.T, bb *blockblob.Client, m blob.ModifiedAccessConditions) {
	t.Helper()
	var raw *http.Response
	resp, err := bb.DownloadStream(policy.WithCaptureResponse(ctx(t), &raw), downloadIf(m))
	must(t, err, "conditional download")
	if raw == nil || raw.StatusCode != http.StatusNotModified {
		t.Fatalf("conditional download answered %v, want 304", raw)
	}
	if resp.ErrorCode == nil || *resp.ErrorCode != "ConditionNotMet" {
		t.Fatalf("304 error code %v, want ConditionNotMet", resp.ErrorCode)
	}
}

func TestDownloadIfNoneMatchIs304(t *testing.T) {
	bb, etag, _ := seeded(t, "go-get-inm")
	expectNotModified(t, bb, blob.ModifiedAccessConditions{IfNoneMatch: &etag})
	got, _ := readAll(t, bb.BlobClient(), downloadIf(blob.ModifiedAccessConditions{IfNoneMatch: ptr(wrongETag)}))
	if string(got) != "v1" {
		t.Fatalf("body %q", got)
	}
}

func TestDownloadIfModifiedSince(t *testing.T) {
	bb, _, lastModified := seeded(t, "go-get-ims")
	later := lastModified.Add(time.Hour)
	expectNotModified(t, bb, blob.ModifiedAccessConditions{IfModifiedSince: &later})
	// HEAD answers the same (TestBlobGetPropsAndMetadataIfModifiedSinceFalse).
	_, err := bb.GetProperties(ctx(t), propertiesIf(blob.ModifiedAccessConditions{IfModifiedSince: &later}))
	expectError(t, err, 304, "ConditionNotMet")
	earlier := lastModified.Add(-time.Hour)
	got, _ := readAll(t, bb.BlobClient(), downloadIf(blob.ModifiedAccessConditions{IfModifiedSince: &earlier}))
	if string(got) != "v1" {
		t.Fatalf("body %q", got)
	}
}

func TestReadIfMatchStale(t *testing.T) {
	bb, etag, _ := seeded(t, "go-get-im")
	got, _ := readAll(t, bb.BlobClient(), downloadIf(blob.ModifiedAccessConditions{IfMatch: &etag}))
	if string(got) != "v1" {
		t.Fatalf("body %q", got)
	}
	_, err := bb.DownloadStream(ctx(t), downloadIf(blob.ModifiedAccessConditions{IfMatch: ptr(wrongETag)}))
	expectError(t, err, 412, "ConditionNotMet")
	_, err = bb.GetProperties(ctx(t), propertiesIf(blob.ModifiedAccessConditions{IfMatch: ptr(wrongETag)}))
	expectError(t, err, 412, "ConditionNotMet")
}

func TestDeleteIfMatch(t *testing.T) {
	bb, etag, _ := seeded(t, "go-del-im")
	_, err := bb.Delete(ctx(t), deleteIf(blob.ModifiedAccessConditions{IfMatch: ptr(wrongETag)}))
	expectError(t, err, 412, "ConditionNotMet")
	_, err = bb.GetProperties(ctx(t), nil)
	must(t, err, "blob must survive a refused delete")
	_, err = bb.Delete(ctx(t), deleteIf(blob.ModifiedAccessConditions{IfMatch: &etag}))
	must(t, err, "delete with the current etag")
	_, err = bb.GetProperties(ctx(t), nil)
	expectError(t, err, 404, "BlobNotFound")
}
