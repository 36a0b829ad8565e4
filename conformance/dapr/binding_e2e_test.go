package dapr

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"
)

// queueBinding is the name of the bindings.azure.storagequeues Component: daprd's output binding URL
// /v1.0/bindings/<name> and the path it POSTs input events to on the app.
const queueBinding = "lapis-queue"

// queueBindingComponent is the Component of docs/dapr.md with the test's queue and endpoint,
// ttlInSeconds 60, and short polling and visibility timeouts so that a redelivery takes seconds.
func queueBindingComponent(t *testing.T, dir, secretsFile, queue string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "binding-queue.yaml"), fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: %s
spec:
  type: bindings.azure.storagequeues
  version: v1
  metadata:
  - name: accountName
    value: devstoreaccount1
  - name: accountKey
    secretKeyRef:
      name: lapis-storage
      key: accountKey
  - name: queueName
    value: %s
  - name: queueEndpoint
    value: %s
  - name: ttlInSeconds
    value: "60"
  - name: pollingInterval
    value: 200ms
  - name: visibilityTimeout
    value: %s
  - name: direction
    value: input, output
auth:
  secretStore: lapis-secrets
`, queueBinding, queue, target.qURL, queueVisibility))
	secretStore(t, dir, secretsFile)
}

// queueHTTPApp serves a queueApp over HTTP the way daprd calls an app: OPTIONS /<binding> to ask
// whether the app takes the binding's events, POST /<binding> with the message text as body and the
// binding's metadata as headers for each event.
type queueHTTPApp struct{ *queueApp }

func (a queueHTTPApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/"+queueBinding {
		http.NotFound(w, r) // /dapr/config, /dapr/subscribe: nothing to declare
		return
	}
	switch r.Method {
	case http.MethodOptions:
		w.WriteHeader(http.StatusOK)
	case http.MethodPost:
		body, err := io.ReadAll(r.Body)
		if err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		w.WriteHeader(a.receive(string(body), r.Header.Get))
	default:
		w.WriteHeader(http.StatusMethodNotAllowed)
	}
}

// startQueueApp serves a queueApp on a free loopback port and returns it with its port.
func startQueueApp(t *testing.T) (*queueApp, int) {
	t.Helper()
	app := newQueueApp()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: queueHTTPApp{app}, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return app, l.Addr().(*net.TCPAddr).Port
}

// invokeBinding puts text through daprd's output binding (operation create) as the JSON string
// `data`, which the component unquotes: the message text is exactly text.
func invokeBinding(t *testing.T, base, text string, metadata map[string]string) {
	t.Helper()
	raw, err := json.Marshal(map[string]any{"operation": "create", "data": text, "metadata": metadata})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1.0/bindings/"+queueBinding, bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("output binding: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		t.Fatalf("output binding create: status %d, want 200 or 204: %s", resp.StatusCode, body)
	}
}

// TestDaprdQueueBinding drives a real daprd's bindings.azure.storagequeues Component, as output and
// input binding of one queue, with an HTTP app behind daprd that accepts or refuses each event.
func TestDaprdQueueBinding(t *testing.T) {
	queue := "dapr-e2e-" + randomSuffix(t)
	app, appPort := startQueueApp(t)
	base := startDaprd(t, func(dir, secretsFile string) { queueBindingComponent(t, dir, secretsFile, queue) }, appPort)
	queueDeliveryScenario(t, app, queueClient(t, queue), func(t *testing.T, text string, md map[string]string) {
		invokeBinding(t, base, text, md)
	})
}
