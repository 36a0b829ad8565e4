package conformance

// Shared access signatures: container, blob and account SAS, what each allows and refuses.

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
)

// sasAuthFailed is Azure's code for a SAS whose signature does not verify or whose time window
// has passed. Azurite answers 403 AuthorizationFailure instead, so on Azurite only the status is
// asserted.
func sasAuthFailed() string {
	if targetIsAzurite {
		return ""
	}
	return "AuthenticationFailed"
}

// sasWindow starts five minutes ago, so client/server clock skew cannot make a fresh SAS "not yet valid".
func sasWindow() (start *time.Time, expiry time.Time) {
	s := time.Now().Add(-5 * time.Minute)
	return &s, time.Now().Add(time.Hour)
}

func seedBlob(t *testing.T, c *container.Client, name, text string) *blockblob.Client {
	t.Helper()
	bb := c.NewBlockBlobClient(name)
	_, err := bb.Upload(ctx(t), body([]byte(text)), nil)
	must(t, err, "seed "+name)
	return bb
}

func anonymousContainer(t *testing.T, sasURL string) *container.Client {
	t.Helper()
	c, err := container.NewClientWithNoCredential(sasURL, &container.ClientOptions{ClientOptions: clientOptions()})
	must(t, err, "container client from SAS URL")
	return c
}

func anonymousBlob(t *testing.T, sasURL string) *blob.Client {
	t.Helper()
	b, err := blob.NewClientWithNoCredential(sasURL, &blob.ClientOptions{ClientOptions: clientOptions()})
	must(t, err, "blob client from SAS URL")
	return b
}

func anonymousService(t *testing.T, sasURL string) *service.Client {
	t.Helper()
	s, err := service.NewClientWithNoCredential(sasURL, &service.ClientOptions{ClientOptions: clientOptions()})
	must(t, err, "service client from SAS URL")
	return s
}

func TestContainerSASReadListButNoWrite(t *testing.T) {
	c := newContainer(t, "go-csas")
	seedBlob(t, c, "readable.txt", "sas data")
	start, expiry := sasWindow()
	u, err := c.GetSASURL(sas.ContainerPermissions{Read: true, List: true}, expiry,
		&container.GetSASURLOptions{StartTime: start})
	must(t, err, "container SAS")
	viaSAS := anonymousContainer(t, u)

	if got, _ := readAll(t, viaSAS.NewBlobClient("readable.txt"), nil); string(got) != "sas data" {
		t.Fatalf("read through SAS: %q", got)
	}
	page, err := viaSAS.NewListBlobsFlatPager(nil).NextPage(ctx(t))
	must(t, err, "list through SAS")
	if len(page.Segment.BlobItems) != 1 || *page.Segment.BlobItems[0].Name != "readable.txt" {
		t.Fatalf("listed %d blobs", len(page.Segment.BlobItems))
	}

	_, err = viaSAS.NewBlockBlobClient("denied.txt").Upload(ctx(t), body([]byte("nope")), nil)
	expectError(t, err, 403, "AuthorizationPermissionMismatch")
	_, err = viaSAS.NewBlobClient("readable.txt").Delete(ctx(t), nil)
	expectError(t, err, 403, "AuthorizationPermissionMismatch")
	_, err = c.NewBlobClient("denied.txt").GetProperties(ctx(t), nil)
	expectError(t, err, 404, "BlobNotFound")
}

func TestContainerSASWithWriteUploads(t *testing.T) {
	c := newContainer(t, "go-csas-w")
	start, expiry := sasWindow()
	u, err := c.GetSASURL(sas.ContainerPermissions{Create: true, Write: true}, expiry,
		&container.GetSASURLOptions{StartTime: start})
	must(t, err, "container SAS")
	_, err = anonymousContainer(t, u).NewBlockBlobClient("written.txt").Upload(ctx(t), body([]byte("ok")), nil)
	must(t, err, "upload through SAS")
	if got, _ := readAll(t, c.NewBlobClient("written.txt"), nil); string(got) != "ok" {
		t.Fatalf("written blob reads %q", got)
	}
}

func TestBlobSASDownloadsItsOwnBlobOnly(t *testing.T) {
	c := newContainer(t, "go-bsas")
	bb := seedBlob(t, c, "mine.txt", "blob sas")
	seedBlob(t, c, "other.txt", "secret")
	start, expiry := sasWindow()
	u, err := bb.GetSASURL(sas.BlobPermissions{Read: true}, expiry, &blob.GetSASURLOptions{StartTime: start})
	must(t, err, "blob SAS")
	if got, _ := readAll(t, anonymousBlob(t, u), nil); string(got) != "blob sas" {
		t.Fatalf("read through blob SAS: %q", got)
	}

	// The signature covers the blob's path, so reusing it for another blob fails to authenticate.
	parsed, err := url.Parse(u)
	must(t, err, "parse SAS URL")
	other := anonymousBlob(t, c.URL()+"/other.txt?"+parsed.RawQuery)
	_, err = other.DownloadStream(ctx(t), nil)
	expectError(t, err, 403, sasAuthFailed())
}

func TestAccountSAS(t *testing.T) {
	start, expiry := sasWindow()
	all := sas.AccountResourceTypes{Service: true, Container: true, Object: true}
	readWrite := sas.AccountPermissions{Read: true, Write: true, Delete: true, List: true, Add: true, Create: true}
	fullURL, err := svc.GetSASURL(all, readWrite, expiry, &service.GetSASURLOptions{StartTime: start})
	must(t, err, "account SAS")
	full := anonymousService(t, fullURL)

	name := uniqueName("go-asas")
	viaSAS := full.NewContainerClient(name)
	_, err = viaSAS.Create(ctx(t), nil)
	must(t, err, "create container through account SAS")
	t.Cleanup(func() { _, _ = svc.NewContainerClient(name).Delete(context.Background(), nil) })
	seedBlob(t, viaSAS, "a.txt", "account sas")
	if got, _ := readAll(t, viaSAS.NewBlobClient("a.txt"), nil); string(got) != "account sas" {
		t.Fatalf("read through account SAS: %q", got)
	}

	// Read-only account SAS: reads pass, writes are a permission mismatch.
	readURL, err := svc.GetSASURL(all, sas.AccountPermissions{Read: true, List: true}, expiry,
		&service.GetSASURLOptions{StartTime: start})
	must(t, err, "read-only account SAS")
	readOnly := anonymousService(t, readURL).NewContainerClient(name)
	if got, _ := readAll(t, readOnly.NewBlobClient("a.txt"), nil); string(got) != "account sas" {
		t.Fatalf("read through read-only account SAS: %q", got)
	}
	_, err = readOnly.NewBlockBlobClient("b.txt").Upload(ctx(t), body([]byte("x")), nil)
	expectError(t, err, 403, "AuthorizationPermissionMismatch")

	// Object-only account SAS cannot act on a container.
	objectURL, err := svc.GetSASURL(sas.AccountResourceTypes{Object: true}, readWrite, expiry,
		&service.GetSASURLOptions{StartTime: start})
	must(t, err, "object-only account SAS")
	refusedName := uniqueName("go-asas-o")
	// Only matters when a server wrongly accepted the create.
	t.Cleanup(func() { _, _ = svc.NewContainerClient(refusedName).Delete(context.Background(), nil) })
	_, err = anonymousService(t, objectURL).NewContainerClient(refusedName).Create(ctx(t), nil)
	expectError(t, err, 403, "AuthorizationResourceTypeMismatch")
}

func TestExpiredOrTamperedSASIsAuthenticationFailed(t *testing.T) {
	c := newContainer(t, "go-sas-exp")
	bb := seedBlob(t, c, "x.txt", "x")
	past := time.Now().Add(-2 * time.Hour)
	expiredURL, err := bb.GetSASURL(sas.BlobPermissions{Read: true}, time.Now().Add(-time.Hour),
		&blob.GetSASURLOptions{StartTime: &past})
	must(t, err, "expired SAS")
	_, err = anonymousBlob(t, expiredURL).DownloadStream(ctx(t), nil)
	expectError(t, err, 403, sasAuthFailed())

	// Widening the permissions after signing must invalidate the signature.
	start, expiry := sasWindow()
	validURL, err := bb.GetSASURL(sas.BlobPermissions{Read: true}, expiry, &blob.GetSASURLOptions{StartTime: start})
	must(t, err, "SAS")
	parsed, err := url.Parse(validURL)
	must(t, err, "parse SAS URL")
	q := parsed.Query()
	q.Set("sp", "rwd")
	parsed.RawQuery = q.Encode()
	_, err = anonymousBlob(t, parsed.String()).Delete(ctx(t), nil)
	expectError(t, err, 403, sasAuthFailed())
	_, err = bb.GetProperties(ctx(t), nil)
	must(t, err, "blob must survive a refused delete")
}
