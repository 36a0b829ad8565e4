package dapr

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/dapr/components-contrib/bindings"
	"github.com/dapr/components-contrib/bindings/azure/storagequeues"
	"github.com/dapr/components-contrib/metadata"
	confbindings "github.com/dapr/components-contrib/tests/conformance/bindings"
	"github.com/dapr/kit/logger"
)

// The operations are those of Dapr's CI for azure.storagequeues (components-contrib
// tests/config/bindings/tests.yml), which gives it no config map, so the suite's defaults apply:
// its CloudEvent-like JSON array as data, a 60 s read timeout and a 1 s wait before the create.
var queueBindingOperations = []string{"create", "operations", "read"}

// TestBindingAzureStorageQueues runs Dapr's bindings conformance suite on the real
// bindings.azure.storagequeues component, as input and as output binding of one queue.
func TestBindingAzureStorageQueues(t *testing.T) {
	// The metadata of Dapr's CI component (tests/config/bindings/azure/storagequeues/bindings.yml),
	// with its key names, plus the endpoint of the server under test and a short polling interval:
	// the component polls an empty queue every 10 s by default, and the suite's read starts on an
	// empty queue, so that default only makes the run 10 s longer.
	props := map[string]string{
		"storageAccount":   accountName,
		"storageAccessKey": accountKey,
		"queue":            "dapr-conf-bindings",
		"ttlInSeconds":     "60",
		"queueEndpoint":    target.qURL,
		"pollingInterval":  "500ms",
	}
	cfg, err := confbindings.NewTestConfig("azure.storagequeues", queueBindingOperations, nil)
	if err != nil {
		t.Fatalf("NewTestConfig: %v", err)
	}
	// As in Dapr's CI: two instances, one initialised as output and one as input binding. The suite
	// only counts deliveries, and closes the input binding as soon as one arrived, which can cancel
	// the component's delete of that message; TestBindingAzureStorageQueuesDelivery checks the rest.
	output := storagequeues.NewAzureStorageQueues(logger.NewLogger("dapr-conformance-queue-out"))
	input := storagequeues.NewAzureStorageQueues(logger.NewLogger("dapr-conformance-queue-in"))
	confbindings.ConformanceTests(t, props, input, output, cfg)
}

// TestBindingAzureStorageQueuesDelivery runs the delivery scenario of the daprd test
// (TestDaprdQueueBinding) on the component itself, without daprd, with encodeBase64 and
// decodeBase64 on: the message text in the queue is the base64 of what was sent.
func TestBindingAzureStorageQueuesDelivery(t *testing.T) {
	queue := "dapr-delivery-" + randomSuffix(t)
	props := map[string]string{
		"accountName":       accountName,
		"accountKey":        accountKey,
		"queueName":         queue,
		"queueEndpoint":     target.qURL,
		"ttlInSeconds":      "60",
		"pollingInterval":   "200ms",
		"visibilityTimeout": queueVisibility.String(),
		"encodeBase64":      "true",
		"decodeBase64":      "true",
	}
	meta := bindings.Metadata{Base: metadata.Base{Name: "queue", Properties: props}}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	output := storagequeues.NewAzureStorageQueues(logger.NewLogger("dapr-delivery-out"))
	if err := output.Init(ctx, meta); err != nil {
		t.Fatalf("init output binding: %v", err)
	}
	defer output.Close()
	send := func(t *testing.T, text string, md map[string]string) {
		t.Helper()
		if _, err := output.Invoke(ctx, &bindings.InvokeRequest{Operation: bindings.CreateOperation,
			Data: []byte(text), Metadata: md}); err != nil {
			t.Fatalf("invoke create: %v", err)
		}
	}
	q := queueClient(t, queue)

	// Before anything reads the queue: what the component stored.
	send(t, queuePayload, nil)
	peek, err := q.PeekMessages(ctx, nil)
	if err != nil {
		t.Fatalf("peek: %v", err)
	}
	if want := base64.StdEncoding.EncodeToString([]byte(queuePayload)); len(peek.Messages) != 1 ||
		peek.Messages[0].MessageText == nil || *peek.Messages[0].MessageText != want {
		t.Fatalf("peek after create: %d messages, want one with text %q", len(peek.Messages), want)
	}
	if _, err := q.ClearMessages(ctx, nil); err != nil {
		t.Fatalf("clear: %v", err)
	}

	app := newQueueApp()
	input := storagequeues.NewAzureStorageQueues(logger.NewLogger("dapr-delivery-in"))
	if err := input.Init(ctx, meta); err != nil {
		t.Fatalf("init input binding: %v", err)
	}
	err = input.Read(ctx, func(_ context.Context, r *bindings.ReadResponse) ([]byte, error) {
		if app.receive(string(r.Data), func(k string) string { return r.Metadata[k] }) != http.StatusOK {
			return nil, errors.New("refused by the app")
		}
		return nil, nil
	})
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	defer input.Close()
	queueDeliveryScenario(t, app, q, send)
}
