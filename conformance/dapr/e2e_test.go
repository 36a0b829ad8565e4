package dapr

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
)

// TestDaprdStateAPI drives a real daprd's HTTP state API over both Components of deploy/dapr, and reads
// what it wrote back through the Azure SDK.
func TestDaprdStateAPI(t *testing.T) {
	base := startDaprd(t, func(dir, secretsFile string) { stateResources(t, dir, secretsFile) }, 0)
	t.Run("blob", func(t *testing.T) {
		c := &daprClient{t: t, base: base, store: "statestore"}
		stateAPIScenario(t, c, blobCreateLoser, func(key string) []byte { return blobValue(t, "dapr-state", appID+"||"+key) })
	})
	t.Run("table", func(t *testing.T) {
		c := &daprClient{t: t, base: base, store: "tablestatestore"}
		// The table store splits "<appID>||<key>" into PartitionKey and RowKey.
		stateAPIScenario(t, c, isConflict, func(key string) []byte { return entityValue(t, "daprstate", appID, key) })
	})
}

func randomSuffix(t *testing.T) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}

// stateAPIScenario: save without and with ETag, first-write under concurrency, get, bulk get, delete.
// createLoser recognises the answer to a first-write creation that lost the race; stored reads the
// raw value of a key straight from storage, bypassing Dapr.
func stateAPIScenario(t *testing.T, c *daprClient, createLoser func(daprResponse) bool, stored func(key string) []byte) {
	suffix := randomSuffix(t)
	k1, k2, k3 := "order-"+suffix, "first-"+suffix, "absent-"+suffix

	// Save without an ETag (last-write-wins), read back.
	assertStatus(t, "save k1", c.save(stateItem{Key: k1, Value: map[string]any{"greeting": "hello", "n": 1}}), 204)
	got := c.get(k1)
	assertStatus(t, "get k1", got, 200)
	assertJSON(t, "get k1", got.body, `{"greeting":"hello","n":1}`)
	if got.etag == "" {
		t.Fatal("get k1: no ETag header")
	}
	assertJSON(t, "k1 as stored in Lapis (via the Azure SDK)", stored(k1), `{"greeting":"hello","n":1}`)

	// Save with the current ETag succeeds and changes it; the old ETag is then refused.
	firstETag := got.etag
	assertStatus(t, "save k1 with its ETag",
		c.save(stateItem{Key: k1, Value: map[string]any{"greeting": "again", "n": 2}, ETag: firstETag}), 204)
	got = c.get(k1)
	assertJSON(t, "get k1 after update", got.body, `{"greeting":"again","n":2}`)
	if got.etag == "" || got.etag == firstETag {
		t.Fatalf("ETag after update = %q, want a new one (was %q)", got.etag, firstETag)
	}
	assertStatus(t, "save k1 with a stale ETag",
		c.save(stateItem{Key: k1, Value: "lost", ETag: firstETag}), 409)
	assertJSON(t, "k1 as stored after the refused write", stored(k1), `{"greeting":"again","n":2}`)

	// first-write: of concurrent creations of one new key, exactly one wins.
	wins := concurrentSaves(t, c, 6, createLoser, func(i int) stateItem {
		return stateItem{Key: k2, Value: map[string]any{"writer": i}, Options: map[string]string{"concurrency": "first-write"}}
	})
	if wins != 1 {
		t.Fatalf("first-write creations of %s: %d succeeded, want exactly 1", k2, wins)
	}
	// first-write with an ETag: of concurrent updates carrying the same ETag, exactly one wins.
	current := c.get(k2)
	assertStatus(t, "get k2", current, 200)
	wins = concurrentSaves(t, c, 6, isConflict, func(i int) stateItem {
		return stateItem{Key: k2, Value: map[string]any{"updater": i}, ETag: current.etag,
			Options: map[string]string{"concurrency": "first-write"}}
	})
	if wins != 1 {
		t.Fatalf("first-write updates of %s with one ETag: %d succeeded, want exactly 1", k2, wins)
	}

	// Bulk get: both keys found with their ETags, the absent one without data.
	bulk := c.do(http.MethodPost, "/bulk", map[string]any{"keys": []string{k1, k2, k3}, "parallelism": 3}, nil)
	assertStatus(t, "bulk get", bulk, 200)
	var items []struct {
		Key  string          `json:"key"`
		Data json.RawMessage `json:"data"`
		ETag string          `json:"etag"`
	}
	if err := json.Unmarshal(bulk.body, &items); err != nil {
		t.Fatalf("bulk get body %s: %v", bulk.body, err)
	}
	byKey := map[string]int{}
	for i, it := range items {
		byKey[it.Key] = i
	}
	if len(items) != 3 {
		t.Fatalf("bulk get returned %d items, want 3: %s", len(items), bulk.body)
	}
	assertJSON(t, "bulk k1", items[byKey[k1]].Data, `{"greeting":"again","n":2}`)
	if items[byKey[k2]].ETag == "" || len(items[byKey[k2]].Data) == 0 {
		t.Fatalf("bulk k2: want data and an ETag, got %s", bulk.body)
	}
	if it := items[byKey[k3]]; len(it.Data) != 0 || it.ETag != "" {
		t.Fatalf("bulk %s (never saved): want no data and no ETag, got %s", k3, bulk.body)
	}

	// Delete: a stale ETag is refused, the current one deletes, then the key reads as absent.
	assertStatus(t, "delete k1 with a stale ETag", c.do(http.MethodDelete, "/"+k1, nil, map[string]string{"If-Match": firstETag}), 409)
	assertStatus(t, "delete k1 with its ETag", c.do(http.MethodDelete, "/"+k1, nil, map[string]string{"If-Match": got.etag}), 204)
	assertStatus(t, "get deleted k1", c.get(k1), 204)
	assertStatus(t, "delete k2 without ETag", c.do(http.MethodDelete, "/"+k2, nil, nil), 204)
	assertStatus(t, "get deleted k2", c.get(k2), 204)
}

// isConflict: Dapr's answer when the store reports an ETag mismatch.
func isConflict(r daprResponse) bool { return r.status == http.StatusConflict }

// blobCreateLoser: the blob store reports a lost first-write creation (no ETag sent, so
// If-None-Match: *) as a plain error, not an ETag mismatch, so daprd answers 500 ERR_STATE_SAVE
// carrying the storage's refusal: 409 BlobAlreadyExists, what Azure answers to
// If-None-Match: * on an existing blob.
func blobCreateLoser(r daprResponse) bool {
	return r.status == http.StatusInternalServerError && bytes.Contains(r.body, []byte("ERR_STATE_SAVE")) &&
		bytes.Contains(r.body, []byte("BlobAlreadyExists"))
}

// concurrentSaves sends n saves at once and counts the 204s; every other answer must satisfy lost.
func concurrentSaves(t *testing.T, c *daprClient, n int, lost func(daprResponse) bool, item func(i int) stateItem) int {
	t.Helper()
	statuses := make([]daprResponse, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			statuses[i], errs[i] = c.send(http.MethodPost, "", []stateItem{item(i)}, nil)
		}()
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	wins := 0
	for _, r := range statuses {
		switch {
		case r.status == http.StatusNoContent:
			wins++
		case lost(r):
		default:
			t.Errorf("concurrent save: status %d, neither a success nor a lost race: %s", r.status, r.body)
		}
	}
	return wins
}

func assertStatus(t *testing.T, what string, r daprResponse, want int) {
	t.Helper()
	if r.status != want {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, want, r.body)
	}
}

func assertJSON(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: not JSON: %q", what, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatal(err)
	}
	gotNorm, _ := json.Marshal(g)
	wantNorm, _ := json.Marshal(w)
	if string(gotNorm) != string(wantNorm) {
		t.Fatalf("%s: got %s, want %s", what, gotNorm, wantNorm)
	}
}

func sdkContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// blobValue downloads a blob with the Azure SDK for Go (Shared Key).
func blobValue(t *testing.T, container, name string) []byte {
	t.Helper()
	cred, err := azblob.NewSharedKeyCredential(accountName, accountKey)
	if err != nil {
		t.Fatal(err)
	}
	client, err := azblob.NewClientWithSharedKeyCredential(target.blobURL+"/"+accountName, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.DownloadStream(sdkContext(t), container, name, nil)
	if err != nil {
		t.Fatalf("azblob download %s/%s: %v", container, name, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// entityValue reads the "Value" property of an entity with aztables.
func entityValue(t *testing.T, table, partitionKey, rowKey string) []byte {
	t.Helper()
	cred, err := aztables.NewSharedKeyCredential(accountName, accountKey)
	if err != nil {
		t.Fatal(err)
	}
	client, err := aztables.NewClientWithSharedKey(target.serviceURL()+"/"+table, cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.GetEntity(sdkContext(t), partitionKey, rowKey, nil)
	if err != nil {
		t.Fatalf("aztables get (%q, %q): %v", partitionKey, rowKey, err)
	}
	var entity struct {
		PartitionKey string
		RowKey       string
		Value        string
	}
	if err := json.Unmarshal(resp.Value, &entity); err != nil {
		t.Fatalf("entity %s: %v", resp.Value, err)
	}
	if entity.PartitionKey != partitionKey || entity.RowKey != rowKey {
		t.Fatalf("entity keys (%q, %q), want (%q, %q)", entity.PartitionKey, entity.RowKey, partitionKey, rowKey)
	}
	return []byte(entity.Value)
}
