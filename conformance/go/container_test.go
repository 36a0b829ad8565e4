package conformance

// Container lifecycle: create, exists, metadata, delete, and the errors around them.

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
)

func TestContainerLifecycle(t *testing.T) {
	c := svc.NewContainerClient(uniqueName("go-life"))
	t.Cleanup(func() { _, _ = c.Delete(context.Background(), nil) })

	_, err := c.GetProperties(ctx(t), nil)
	expectError(t, err, 404, "ContainerNotFound")

	created, err := c.Create(ctx(t), &container.CreateOptions{Metadata: map[string]*string{"team": ptr("lapis")}})
	must(t, err, "create")
	if created.ETag == nil || !etagPattern.MatchString(string(*created.ETag)) {
		t.Fatalf("etag %v", created.ETag)
	}
	// TestContainerCreateNameCollision: a second create is 409 ContainerAlreadyExists.
	_, err = c.Create(ctx(t), nil)
	expectError(t, err, 409, "ContainerAlreadyExists")

	props, err := c.GetProperties(ctx(t), nil)
	must(t, err, "get properties")
	if metaValue(props.Metadata, "team") != "lapis" || len(props.Metadata) != 1 {
		t.Fatalf("metadata %v", props.Metadata)
	}
	if *props.ETag != *created.ETag || string(*props.LeaseState) != "available" || props.BlobPublicAccess != nil {
		t.Fatalf("etag %v lease %v access %v", *props.ETag, *props.LeaseState, props.BlobPublicAccess)
	}

	_, err = c.Delete(ctx(t), nil)
	must(t, err, "delete")
	// TestContainerDeleteNonExistent and TestContainerGetPropsAndMetaNonExistentContainer.
	_, err = c.Delete(ctx(t), nil)
	expectError(t, err, 404, "ContainerNotFound")
	_, err = c.GetProperties(ctx(t), nil)
	expectError(t, err, 404, "ContainerNotFound")
}

func TestContainerSetMetadataReplacesAll(t *testing.T) {
	c := newContainer(t, "go-meta")
	initial := map[string]*string{"first": ptr("1"), "second": ptr("2")}
	_, err := c.SetMetadata(ctx(t), &container.SetMetadataOptions{Metadata: initial})
	must(t, err, "set metadata")
	before, err := c.GetProperties(ctx(t), nil)
	must(t, err, "get properties")

	_, err = c.SetMetadata(ctx(t), &container.SetMetadataOptions{Metadata: map[string]*string{"replaced": ptr("yes")}})
	must(t, err, "replace metadata")
	after, err := c.GetProperties(ctx(t), nil)
	must(t, err, "get properties")
	if len(after.Metadata) != 1 || metaValue(after.Metadata, "replaced") != "yes" {
		t.Fatalf("metadata after replace %v", after.Metadata)
	}
	if *after.ETag == *before.ETag {
		t.Fatalf("set metadata kept etag %v", *after.ETag)
	}

	_, err = c.SetMetadata(ctx(t), nil)
	must(t, err, "clear metadata")
	cleared, err := c.GetProperties(ctx(t), nil)
	must(t, err, "get properties")
	if len(cleared.Metadata) != 0 {
		t.Fatalf("metadata after clear %v", cleared.Metadata)
	}
}

func TestContainerSetMetadataMissingIs404(t *testing.T) {
	c := svc.NewContainerClient(uniqueName("go-nometa"))
	_, err := c.SetMetadata(ctx(t), &container.SetMetadataOptions{Metadata: map[string]*string{"a": ptr("b")}})
	expectError(t, err, 404, "ContainerNotFound")
}

func TestContainerInvalidNames(t *testing.T) {
	// "foo bar" is the name of TestContainerCreateInvalidName; the others break the naming rules.
	for _, name := range []string{"foo bar", "Upper-Case", "double--dash", "-leading"} {
		_, err := svc.NewContainerClient(name).Create(ctx(t), nil)
		expectError(t, err, 400, "InvalidResourceName")
	}
	for _, name := range []string{"ab", strings.Repeat("x", 64)} {
		_, err := svc.NewContainerClient(name).Create(ctx(t), nil)
		expectError(t, err, 400, "OutOfRangeInput")
	}
}

func TestContainerDeleteIfModifiedSinceFuture(t *testing.T) {
	c := newContainer(t, "go-delcond")
	props, err := c.GetProperties(ctx(t), nil)
	must(t, err, "get properties")
	future := props.LastModified.Add(time.Hour)
	_, err = c.Delete(ctx(t), &container.DeleteOptions{AccessConditions: &container.AccessConditions{
		ModifiedAccessConditions: &container.ModifiedAccessConditions{IfModifiedSince: &future},
	}})
	expectError(t, err, 412, "ConditionNotMet")
	_, err = c.GetProperties(ctx(t), nil)
	must(t, err, "container must survive a refused delete")
}

func TestServiceListsContainerByPrefix(t *testing.T) {
	c := newContainer(t, "go-svc")
	_, err := c.SetMetadata(ctx(t), &container.SetMetadataOptions{Metadata: map[string]*string{"k": ptr("v")}})
	must(t, err, "set metadata")
	name := containerName(t, c)
	pager := svc.NewListContainersPager(&service.ListContainersOptions{
		Prefix:  &name,
		Include: service.ListContainersInclude{Metadata: true},
	})
	found := []string{}
	for pager.More() {
		page, err := pager.NextPage(ctx(t))
		must(t, err, "list containers")
		for _, item := range page.ContainerItems {
			found = append(found, *item.Name)
			if metaValue(item.Metadata, "k") != "v" {
				t.Fatalf("listed metadata %v", item.Metadata)
			}
		}
	}
	if len(found) != 1 || found[0] != name {
		t.Fatalf("listed %v, want [%s]", found, name)
	}
}
