// Package conformance checks a Blob endpoint against Azure's behaviour through the Go azblob SDK.
package conformance

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
)

const (
	accountName = "devstoreaccount1"
	accountKey  = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
	// featuresAccountName is the account of LAPIS_FEATURES_ENDPOINT (conformance/accounts.json), same key.
	featuresAccountName = "lapisfeatures"
)

var (
	// blobEndpoint is the Blob endpoint under test, account in the path, no trailing slash.
	blobEndpoint string
	// queueEndpoint is the Queue endpoint under test (LAPIS_QUEUE_ENDPOINT), account in the path, no
	// trailing slash; empty when unset, and then the queue tests skip so a Blob-only run stays green.
	queueEndpoint string
	// featuresEndpoint is the Blob endpoint of the account lapisfeatures (LAPIS_FEATURES_ENDPOINT), which
	// has blob versioning and container soft delete on; empty when unset (Azurite has neither), and then
	// the tests of those features skip.
	featuresEndpoint string
	// softDeleteEndpoint is the Blob endpoint of the account lapissoftdelete (LAPIS_SOFT_DELETE_ENDPOINT),
	// which has container soft delete on and versioning off; empty when unset (Azurite has no soft
	// delete), and then the soft delete tests skip.
	softDeleteEndpoint string
	// targetIsAzurite skips only the assertions where Azurite is known to differ from Azure.
	targetIsAzurite bool
	// svc is a Shared Key client for the whole account.
	svc *service.Client
)

func TestMain(m *testing.M) {
	raw := os.Getenv("LAPIS_BLOB_ENDPOINT")
	if raw == "" {
		// A suite that silently skips looks green in CI; refuse to run instead.
		fmt.Fprintln(os.Stderr, "LAPIS_BLOB_ENDPOINT is not set. Point it at the Blob endpoint under test, "+
			"e.g. LAPIS_BLOB_ENDPOINT=http://127.0.0.1:10000/devstoreaccount1 (run.sh sets it).")
		os.Exit(2)
	}
	blobEndpoint = strings.TrimRight(raw, "/")
	queueEndpoint = strings.TrimRight(os.Getenv("LAPIS_QUEUE_ENDPOINT"), "/")
	featuresEndpoint = strings.TrimRight(os.Getenv("LAPIS_FEATURES_ENDPOINT"), "/")
	softDeleteEndpoint = strings.TrimRight(os.Getenv("LAPIS_SOFT_DELETE_ENDPOINT"), "/")
	targetIsAzurite = os.Getenv("LAPIS_TARGET") == "azurite"

	connStr := fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;",
		accountName, accountKey, blobEndpoint)
	var err error
	svc, err = service.NewClientFromConnectionString(connStr, &service.ClientOptions{ClientOptions: clientOptions()})
	if err != nil {
		fmt.Fprintln(os.Stderr, "cannot build a client from the connection string:", err)
		os.Exit(2)
	}
	os.Exit(m.Run())
}

// clientOptions disables retries: a retried request would hide the first answer, which is the one we assert.
func clientOptions() azcore.ClientOptions {
	return policy.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// uniqueName is a container or queue name unique to this run and call.
func uniqueName(prefix string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	name := fmt.Sprintf("%s-%x-%s", prefix, time.Now().UnixNano(), hex.EncodeToString(b[:]))
	if len(name) > 63 {
		name = name[:63]
	}
	return name
}

// featuresService is a Shared Key client for LAPIS_FEATURES_ENDPOINT; the test skips without it.
func featuresService(t *testing.T) *service.Client {
	t.Helper()
	if featuresEndpoint == "" {
		t.Skip("LAPIS_FEATURES_ENDPOINT is not set (Azurite has no blob versioning)")
	}
	connStr := fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;BlobEndpoint=%s;",
		featuresAccountName, accountKey, featuresEndpoint)
	s, err := service.NewClientFromConnectionString(connStr, &service.ClientOptions{ClientOptions: clientOptions()})
	must(t, err, "features client from connection string")
	return s
}

// newContainer creates a fresh container in devstoreaccount1 that is deleted when the test ends.
func newContainer(t *testing.T, prefix string) *container.Client {
	t.Helper()
	return newContainerIn(t, svc, prefix)
}

// newContainerIn creates a fresh container in s's account that is deleted when the test ends.
func newContainerIn(t *testing.T, s *service.Client, prefix string) *container.Client {
	t.Helper()
	c := s.NewContainerClient(uniqueName(prefix))
	if _, err := c.Create(ctx(t), nil); err != nil {
		t.Fatalf("create container: %v", err)
	}
	t.Cleanup(func() {
		_, err := c.Delete(context.Background(), nil)
		if err != nil && !hasStatus(err, 404) {
			t.Errorf("cleanup: delete container: %v", err)
		}
	})
	return c
}

// expectError fails the test unless err is an Azure error with this status and, when code is not
// empty, this x-ms-error-code (which Azure sends even on HEAD and 304 answers that have no body).
func expectError(t *testing.T, err error, status int, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("expected %d %s, but the call succeeded", status, code)
	}
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("expected an Azure response error %d %s, got %v", status, code, err)
	}
	if re.StatusCode != status {
		t.Fatalf("status: got %d, want %d (%v)", re.StatusCode, status, err)
	}
	if code != "" {
		got := re.ErrorCode
		if re.RawResponse != nil && re.RawResponse.Header.Get("x-ms-error-code") != "" {
			got = re.RawResponse.Header.Get("x-ms-error-code")
		}
		if got != code {
			t.Fatalf("x-ms-error-code: got %q, want %q (status %d)", got, code, re.StatusCode)
		}
	}
}

func hasStatus(err error, status int) bool {
	var re *azcore.ResponseError
	return errors.As(err, &re) && re.StatusCode == status
}

func must(t *testing.T, err error, what string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// payload is deterministic pseudo-random data, so a corrupted download cannot match by accident.
func payload(size int, seed uint32) []byte {
	out := make([]byte, size)
	x := seed | 1
	for i := range out {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		out[i] = byte(x)
	}
	return out
}

// blockID is a base64 id of fixed width: all block ids of one blob must have the same length.
func blockID(n int) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("block-%06d", n)))
}

func body(b []byte) io.ReadSeekCloser {
	return streaming.NopCloser(bytes.NewReader(b))
}

// readAll downloads a blob (or the range in opts) and returns its body with the response.
func readAll(t *testing.T, c *blob.Client, opts *blob.DownloadStreamOptions) ([]byte, blob.DownloadStreamResponse) {
	t.Helper()
	resp, err := c.DownloadStream(ctx(t), opts)
	must(t, err, "download")
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	must(t, err, "read body")
	return data, resp
}

// metaValue looks a metadata name up case-insensitively: names are case-insensitive in Azure and
// Go's HTTP stack canonicalises the x-ms-meta-* header names it hands to the SDK.
func metaValue(m map[string]*string, name string) string {
	for k, v := range m {
		if strings.EqualFold(k, name) && v != nil {
			return *v
		}
	}
	return ""
}

// containerName is the name in a container client's URL.
func containerName(t *testing.T, c *container.Client) string {
	t.Helper()
	parts, err := blob.ParseURL(c.URL())
	must(t, err, "parse container URL")
	return parts.ContainerName
}

func ptr[T any](v T) *T { return &v }
