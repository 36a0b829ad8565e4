package conformance

// Queue service through azqueue: queues, their metadata and access policies, listing and service
// properties. Messages are in queue_messages_test.go, shared access signatures in queue_sas_test.go.
// Every queue test skips when LAPIS_QUEUE_ENDPOINT is not set.

import (
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue/sas"
)

// queueService is a Shared Key client for LAPIS_QUEUE_ENDPOINT; the test skips without it.
func queueService(t *testing.T) *azqueue.ServiceClient {
	t.Helper()
	if queueEndpoint == "" {
		t.Skip("LAPIS_QUEUE_ENDPOINT is not set")
	}
	connStr := fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;QueueEndpoint=%s;",
		accountName, accountKey, queueEndpoint)
	s, err := azqueue.NewServiceClientFromConnectionString(connStr,
		&azqueue.ClientOptions{ClientOptions: clientOptions()})
	must(t, err, "queue client from connection string")
	return s
}

// newQueue creates a fresh queue that is deleted when the test ends.
func newQueue(t *testing.T, prefix string) *azqueue.QueueClient {
	t.Helper()
	q := queueService(t).NewQueueClient(uniqueName(prefix))
	_, err := q.Create(ctx(t), nil)
	must(t, err, "create queue")
	t.Cleanup(func() {
		_, err := q.Delete(context.Background(), nil)
		if err != nil && !hasStatus(err, 404) {
			t.Errorf("cleanup: delete queue: %v", err)
		}
	})
	return q
}

// capture returns a context that records the raw response, for the status codes azqueue hides.
func capture(t *testing.T) (context.Context, **http.Response) {
	var resp *http.Response
	return runtime.WithCaptureResponse(ctx(t), &resp), &resp
}

func queueMeta(t *testing.T, q *azqueue.QueueClient) (map[string]*string, int32) {
	t.Helper()
	props, err := q.GetProperties(ctx(t), nil)
	must(t, err, "get queue properties")
	if props.ApproximateMessagesCount == nil {
		t.Fatal("no x-ms-approximate-messages-count")
	}
	return props.Metadata, *props.ApproximateMessagesCount
}

func TestQueueCreateSameMetadataAndConflict(t *testing.T) {
	q := queueService(t).NewQueueClient(uniqueName("go-qcreate"))
	t.Cleanup(func() { _, _ = q.Delete(context.Background(), nil) })
	meta := map[string]*string{"color": ptr("blue"), "size": ptr("2")}

	c, resp := capture(t)
	_, err := q.Create(c, &azqueue.CreateOptions{Metadata: meta})
	must(t, err, "create")
	if (*resp).StatusCode != 201 {
		t.Fatalf("create: status %d, want 201", (*resp).StatusCode)
	}
	// Create Queue on an existing queue whose metadata is identical succeeds with 204 No Content.
	c, resp = capture(t)
	_, err = q.Create(c, &azqueue.CreateOptions{Metadata: meta})
	must(t, err, "create again with the same metadata")
	if (*resp).StatusCode != 204 {
		t.Fatalf("create again: status %d, want 204", (*resp).StatusCode)
	}
	_, err = q.Create(ctx(t), &azqueue.CreateOptions{Metadata: map[string]*string{"color": ptr("red"), "size": ptr("2")}})
	expectError(t, err, 409, "QueueAlreadyExists")
	_, err = q.Create(ctx(t), nil)
	expectError(t, err, 409, "QueueAlreadyExists")

	got, _ := queueMeta(t, q)
	if len(got) != 2 || metaValue(got, "color") != "blue" || metaValue(got, "size") != "2" {
		t.Fatalf("metadata after the refused creates: %v", got)
	}
}

func TestQueueDeleteMissing(t *testing.T) {
	s := queueService(t)
	name := uniqueName("go-qdelete")
	q := s.NewQueueClient(name)
	_, err := q.Create(ctx(t), nil)
	must(t, err, "create")
	c, resp := capture(t)
	_, err = s.DeleteQueue(c, name, nil)
	must(t, err, "delete")
	if (*resp).StatusCode != 204 {
		t.Fatalf("delete: status %d, want 204", (*resp).StatusCode)
	}
	_, err = q.Delete(ctx(t), nil)
	expectError(t, err, 404, "QueueNotFound")
	_, err = q.GetProperties(ctx(t), nil)
	expectError(t, err, 404, "QueueNotFound")
	_, err = q.EnqueueMessage(ctx(t), "to nowhere", nil)
	expectError(t, err, 404, "QueueNotFound")
	_, err = q.DequeueMessages(ctx(t), nil)
	expectError(t, err, 404, "QueueNotFound")
}

func TestQueueMetadataAndMessageCount(t *testing.T) {
	q := newQueue(t, "go-qmeta")
	meta, count := queueMeta(t, q)
	if len(meta) != 0 || count != 0 {
		t.Fatalf("fresh queue: metadata %v, count %d", meta, count)
	}
	_, err := q.SetMetadata(ctx(t), &azqueue.SetMetadataOptions{
		Metadata: map[string]*string{"owner": ptr("lapis"), "purpose": ptr("conformance")}})
	must(t, err, "set metadata")
	for i := 0; i < 3; i++ {
		_, err := q.EnqueueMessage(ctx(t), fmt.Sprintf("m%d", i), nil)
		must(t, err, "enqueue")
	}
	// An invisible message still counts: the count is never lower than the real number.
	_, err = q.EnqueueMessage(ctx(t), "later", &azqueue.EnqueueMessageOptions{VisibilityTimeout: ptr[int32](60)})
	must(t, err, "enqueue invisible")
	meta, count = queueMeta(t, q)
	if len(meta) != 2 || metaValue(meta, "owner") != "lapis" || metaValue(meta, "purpose") != "conformance" {
		t.Fatalf("metadata: %v", meta)
	}
	if count != 4 {
		t.Fatalf("approximate message count %d, want 4", count)
	}

	// Set Queue Metadata replaces the whole set; with none it clears it.
	_, err = q.SetMetadata(ctx(t), &azqueue.SetMetadataOptions{Metadata: map[string]*string{"only": ptr("one")}})
	must(t, err, "replace metadata")
	if meta, _ = queueMeta(t, q); len(meta) != 1 || metaValue(meta, "only") != "one" {
		t.Fatalf("replaced metadata: %v", meta)
	}
	_, err = q.SetMetadata(ctx(t), nil)
	must(t, err, "clear metadata")
	if meta, _ = queueMeta(t, q); len(meta) != 0 {
		t.Fatalf("cleared metadata: %v", meta)
	}
}

func TestQueueAccessPolicy(t *testing.T) {
	q := newQueue(t, "go-qacl")
	got, err := q.GetAccessPolicy(ctx(t), nil)
	must(t, err, "get empty policy")
	if len(got.SignedIdentifiers) != 0 {
		t.Fatalf("fresh queue has %d identifiers", len(got.SignedIdentifiers))
	}
	start := time.Now().Add(-5 * time.Minute).UTC().Truncate(time.Second)
	expiry := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	_, err = q.SetAccessPolicy(ctx(t), &azqueue.SetAccessPolicyOptions{QueueACL: []*azqueue.SignedIdentifier{
		{ID: ptr("full-access"), AccessPolicy: &azqueue.AccessPolicy{Start: &start, Expiry: &expiry, Permission: ptr("raup")}},
		{ID: ptr("read-only"), AccessPolicy: &azqueue.AccessPolicy{Expiry: &expiry, Permission: ptr("r")}},
	}})
	must(t, err, "set access policy")

	got, err = q.GetAccessPolicy(ctx(t), nil)
	must(t, err, "get access policy")
	byID := map[string]*azqueue.AccessPolicy{}
	for _, si := range got.SignedIdentifiers {
		byID[*si.ID] = si.AccessPolicy
	}
	full, ro := byID["full-access"], byID["read-only"]
	if len(byID) != 2 || full == nil || ro == nil {
		t.Fatalf("identifiers: %v", byID)
	}
	if *full.Permission != "raup" || !full.Start.Equal(start) || !full.Expiry.Equal(expiry) {
		t.Fatalf("full-access: %s %v %v", *full.Permission, full.Start, full.Expiry)
	}
	if *ro.Permission != "r" || ro.Start != nil || !ro.Expiry.Equal(expiry) {
		t.Fatalf("read-only: %s %v %v", *ro.Permission, ro.Start, ro.Expiry)
	}

	// An empty list removes every policy.
	_, err = q.SetAccessPolicy(ctx(t), &azqueue.SetAccessPolicyOptions{QueueACL: []*azqueue.SignedIdentifier{}})
	must(t, err, "clear access policy")
	got, err = q.GetAccessPolicy(ctx(t), nil)
	must(t, err, "get cleared policy")
	if len(got.SignedIdentifiers) != 0 {
		t.Fatalf("cleared policy still has %d identifiers", len(got.SignedIdentifiers))
	}
}

func TestQueueListPrefixPaging(t *testing.T) {
	s := queueService(t)
	prefix := uniqueName("go-qlist")
	var names []string
	for i := 0; i < 5; i++ {
		name := fmt.Sprintf("%s-%d", prefix, i)
		names = append(names, name)
		_, err := s.CreateQueue(ctx(t), name, &azqueue.CreateOptions{Metadata: map[string]*string{"index": ptr(fmt.Sprint(i))}})
		must(t, err, "create "+name)
		t.Cleanup(func() { _, _ = s.DeleteQueue(context.Background(), name, nil) })
	}

	pager := s.NewListQueuesPager(&azqueue.ListQueuesOptions{
		Prefix: &prefix, MaxResults: ptr[int32](2), Include: azqueue.ListQueuesInclude{Metadata: true}})
	var sizes []int
	var listed, indexes []string
	for pager.More() {
		page, err := pager.NextPage(ctx(t))
		must(t, err, "list page")
		sizes = append(sizes, len(page.Queues))
		for _, q := range page.Queues {
			listed = append(listed, *q.Name)
			indexes = append(indexes, metaValue(q.Metadata, "index"))
		}
	}
	if !reflect.DeepEqual(sizes, []int{2, 2, 1}) {
		t.Fatalf("page sizes %v, want [2 2 1]", sizes)
	}
	if !reflect.DeepEqual(listed, names) || !reflect.DeepEqual(indexes, []string{"0", "1", "2", "3", "4"}) {
		t.Fatalf("listed %v with metadata %v", listed, indexes)
	}

	// Without include=metadata there is none; a prefix that matches nothing lists nothing.
	page, err := s.NewListQueuesPager(&azqueue.ListQueuesOptions{Prefix: &prefix}).NextPage(ctx(t))
	must(t, err, "list without metadata")
	if len(page.Queues) != 5 || len(page.Queues[0].Metadata) != 0 {
		t.Fatalf("plain listing: %d queues, metadata %v", len(page.Queues), page.Queues[0].Metadata)
	}
	page, err = s.NewListQueuesPager(&azqueue.ListQueuesOptions{Prefix: ptr(prefix + "-x")}).NextPage(ctx(t))
	must(t, err, "list with an unmatched prefix")
	if len(page.Queues) != 0 {
		t.Fatalf("unmatched prefix listed %d queues", len(page.Queues))
	}
}

func TestQueueServiceProperties(t *testing.T) {
	s := queueService(t)
	orig, err := s.GetServiceProperties(ctx(t), nil)
	must(t, err, "get service properties")
	t.Cleanup(func() {
		_, err := s.SetProperties(context.Background(), &azqueue.SetPropertiesOptions{
			Logging: orig.Logging, HourMetrics: orig.HourMetrics, MinuteMetrics: orig.MinuteMetrics, CORS: orig.CORS})
		if err == nil && len(orig.CORS) == 0 {
			err = clearQueueCORS(context.Background())
		}
		if err != nil {
			t.Errorf("cleanup: restore service properties: %v", err)
		}
	})

	logging := &azqueue.Logging{Version: ptr("1.0"), Delete: ptr(true), Read: ptr(false), Write: ptr(true),
		RetentionPolicy: &azqueue.RetentionPolicy{Enabled: ptr(true), Days: ptr[int32](5)}}
	hour := &azqueue.Metrics{Version: ptr("1.0"), Enabled: ptr(true), IncludeAPIs: ptr(true),
		RetentionPolicy: &azqueue.RetentionPolicy{Enabled: ptr(true), Days: ptr[int32](3)}}
	minute := &azqueue.Metrics{Version: ptr("1.0"), Enabled: ptr(false),
		RetentionPolicy: &azqueue.RetentionPolicy{Enabled: ptr(false)}}
	cors := []*azqueue.CORSRule{{AllowedOrigins: ptr("http://example.com"), AllowedMethods: ptr("GET,PUT"),
		AllowedHeaders: ptr("x-ms-meta-*"), ExposedHeaders: ptr("x-ms-request-id"), MaxAgeInSeconds: ptr[int32](60)}}
	c, resp := capture(t)
	_, err = s.SetProperties(c, &azqueue.SetPropertiesOptions{Logging: logging, HourMetrics: hour, MinuteMetrics: minute, CORS: cors})
	must(t, err, "set service properties")
	if (*resp).StatusCode != 202 {
		t.Fatalf("set service properties: status %d, want 202", (*resp).StatusCode)
	}

	got, err := s.GetServiceProperties(ctx(t), nil)
	must(t, err, "get service properties back")
	if !reflect.DeepEqual(got.Logging, logging) {
		t.Errorf("logging: %+v", got.Logging)
	}
	if !reflect.DeepEqual(got.HourMetrics, hour) {
		t.Errorf("hour metrics: %+v", got.HourMetrics)
	}
	if got.MinuteMetrics == nil || *got.MinuteMetrics.Enabled || *got.MinuteMetrics.RetentionPolicy.Enabled {
		t.Errorf("minute metrics: %+v", got.MinuteMetrics)
	}
	if !reflect.DeepEqual(got.CORS, cors) {
		t.Errorf("CORS: %d rules", len(got.CORS))
	}

	// Without a Cors element the rules stay; an empty Cors element deletes them all.
	_, err = s.SetProperties(ctx(t), &azqueue.SetPropertiesOptions{Logging: logging})
	must(t, err, "set logging only")
	got, err = s.GetServiceProperties(ctx(t), nil)
	must(t, err, "get after setting logging only")
	if !reflect.DeepEqual(got.CORS, cors) || !reflect.DeepEqual(got.HourMetrics, hour) {
		t.Fatalf("setting logging alone changed CORS (%d rules) or hour metrics", len(got.CORS))
	}
	must(t, clearQueueCORS(ctx(t)), "clear CORS")
	got, err = s.GetServiceProperties(ctx(t), nil)
	must(t, err, "get after clearing CORS")
	if len(got.CORS) != 0 || !reflect.DeepEqual(got.Logging, logging) {
		t.Fatalf("after an empty Cors element: %d rules, logging %+v", len(got.CORS), got.Logging)
	}
}

// clearQueueCORS sends Set Queue Service Properties with an empty Cors element, which deletes every
// CORS rule. azqueue cannot send one (it drops an empty list), so this is a plain request under an
// account SAS.
func clearQueueCORS(c context.Context) error {
	cred, err := azqueue.NewSharedKeyCredential(accountName, accountKey)
	if err != nil {
		return err
	}
	start, expiry := sasWindow()
	perms := sas.AccountPermissions{Write: true}
	resources := sas.AccountResourceTypes{Service: true}
	qp, err := sas.AccountSignatureValues{
		Protocol: sas.ProtocolHTTPSandHTTP, StartTime: *start, ExpiryTime: expiry,
		Permissions: perms.String(), ResourceTypes: resources.String(),
	}.SignWithSharedKey(cred)
	if err != nil {
		return err
	}
	body := `<?xml version="1.0" encoding="utf-8"?><StorageServiceProperties><Cors /></StorageServiceProperties>`
	req, err := http.NewRequestWithContext(c, http.MethodPut,
		queueEndpoint+"/?restype=service&comp=properties&"+qp.Encode(), strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/xml")
	req.Header.Set("x-ms-version", sas.Version)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("set service properties with an empty Cors element: status %d (%s)",
			resp.StatusCode, resp.Header.Get("x-ms-error-code"))
	}
	return nil
}
