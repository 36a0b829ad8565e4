package dapr

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// appID is the daprd app id; Dapr prefixes every state key with "<appID>||".
const appID = "lapis-e2e"

// daprdBinary finds the daprd that build-daprd.sh caches, or DAPRD_BIN.
func daprdBinary() string {
	if bin := os.Getenv("DAPRD_BIN"); bin != "" {
		return bin
	}
	version := os.Getenv("DAPR_VERSION")
	if version == "" {
		version = "v1.18.0"
	}
	cache := os.Getenv("LAPIS_DAPRD_CACHE")
	if cache == "" {
		base, err := os.UserCacheDir()
		if err != nil {
			return filepath.Join(repoRoot(), ".cache/daprd", version, "daprd")
		}
		cache = filepath.Join(base, "lapis", "daprd")
	}
	return filepath.Join(cache, version, "daprd")
}

// stateResources copies the Components that deploy/dapr ships, changing only what a standalone daprd on
// loopback needs: the in-cluster hosts become the test's ports, and the accountKey secretKeyRef is
// resolved through a local file secret store (standalone daprd has no Kubernetes secret store).
func stateResources(t *testing.T, dir, secretsFile string) {
	t.Helper()
	replacer := strings.NewReplacer(
		"http://lapis.default.svc:10000", target.blobURL,
		"http://lapis.default.svc:10002", target.tabURL,
	)
	for _, name := range []string{"statestore-blob.yaml", "statestore-table.yaml"} {
		raw, err := os.ReadFile(filepath.Join(repoRoot(), "deploy/dapr", name))
		if err != nil {
			t.Fatal(err)
		}
		text := replacer.Replace(string(raw))
		if strings.Contains(text, "lapis.default.svc") {
			t.Fatalf("%s: an endpoint was not substituted:\n%s", name, text)
		}
		text += "auth:\n  secretStore: lapis-secrets\n"
		writeFile(t, filepath.Join(dir, name), text)
	}
	secretStore(t, dir, secretsFile)
}

// secretStore writes the secret `lapis-storage` (key accountKey) into secretsFile and a
// secretstores.local.file Component `lapis-secrets` serving it into dir, for the Components'
// secretKeyRef.
func secretStore(t *testing.T, dir, secretsFile string) {
	t.Helper()
	secrets, err := json.Marshal(map[string]map[string]string{"lapis-storage": {"accountKey": accountKey}})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, secretsFile, string(secrets))
	writeFile(t, filepath.Join(dir, "secretstore.yaml"), fmt.Sprintf(`apiVersion: dapr.io/v1alpha1
kind: Component
metadata:
  name: lapis-secrets
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - name: secretsFile
    value: %s
  - name: multiValued
    value: "true"
`, secretsFile))
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
}

// startDaprd runs daprd in standalone mode (no placement or scheduler) and returns its HTTP API URL.
// resources writes the Components into the resources folder (its first argument; the second is a
// path outside it for the secrets file). appPort is the port of the app on 127.0.0.1, 0 for none.
func startDaprd(t *testing.T, resources func(dir, secretsFile string), appPort int) string {
	t.Helper()
	bin := daprdBinary()
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("daprd not found at %s (%v): build it with conformance/dapr/build-daprd.sh, "+
			"or run conformance/dapr/run.sh with LAPIS_BUILD_DAPRD=1; set DAPRD_BIN to use another", bin, err)
	}
	dir := t.TempDir()
	resourcesDir := filepath.Join(dir, "resources")
	if err := os.Mkdir(resourcesDir, 0o700); err != nil {
		t.Fatal(err)
	}
	// The secrets file lives outside the resources folder: daprd reads every file there as a resource.
	resources(resourcesDir, filepath.Join(dir, "secrets.json"))

	ports := make([]int, 4)
	for i := range ports {
		p, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		ports[i] = p
	}
	logPath := filepath.Join(dir, "daprd.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"--mode", "standalone", "--app-id", appID, "--resources-path", resourcesDir,
		"--dapr-listen-addresses", "127.0.0.1",
		"--dapr-http-port", fmt.Sprint(ports[0]), "--dapr-grpc-port", fmt.Sprint(ports[1]),
		"--dapr-internal-grpc-port", fmt.Sprint(ports[2]), "--dapr-internal-grpc-listen-address", "127.0.0.1", "--metrics-port", fmt.Sprint(ports[3]),
		"--enable-metrics=false", "--log-level", "info"}
	if appPort != 0 {
		args = append(args, "--app-port", fmt.Sprint(appPort), "--app-protocol", "http",
			"--app-channel-address", "127.0.0.1")
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		_ = logFile.Close()
		if t.Failed() {
			if log, err := os.ReadFile(logPath); err == nil {
				t.Logf("daprd log:\n%s", log)
			}
		}
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", ports[0])
	// /v1.0/healthz answers 204 once every component has initialised.
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get(base + "/v1.0/healthz")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return base
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("daprd not healthy after 60s (last: %v)", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// daprClient speaks Dapr's HTTP state API for one store.
type daprClient struct {
	t     *testing.T
	base  string
	store string
}

type daprResponse struct {
	status int
	etag   string
	body   []byte
}

func (c *daprClient) do(method, path string, body any, header map[string]string) daprResponse {
	c.t.Helper()
	r, err := c.send(method, path, body, header)
	if err != nil {
		c.t.Fatal(err)
	}
	return r
}

// send is do without t.Fatal, for goroutines other than the test's.
func (c *daprClient) send(method, path string, body any, header map[string]string) (daprResponse, error) {
	var reader io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return daprResponse{}, err
		}
		reader = bytes.NewReader(raw)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/v1.0/state/"+c.store+path, reader)
	if err != nil {
		return daprResponse{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return daprResponse{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return daprResponse{}, err
	}
	return daprResponse{status: resp.StatusCode, etag: resp.Header.Get("ETag"), body: raw}, nil
}

// stateItem is one element of a save request.
type stateItem struct {
	Key     string            `json:"key"`
	Value   any               `json:"value"`
	ETag    string            `json:"etag,omitempty"`
	Options map[string]string `json:"options,omitempty"`
}

func (c *daprClient) save(items ...stateItem) daprResponse {
	c.t.Helper()
	return c.do(http.MethodPost, "", items, nil)
}

func (c *daprClient) get(key string) daprResponse {
	c.t.Helper()
	return c.do(http.MethodGet, "/"+key, nil, nil)
}
