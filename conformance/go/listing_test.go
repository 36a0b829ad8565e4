package conformance

// List Blobs: flat, hierarchical with a delimiter, prefix filtering, and paging with MaxResults.

import (
	"slices"
	"sort"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
)

var listingNames = []string{
	"a.txt", "dir1/x.txt", "dir1/y.txt", "dir1/sub/z.txt", "dir2/w.txt", "log-01", "log-02", "log-10", "zeta",
}

func fill(t *testing.T, c *container.Client, names []string) {
	t.Helper()
	for _, n := range names {
		_, err := c.NewBlockBlobClient(n).Upload(ctx(t), body([]byte(n)), nil)
		must(t, err, "upload "+n)
	}
}

func flatNames(t *testing.T, c *container.Client, opts *container.ListBlobsFlatOptions) []string {
	t.Helper()
	names := []string{}
	pager := c.NewListBlobsFlatPager(opts)
	for pager.More() {
		page, err := pager.NextPage(ctx(t))
		must(t, err, "list page")
		for _, b := range page.Segment.BlobItems {
			names = append(names, *b.Name)
		}
	}
	return names
}

func TestFlatListingIsLexicalWithProperties(t *testing.T) {
	c := newContainer(t, "go-flat")
	fill(t, c, listingNames)
	want := slices.Clone(listingNames)
	sort.Strings(want)
	if got := flatNames(t, c, nil); !slices.Equal(got, want) {
		t.Fatalf("flat listing %v, want %v", got, want)
	}
	page, err := c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{Prefix: ptr("dir1/x")}).NextPage(ctx(t))
	must(t, err, "list")
	if len(page.Segment.BlobItems) != 1 {
		t.Fatalf("prefix dir1/x matched %d blobs", len(page.Segment.BlobItems))
	}
	p := page.Segment.BlobItems[0].Properties
	if *p.ContentLength != int64(len("dir1/x.txt")) || string(*p.BlobType) != "BlockBlob" || p.ETag == nil {
		t.Fatalf("properties %+v", p)
	}
}

func TestFlatListingWithPrefix(t *testing.T) {
	c := newContainer(t, "go-prefix")
	fill(t, c, listingNames)
	got := flatNames(t, c, &container.ListBlobsFlatOptions{Prefix: ptr("log-0")})
	if !slices.Equal(got, []string{"log-01", "log-02"}) {
		t.Fatalf("prefix log-0: %v", got)
	}
	if got := flatNames(t, c, &container.ListBlobsFlatOptions{Prefix: ptr("nothing/")}); len(got) != 0 {
		t.Fatalf("prefix nothing/: %v", got)
	}
}

func TestHierarchicalListing(t *testing.T) {
	c := newContainer(t, "go-hier")
	fill(t, c, listingNames)
	check := func(prefix string, wantBlobs, wantPrefixes []string) {
		t.Helper()
		opts := &container.ListBlobsHierarchyOptions{}
		if prefix != "" {
			opts.Prefix = ptr(prefix)
		}
		page, err := c.NewListBlobsHierarchyPager("/", opts).NextPage(ctx(t))
		must(t, err, "list by hierarchy")
		blobs, prefixes := []string{}, []string{}
		for _, b := range page.Segment.BlobItems {
			blobs = append(blobs, *b.Name)
		}
		for _, p := range page.Segment.BlobPrefixes {
			prefixes = append(prefixes, *p.Name)
		}
		if !slices.Equal(blobs, wantBlobs) || !slices.Equal(prefixes, wantPrefixes) {
			t.Fatalf("prefix %q: blobs %v prefixes %v, want %v %v", prefix, blobs, prefixes, wantBlobs, wantPrefixes)
		}
		if page.Delimiter == nil || *page.Delimiter != "/" {
			t.Fatalf("delimiter %v", page.Delimiter)
		}
	}
	check("", []string{"a.txt", "log-01", "log-02", "log-10", "zeta"}, []string{"dir1/", "dir2/"})
	check("dir1/", []string{"dir1/x.txt", "dir1/y.txt"}, []string{"dir1/sub/"})
}

func TestPagingOverMoreThanTenBlobs(t *testing.T) {
	c := newContainer(t, "go-pages")
	names := []string{}
	for i := 0; i < 12; i++ {
		names = append(names, "item-"+string(rune('a'+i)))
	}
	fill(t, c, names)

	pager := c.NewListBlobsFlatPager(&container.ListBlobsFlatOptions{MaxResults: ptr[int32](5)})
	sizes, all, markers := []int{}, []string{}, []string{}
	for pager.More() {
		page, err := pager.NextPage(ctx(t))
		must(t, err, "page")
		sizes = append(sizes, len(page.Segment.BlobItems))
		for _, b := range page.Segment.BlobItems {
			all = append(all, *b.Name)
		}
		marker := ""
		if page.NextMarker != nil {
			marker = *page.NextMarker
		}
		markers = append(markers, marker)
		if *page.MaxResults != 5 {
			t.Fatalf("MaxResults echoed as %d", *page.MaxResults)
		}
	}
	if !slices.Equal(sizes, []int{5, 5, 2}) || !slices.Equal(all, names) {
		t.Fatalf("pages of %v covering %v", sizes, all)
	}
	if markers[0] == "" || markers[1] == "" || markers[2] != "" {
		t.Fatalf("NextMarkers %q: want two non-empty then empty", markers)
	}

	// Resuming from a marker starts exactly after the previous page.
	resumeOpts := &container.ListBlobsFlatOptions{MaxResults: ptr[int32](4), Marker: &markers[0]}
	page, err := c.NewListBlobsFlatPager(resumeOpts).NextPage(ctx(t))
	must(t, err, "resume")
	resumed := []string{}
	for _, b := range page.Segment.BlobItems {
		resumed = append(resumed, *b.Name)
	}
	if !slices.Equal(resumed, names[5:9]) {
		t.Fatalf("resumed %v, want %v", resumed, names[5:9])
	}
}

func TestListingMissingContainerIs404(t *testing.T) {
	c := svc.NewContainerClient(uniqueName("go-gone"))
	_, err := c.NewListBlobsFlatPager(nil).NextPage(ctx(t))
	expectError(t, err, 404, "ContainerNotFound")
}
