package conformance

// Blob and container soft delete through azblob, in the account of LAPIS_SOFT_DELETE_ENDPOINT
// (container soft delete on, versioning off, conformance/accounts.json). Blob soft delete follows the
// account's DeleteRetentionPolicy, which Azure sets in the data plane: softDeleteService turns it on
// once with Set Blob Service Properties and leaves it on (no other suite uses this account).
// Container soft delete is a management-plane switch in Azure, so Lapis takes it from its
// --accountConfig file. Azurite has neither, so every test skips without the endpoint.

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
)

const (
	// softDeleteAccountName is the account of LAPIS_SOFT_DELETE_ENDPOINT, same key as devstoreaccount1.
	softDeleteAccountName = "lapissoftdelete"
	// blobRetentionDays is the DeleteRetentionPolicy these tests set.
	blobRetentionDays = 1
	// containerRetentionDays is containerSoftDeleteDays of lapissoftdelete in conformance/accounts.json.
	containerRetentionDays = 7
)

var (
	softDeletePolicyOnce sync.Once
	softDeletePolicyErr  error
)

// softDeleteService is a Shared Key client for LAPIS_SOFT_DELETE_ENDPOINT whose account has the blob
// DeleteRetentionPolicy on (set once per run); the test skips without the endpoint.
func softDeleteService(t *testing.T) *service.Client {
	t.Helper()
	if softDeleteEndpoint == "" {
		t.Skip("LAPIS_SOFT_DELETE_ENDPOINT is not set (Azurite has no blob or container soft delete)")
	}
	connStr := fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;",
		softDeleteAccountName, accountKey, softDeleteEndpoint)
	s, err := service.NewClientFromConnectionString(connStr, &service.ClientOptions{ClientOptions: clientOptions()})
	must(t, err, "soft delete client from connection string")
	softDeletePolicyOnce.Do(func() {
		_, softDeletePolicyErr = s.SetProperties(ctx(t), &service.SetPropertiesOptions{
			DeleteRetentionPolicy: &service.RetentionPolicy{Enabled: ptr(true), Days: ptr(int32(blobRetentionDays))},
		})
	})
	must(t, softDeletePolicyErr, "turn the blob DeleteRetentionPolicy on")
	return s
}

// listedBlob is one row of a listing: name, snapshot ("" for the base blob), <Deleted>.
type listedBlob struct {
	Name     string
	Snapshot string
	Deleted  bool
}

// listBlobItems lists the whole container with these includes, in the order the service lists them.
func listBlobItems(t *testing.T, c *container.Client, include container.ListBlobsInclude) []*container.BlobItem {
	t.Helper()
	var out []*container.BlobItem
	pager := c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Include: include})
	for pager.More() {
		page, err := pager.NextPage(ctx(t))
		must(t, err, "list blobs")
		out = append(out, page.Segment.BlobItems...)
	}
	return out
}

func listedRows(t *testing.T, c *container.Client, include container.ListBlobsInclude) []listedBlob {
	t.Helper()
	out := []listedBlob{}
	for _, item := range listBlobItems(t, c, include) {
		row := listedBlob{Name: *item.Name}
		if item.Snapshot != nil {
			row.Snapshot = *item.Snapshot
		}
		row.Deleted = item.Deleted != nil && *item.Deleted
		out = append(out, row)
	}
	return out
}

var withDeleted = container.ListBlobsInclude{Snapshots: true, Deleted: true}

func expectRows(t *testing.T, what string, got, want []listedBlob) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: listed %+v, want %+v", what, got, want)
	}
}

// expectSoftDeleted checks the listing properties of a soft-deleted blob or snapshot.
func expectSoftDeleted(t *testing.T, what string, item *container.BlobItem) {
	t.Helper()
	if item.Deleted == nil || !*item.Deleted {
		t.Fatalf("%s: <Deleted> is not true", what)
	}
	p := item.Properties
	if p.DeletedTime == nil || time.Since(*p.DeletedTime).Abs() > 5*time.Minute {
		t.Fatalf("%s: DeletedTime %v is not now", what, p.DeletedTime)
	}
	if p.RemainingRetentionDays == nil || *p.RemainingRetentionDays != blobRetentionDays {
		t.Fatalf("%s: RemainingRetentionDays %v, want %d", what, p.RemainingRetentionDays, blobRetentionDays)
	}
}

func snapshotClient(t *testing.T, c *blob.Client, snapshot string) *blob.Client {
	t.Helper()
	s, err := c.WithSnapshot(snapshot)
	must(t, err, "snapshot client")
	return s
}

// undeleteStatus calls Undelete Blob and returns its HTTP status.
func undeleteStatus(t *testing.T, c *blob.Client) int {
	t.Helper()
	var raw *http.Response
	_, err := c.Undelete(policy.WithCaptureResponse(ctx(t), &raw), nil)
	must(t, err, "undelete blob")
	return raw.StatusCode
}

func TestSoftDeletePolicySetByTheseTestsReadsBack(t *testing.T) {
	s := softDeleteService(t)
	props, err := s.GetProperties(ctx(t), nil)
	must(t, err, "get service properties")
	p := props.DeleteRetentionPolicy
	if p == nil || p.Enabled == nil || !*p.Enabled || p.Days == nil || *p.Days != blobRetentionDays {
		t.Fatalf("DeleteRetentionPolicy: %+v, want enabled for %d days", p, blobRetentionDays)
	}
}

func TestSoftDeleteBlobWithSnapshotsIsListedAndUndeleted(t *testing.T) {
	c := newContainerIn(t, softDeleteService(t), "go-sdblob")
	// An append blob: appending is no overwrite, so no soft-deleted snapshot of its own is kept.
	ab := c.NewAppendBlobClient("doc.txt")
	_, err := ab.Create(ctx(t), nil)
	must(t, err, "create append blob")
	_, err = ab.AppendBlock(ctx(t), body([]byte("first")), nil)
	must(t, err, "append first")
	snap, err := ab.CreateSnapshot(ctx(t), nil)
	must(t, err, "create snapshot")
	snapshot := *snap.Snapshot
	_, err = ab.AppendBlock(ctx(t), body([]byte(" second")), nil)
	must(t, err, "append second")

	b := ab.BlobClient()
	_, err = b.Delete(ctx(t), &blob.DeleteOptions{DeleteSnapshots: ptr(blob.DeleteSnapshotsOptionTypeInclude)})
	must(t, err, "delete blob with its snapshots")
	_, err = b.DownloadStream(ctx(t), nil)
	expectError(t, err, 404, "BlobNotFound")
	_, err = b.GetProperties(ctx(t), nil)
	expectError(t, err, 404, "BlobNotFound")
	_, err = snapshotClient(t, b, snapshot).DownloadStream(ctx(t), nil)
	expectError(t, err, 404, "BlobNotFound")

	expectRows(t, "without include", listedRows(t, c, container.ListBlobsInclude{}), []listedBlob{})
	expectRows(t, "snapshots only", listedRows(t, c, container.ListBlobsInclude{Snapshots: true}), []listedBlob{})

	deleted := listBlobItems(t, c, container.ListBlobsInclude{Deleted: true})
	if len(deleted) != 1 || *deleted[0].Name != "doc.txt" || deleted[0].Snapshot != nil {
		t.Fatalf("include=deleted: %d items, want the blob once", len(deleted))
	}
	expectSoftDeleted(t, "deleted blob", deleted[0])

	all := listBlobItems(t, c, withDeleted)
	expectRows(t, "snapshots and deleted", listedRows(t, c, withDeleted), []listedBlob{
		{"doc.txt", snapshot, true}, {"doc.txt", "", true},
	})
	expectSoftDeleted(t, "deleted snapshot", all[0])

	if got := undeleteStatus(t, b); got != 200 {
		t.Fatalf("Undelete Blob: status %d, want 200", got)
	}
	if got := readText(t, b); got != "first second" {
		t.Fatalf("undeleted blob: %q", got)
	}
	if got := readText(t, snapshotClient(t, b, snapshot)); got != "first" {
		t.Fatalf("undeleted snapshot: %q", got)
	}
	expectRows(t, "after undelete", listedRows(t, c, withDeleted), []listedBlob{
		{"doc.txt", snapshot, false}, {"doc.txt", "", false},
	})
}

func TestSoftDeleteOneSnapshotAndUndeleteIt(t *testing.T) {
	c := newContainerIn(t, softDeleteService(t), "go-sdsnap")
	ab := c.NewAppendBlobClient("s.txt")
	_, err := ab.Create(ctx(t), nil)
	must(t, err, "create append blob")
	_, err = ab.AppendBlock(ctx(t), body([]byte("v1")), nil)
	must(t, err, "append v1")
	snap, err := ab.CreateSnapshot(ctx(t), nil)
	must(t, err, "create snapshot")
	snapshot := *snap.Snapshot
	_, err = ab.AppendBlock(ctx(t), body([]byte(" v2")), nil)
	must(t, err, "append v2")

	b := ab.BlobClient()
	_, err = snapshotClient(t, b, snapshot).Delete(ctx(t), nil)
	must(t, err, "delete the snapshot")
	_, err = snapshotClient(t, b, snapshot).DownloadStream(ctx(t), nil)
	expectError(t, err, 404, "BlobNotFound")
	if got := readText(t, b); got != "v1 v2" {
		t.Fatalf("the blob itself: %q", got)
	}
	expectRows(t, "snapshots only", listedRows(t, c, container.ListBlobsInclude{Snapshots: true}),
		[]listedBlob{{"s.txt", "", false}})
	all := listBlobItems(t, c, withDeleted)
	expectRows(t, "snapshots and deleted", listedRows(t, c, withDeleted), []listedBlob{
		{"s.txt", snapshot, true}, {"s.txt", "", false},
	})
	expectSoftDeleted(t, "deleted snapshot", all[0])
	if all[1].Properties.DeletedTime != nil {
		t.Fatal("the live blob is listed with a DeletedTime")
	}

	// Undelete on the live blob restores its soft-deleted snapshots.
	if got := undeleteStatus(t, b); got != 200 {
		t.Fatalf("Undelete Blob: status %d, want 200", got)
	}
	if got := readText(t, snapshotClient(t, b, snapshot)); got != "v1" {
		t.Fatalf("undeleted snapshot: %q", got)
	}
	expectRows(t, "after undelete", listedRows(t, c, withDeleted), []listedBlob{
		{"s.txt", snapshot, false}, {"s.txt", "", false},
	})
}

func TestSoftDeleteOverwriteKeepsTheOldContentAsADeletedSnapshot(t *testing.T) {
	c := newContainerIn(t, softDeleteService(t), "go-sdover")
	bb := c.NewBlockBlobClient("o.txt")
	_, err := bb.Upload(ctx(t), body([]byte("old")), nil)
	must(t, err, "upload old")
	_, err = bb.Upload(ctx(t), body([]byte("newer")), nil)
	must(t, err, "overwrite")
	b := bb.BlobClient()
	if got := readText(t, b); got != "newer" {
		t.Fatalf("overwritten blob: %q", got)
	}

	expectRows(t, "snapshots only", listedRows(t, c, container.ListBlobsInclude{Snapshots: true}),
		[]listedBlob{{"o.txt", "", false}})
	all := listBlobItems(t, c, withDeleted)
	if len(all) != 2 || all[0].Snapshot == nil || *all[0].Snapshot == "" {
		t.Fatalf("snapshots and deleted: %+v, want the overwritten state as a snapshot, then the blob", listedRows(t, c, withDeleted))
	}
	kept := *all[0].Snapshot
	expectSoftDeleted(t, "overwritten state", all[0])
	if n := all[0].Properties.ContentLength; n == nil || *n != 3 {
		t.Fatalf("overwritten state: Content-Length %v, want 3", n)
	}
	if all[1].Snapshot != nil || (all[1].Deleted != nil && *all[1].Deleted) {
		t.Fatal("the second entry is not the live blob")
	}
	_, err = snapshotClient(t, b, kept).DownloadStream(ctx(t), nil)
	expectError(t, err, 404, "BlobNotFound")

	if got := undeleteStatus(t, b); got != 200 {
		t.Fatalf("Undelete Blob: status %d, want 200", got)
	}
	if got := readText(t, snapshotClient(t, b, kept)); got != "old" {
		t.Fatalf("restored overwritten state: %q", got)
	}
	if got := readText(t, b); got != "newer" {
		t.Fatalf("undelete changed the live blob: %q", got)
	}
}

func TestSoftDeleteUndeleteOfALiveBlobIsANoOp(t *testing.T) {
	c := newContainerIn(t, softDeleteService(t), "go-sdlive")
	bb := c.NewBlockBlobClient("live.txt")
	up, err := bb.Upload(ctx(t), body([]byte("here")), nil)
	must(t, err, "upload")
	b := bb.BlobClient()
	if got := undeleteStatus(t, b); got != 200 {
		t.Fatalf("Undelete Blob: status %d, want 200", got)
	}
	props, err := b.GetProperties(ctx(t), nil)
	must(t, err, "get properties")
	if *props.ETag != *up.ETag {
		t.Fatalf("undelete changed the ETag: %s, was %s", *props.ETag, *up.ETag)
	}
	if got := readText(t, b); got != "here" {
		t.Fatalf("blob: %q", got)
	}
	expectRows(t, "snapshots and deleted", listedRows(t, c, withDeleted), []listedBlob{{"live.txt", "", false}})

	_, err = c.NewBlobClient("never.txt").Undelete(ctx(t), nil)
	expectError(t, err, 404, "BlobNotFound")
}

// containersNamed lists the containers named exactly name, deleted ones included, in service order.
func containersNamed(t *testing.T, s *service.Client, name string) (live int, deleted []*service.ContainerItem) {
	t.Helper()
	pager := s.NewListContainersPager(&service.ListContainersOptions{
		Prefix:  &name,
		Include: service.ListContainersInclude{Deleted: true},
	})
	for pager.More() {
		page, err := pager.NextPage(ctx(t))
		must(t, err, "list containers")
		for _, item := range page.ContainerItems {
			if *item.Name != name {
				continue
			}
			if item.Deleted != nil && *item.Deleted {
				deleted = append(deleted, item)
			} else {
				live++
			}
		}
	}
	return live, deleted
}

func TestSoftDeleteContainerFreesItsNameIsListedAndRestored(t *testing.T) {
	s := softDeleteService(t)
	name := uniqueName("go-sdcont")
	c := s.NewContainerClient(name)
	t.Cleanup(func() { _, _ = c.Delete(context.Background(), nil) })
	_, err := c.Create(ctx(t), &container.CreateOptions{Metadata: map[string]*string{"generation": ptr("first")}})
	must(t, err, "create container")
	_, err = c.NewBlockBlobClient("kept.txt").Upload(ctx(t), body([]byte("kept")), nil)
	must(t, err, "upload kept.txt")
	_, err = c.Delete(ctx(t), nil)
	must(t, err, "delete container")
	_, err = c.GetProperties(ctx(t), nil)
	expectError(t, err, 404, "ContainerNotFound")
	_, err = c.NewBlobClient("kept.txt").DownloadStream(ctx(t), nil)
	expectError(t, err, 404, "ContainerNotFound")
	// DeletedTime has whole seconds: tell the two deletions apart by listing after the first.
	_, firstDeletion := containersNamed(t, s, name)
	if len(firstDeletion) != 1 {
		t.Fatalf("after the first deletion %d deleted containers are listed, want 1", len(firstDeletion))
	}

	// The name is free at once: a new container of that name, deleted again, is a second version.
	_, err = c.Create(ctx(t), &container.CreateOptions{Metadata: map[string]*string{"generation": ptr("second")}})
	must(t, err, "create the name again")
	_, err = c.NewBlockBlobClient("other.txt").Upload(ctx(t), body([]byte("other")), nil)
	must(t, err, "upload other.txt")
	_, err = c.Delete(ctx(t), nil)
	must(t, err, "delete the second container")

	plain := s.NewListContainersPager(&service.ListContainersOptions{Prefix: &name})
	for plain.More() {
		page, err := plain.NextPage(ctx(t))
		must(t, err, "list containers")
		if len(page.ContainerItems) != 0 {
			t.Fatal("a deleted container is listed without include=deleted")
		}
	}
	live, deleted := containersNamed(t, s, name)
	if live != 0 || len(deleted) != 2 {
		t.Fatalf("include=deleted: %d live and %d deleted, want 0 and 2", live, len(deleted))
	}
	for _, item := range deleted {
		if item.Version == nil || *item.Version == "" {
			t.Fatal("a deleted container is listed without <Version>")
		}
		p := item.Properties
		if p.DeletedTime == nil || time.Since(*p.DeletedTime).Abs() > 5*time.Minute {
			t.Fatalf("DeletedTime %v is not now", p.DeletedTime)
		}
		if p.RemainingRetentionDays == nil || *p.RemainingRetentionDays != containerRetentionDays {
			t.Fatalf("RemainingRetentionDays %v, want %d", p.RemainingRetentionDays, containerRetentionDays)
		}
	}
	if *deleted[0].Version == *deleted[1].Version {
		t.Fatal("both deletions have the same version")
	}
	older, newer := deleted[0], deleted[1]
	if *newer.Version == *firstDeletion[0].Version {
		older, newer = newer, older
	}
	if *older.Version != *firstDeletion[0].Version {
		t.Fatal("the first deletion is no longer listed")
	}

	var raw *http.Response
	_, err = s.RestoreContainer(policy.WithCaptureResponse(ctx(t), &raw), name, *older.Version, nil)
	must(t, err, "restore the first container")
	if raw.StatusCode != 201 {
		t.Fatalf("Restore Container: status %d, want 201", raw.StatusCode)
	}
	if got := readText(t, c.NewBlobClient("kept.txt")); got != "kept" {
		t.Fatalf("restored blob: %q", got)
	}
	_, err = c.NewBlobClient("other.txt").DownloadStream(ctx(t), nil)
	expectError(t, err, 404, "BlobNotFound")
	props, err := c.GetProperties(ctx(t), nil)
	must(t, err, "restored container properties")
	if got := metaValue(props.Metadata, "generation"); got != "first" {
		t.Fatalf("restored container metadata generation=%q, want first", got)
	}
	live, deleted = containersNamed(t, s, name)
	if live != 1 || len(deleted) != 1 || *deleted[0].Version != *newer.Version {
		t.Fatalf("after restore: %d live and %d deleted, want 1 and the other version", live, len(deleted))
	}

	// A live container of the name is in the way of the other version.
	_, err = s.RestoreContainer(ctx(t), name, *newer.Version, nil)
	expectError(t, err, 409, "ContainerAlreadyExists")
}

func TestSoftDeleteRestoreOfAnUnknownVersionIsContainerNotFound(t *testing.T) {
	s := softDeleteService(t)
	name := uniqueName("go-sdunknown")
	c := s.NewContainerClient(name)
	_, err := c.Create(ctx(t), nil)
	must(t, err, "create container")
	_, err = c.Delete(ctx(t), nil)
	must(t, err, "delete container")
	_, deleted := containersNamed(t, s, name)
	if len(deleted) != 1 {
		t.Fatalf("%d deleted containers listed, want 1", len(deleted))
	}
	version := *deleted[0].Version

	_, err = s.RestoreContainer(ctx(t), name, "01D0000000000000", nil)
	expectError(t, err, 404, "ContainerNotFound")
	// A name that never had a container: the same answer.
	_, err = s.RestoreContainer(ctx(t), uniqueName("go-sdnever"), version, nil)
	expectError(t, err, 404, "ContainerNotFound")

	// The real version still restores.
	_, err = s.RestoreContainer(ctx(t), name, version, nil)
	must(t, err, "restore the real version")
	_, err = c.Delete(ctx(t), nil)
	must(t, err, "delete the restored container")
}
