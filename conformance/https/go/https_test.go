// Package https runs the Go SDKs against a Lapis serving HTTPS with a certificate run.sh made:
// it sets LAPIS_HTTPS_CONNECTION_STRING and LAPIS_HTTPS_CA, which the clients trust through a
// transport of their own. A blob, a table entity and a queue message round trip.
package https

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
)

var (
	connStr string
	options azcore.ClientOptions
)

func TestMain(m *testing.M) {
	connStr = os.Getenv("LAPIS_HTTPS_CONNECTION_STRING")
	caFile := os.Getenv("LAPIS_HTTPS_CA")
	if connStr == "" || caFile == "" {
		// A suite that silently skips looks green in CI; refuse to run instead.
		fmt.Fprintln(os.Stderr, "LAPIS_HTTPS_CONNECTION_STRING and LAPIS_HTTPS_CA are not set: run conformance/https/run.sh")
		os.Exit(2)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot read the CA:", err)
		os.Exit(2)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		fmt.Fprintln(os.Stderr, "no certificate in", caFile)
		os.Exit(2)
	}
	transport := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	options = policy.ClientOptions{Transport: transport, Retry: policy.RetryOptions{MaxRetries: -1}}
	os.Exit(m.Run())
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func unique(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

func TestConnectionStringIsHTTPS(t *testing.T) {
	if !strings.Contains(connStr, "DefaultEndpointsProtocol=https;") || !strings.Contains(connStr, "BlobEndpoint=https://") {
		t.Fatalf("not an https connection string: %s", connStr)
	}
}

func TestBlobUploadDownload(t *testing.T) {
	client, err := azblob.NewClientFromConnectionString(connStr, &azblob.ClientOptions{ClientOptions: options})
	if err != nil {
		t.Fatal(err)
	}
	name := unique("https")
	if _, err := client.CreateContainer(ctx(t), name, nil); err != nil {
		t.Fatalf("create container: %v", err)
	}
	defer client.DeleteContainer(context.Background(), name, nil)
	if _, err := client.UploadBuffer(ctx(t), name, "hello.txt", []byte("hello over TLS"), nil); err != nil {
		t.Fatalf("upload: %v", err)
	}
	resp, err := client.DownloadStream(ctx(t), name, "hello.txt", nil)
	if err != nil {
		t.Fatalf("download: %v", err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != "hello over TLS" {
		t.Fatalf("downloaded %q", got)
	}
}

func TestTableInsertGet(t *testing.T) {
	service, err := aztables.NewServiceClientFromConnectionString(connStr, &aztables.ClientOptions{ClientOptions: options})
	if err != nil {
		t.Fatal(err)
	}
	name := unique("https")
	if _, err := service.CreateTable(ctx(t), name, nil); err != nil {
		t.Fatalf("create table: %v", err)
	}
	defer service.DeleteTable(context.Background(), name, nil)
	table := service.NewClient(name)
	entity, _ := json.Marshal(map[string]any{"PartitionKey": "p", "RowKey": "r", "Value": 42})
	if _, err := table.AddEntity(ctx(t), entity, nil); err != nil {
		t.Fatalf("insert: %v", err)
	}
	got, err := table.GetEntity(ctx(t), "p", "r", nil)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	var fields map[string]any
	if err := json.Unmarshal(got.Value, &fields); err != nil {
		t.Fatal(err)
	}
	if fields["Value"] != float64(42) {
		t.Fatalf("entity %v", fields)
	}
	if meta, _ := fields["odata.metadata"].(string); meta != "" && !strings.HasPrefix(meta, "https://") {
		t.Fatalf("odata.metadata is not https: %s", meta)
	}
}

func TestQueuePutGet(t *testing.T) {
	service, err := azqueue.NewServiceClientFromConnectionString(connStr, &azqueue.ClientOptions{ClientOptions: options})
	if err != nil {
		t.Fatal(err)
	}
	name := unique("https")
	if _, err := service.CreateQueue(ctx(t), name, nil); err != nil {
		t.Fatalf("create queue: %v", err)
	}
	defer service.DeleteQueue(context.Background(), name, nil)
	queue := service.NewQueueClient(name)
	if _, err := queue.EnqueueMessage(ctx(t), "hello over TLS", nil); err != nil {
		t.Fatalf("put: %v", err)
	}
	got, err := queue.DequeueMessage(ctx(t), nil)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if len(got.Messages) != 1 || got.Messages[0].MessageText == nil || *got.Messages[0].MessageText != "hello over TLS" {
		t.Fatalf("messages %+v", got.Messages)
	}
}
