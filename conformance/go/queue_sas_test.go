package conformance

// Shared access signatures for the Queue service through azqueue's sas package: what a queue SAS and
// an account SAS allow and refuse.

import (
	"context"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue/sas"
)

// queueSASClient signs a queue SAS with azqueue's sas package. spr allows http: the endpoint under
// test is plain http, and QueueClient.GetSASURL always signs spr=https, which Azure refuses over
// http (AuthorizationProtocolMismatch).
func queueSASClient(t *testing.T, q *azqueue.QueueClient, perms sas.QueuePermissions) *azqueue.QueueClient {
	t.Helper()
	cred, err := azqueue.NewSharedKeyCredential(accountName, accountKey)
	must(t, err, "shared key")
	parts, err := azqueue.ParseURL(q.URL())
	must(t, err, "parse queue URL")
	start, expiry := sasWindow()
	qp, err := sas.QueueSignatureValues{
		Protocol: sas.ProtocolHTTPSandHTTP, StartTime: *start, ExpiryTime: expiry,
		Permissions: perms.String(), QueueName: parts.QueueName,
	}.SignWithSharedKey(cred)
	must(t, err, "sign queue SAS")
	c, err := azqueue.NewQueueClientWithNoCredential(q.URL()+"?"+qp.Encode(),
		&azqueue.ClientOptions{ClientOptions: clientOptions()})
	must(t, err, "queue client from SAS URL")
	return c
}

func TestQueueSASAddOnly(t *testing.T) {
	q := newQueue(t, "go-qsas")
	viaSAS := queueSASClient(t, q, sas.QueuePermissions{Add: true})
	_, err := viaSAS.EnqueueMessage(ctx(t), "added through a SAS", nil)
	must(t, err, "enqueue through an add-only SAS")
	_, err = viaSAS.DequeueMessages(ctx(t), nil)
	expectError(t, err, 403, "AuthorizationPermissionMismatch")
	_, err = viaSAS.PeekMessages(ctx(t), nil)
	expectError(t, err, 403, "AuthorizationPermissionMismatch")
	// No queue SAS can clear a queue; whether Azure names that AuthorizationFailure or
	// AuthorizationPermissionMismatch is not recorded, so only the status is asserted.
	_, err = viaSAS.ClearMessages(ctx(t), nil)
	expectError(t, err, 403, "")

	peeked, err := q.PeekMessages(ctx(t), &azqueue.PeekMessagesOptions{NumberOfMessages: ptr[int32](32)})
	must(t, err, "peek")
	if len(peeked.Messages) != 1 || *peeked.Messages[0].MessageText != "added through a SAS" {
		t.Fatalf("queue holds %d messages", len(peeked.Messages))
	}
}

func TestQueueSASReadProcess(t *testing.T) {
	q := newQueue(t, "go-qsas-rp")
	_, err := q.EnqueueMessage(ctx(t), "for the reader", nil)
	must(t, err, "enqueue")
	viaSAS := queueSASClient(t, q, sas.QueuePermissions{Read: true, Process: true})
	got, err := viaSAS.DequeueMessage(ctx(t), nil)
	must(t, err, "dequeue through SAS")
	if len(got.Messages) != 1 || *got.Messages[0].MessageText != "for the reader" {
		t.Fatalf("dequeued %d messages", len(got.Messages))
	}
	_, err = viaSAS.DeleteMessage(ctx(t), *got.Messages[0].MessageID, *got.Messages[0].PopReceipt, nil)
	must(t, err, "delete through SAS")
	_, err = viaSAS.EnqueueMessage(ctx(t), "no add", nil)
	expectError(t, err, 403, "AuthorizationPermissionMismatch")
}

// accountSASService signs an account SAS for the queue service (ss=q) with azqueue's sas package.
func accountSASService(t *testing.T, s *azqueue.ServiceClient, resources sas.AccountResourceTypes) *azqueue.ServiceClient {
	t.Helper()
	cred, err := azqueue.NewSharedKeyCredential(accountName, accountKey)
	must(t, err, "shared key")
	start, expiry := sasWindow()
	perms := sas.AccountPermissions{Read: true, Write: true, Delete: true, List: true, Add: true, Create: true,
		Update: true, Process: true}
	qp, err := sas.AccountSignatureValues{
		Protocol: sas.ProtocolHTTPSandHTTP, StartTime: *start, ExpiryTime: expiry,
		Permissions: perms.String(), ResourceTypes: resources.String(),
	}.SignWithSharedKey(cred)
	must(t, err, "sign account SAS")
	// No slash before the query: azqueue joins queue names onto the path as given.
	c, err := azqueue.NewServiceClientWithNoCredential(strings.TrimRight(s.URL(), "/")+"?"+qp.Encode(),
		&azqueue.ClientOptions{ClientOptions: clientOptions()})
	must(t, err, "service client from SAS URL")
	return c
}

func TestQueueAccountSAS(t *testing.T) {
	s := queueService(t)
	viaSAS := accountSASService(t, s, sas.AccountResourceTypes{Service: true, Container: true, Object: true})
	name := uniqueName("go-qasas")
	t.Cleanup(func() { _, _ = s.DeleteQueue(context.Background(), name, nil) })

	_, err := viaSAS.CreateQueue(ctx(t), name, nil)
	must(t, err, "create through account SAS")
	page, err := viaSAS.NewListQueuesPager(&azqueue.ListQueuesOptions{Prefix: &name}).NextPage(ctx(t))
	must(t, err, "list through account SAS")
	if len(page.Queues) != 1 || *page.Queues[0].Name != name {
		t.Fatalf("listed %d queues", len(page.Queues))
	}
	q := viaSAS.NewQueueClient(name)
	_, err = q.EnqueueMessage(ctx(t), "via account SAS", nil)
	must(t, err, "enqueue through account SAS")
	got, err := q.DequeueMessage(ctx(t), nil)
	must(t, err, "dequeue through account SAS")
	if len(got.Messages) != 1 || *got.Messages[0].MessageText != "via account SAS" {
		t.Fatalf("dequeued %d messages", len(got.Messages))
	}
	_, err = q.DeleteMessage(ctx(t), *got.Messages[0].MessageID, *got.Messages[0].PopReceipt, nil)
	must(t, err, "delete message through account SAS")
	_, err = viaSAS.DeleteQueue(ctx(t), name, nil)
	must(t, err, "delete queue through account SAS")
}

func TestQueueAccountSASServiceOnly(t *testing.T) {
	s := queueService(t)
	viaSAS := accountSASService(t, s, sas.AccountResourceTypes{Service: true})
	name := uniqueName("go-qasas-s")
	t.Cleanup(func() { _, _ = s.DeleteQueue(context.Background(), name, nil) })

	page, err := viaSAS.NewListQueuesPager(&azqueue.ListQueuesOptions{Prefix: &name}).NextPage(ctx(t))
	must(t, err, "list through a service-only account SAS")
	if len(page.Queues) != 0 {
		t.Fatalf("listed %d queues", len(page.Queues))
	}
	_, err = viaSAS.CreateQueue(ctx(t), name, nil)
	expectError(t, err, 403, "AuthorizationResourceTypeMismatch")
}
