package conformance

// Static website hosting through the Go SDK: the StaticWebsite service properties, the $web
// container, and the web endpoint (LAPIS_WEB_ENDPOINT, Lapis's --webPort; Azure's
// <account>.z13.web.core.windows.net) serving it anonymously, fetched as a browser would.
// Azurite has no static website endpoint: without LAPIS_WEB_ENDPOINT the test skips.

import (
	"context"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
)

func fetch(t *testing.T, method, url string, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestStaticWebsite(t *testing.T) {
	endpoint := strings.TrimRight(os.Getenv("LAPIS_WEB_ENDPOINT"), "/")
	if endpoint == "" {
		t.Skip("LAPIS_WEB_ENDPOINT is not set (Azurite has no web endpoint)")
	}
	site := endpoint + "/" + accountName

	// The settings are account-wide: what was there before is put back afterwards.
	before, err := svc.GetProperties(ctx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		saved := before.StaticWebsite
		if saved == nil {
			saved = &service.StaticWebsite{Enabled: to.Ptr(false)}
		}
		if _, err := svc.SetProperties(context.Background(), &service.SetPropertiesOptions{StaticWebsite: saved}); err != nil {
			t.Errorf("cleanup: restore the static website settings: %v", err)
		}
	})
	_, err = svc.SetProperties(ctx(t), &service.SetPropertiesOptions{StaticWebsite: &service.StaticWebsite{
		Enabled: to.Ptr(true), IndexDocument: to.Ptr("index.html"), ErrorDocument404Path: to.Ptr("404.html"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.GetProperties(ctx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if sw := got.StaticWebsite; sw == nil || !*sw.Enabled || *sw.IndexDocument != "index.html" || *sw.ErrorDocument404Path != "404.html" {
		t.Fatalf("static website settings not kept: %+v", got.StaticWebsite)
	}

	web := svc.NewContainerClient("$web")
	if _, err := web.Create(ctx(t), nil); err != nil && !hasStatus(err, 409) {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = web.Delete(context.Background(), nil) })
	html := &blob.HTTPHeaders{BlobContentType: to.Ptr("text/html; charset=utf-8"), BlobCacheControl: to.Ptr("max-age=60")}
	for name, content := range map[string]string{
		"index.html": "<h1>go home</h1>", "404.html": "<h1>go missing</h1>", "api/index.html": "<h1>go api</h1>",
	} {
		if _, err := web.NewBlockBlobClient(name).Upload(ctx(t), body([]byte(content)),
			&blockblob.UploadOptions{HTTPHeaders: html}); err != nil {
			t.Fatal(err)
		}
	}

	for path, want := range map[string]string{"/": "<h1>go home</h1>", "/api/": "<h1>go api</h1>", "/api": "<h1>go api</h1>"} {
		resp, text := fetch(t, "GET", site+path, nil)
		if resp.StatusCode != 200 || text != want {
			t.Fatalf("GET %s: %d %q, want 200 %q", path, resp.StatusCode, text, want)
		}
		if resp.Header.Get("Content-Type") != "text/html; charset=utf-8" || resp.Header.Get("Cache-Control") != "max-age=60" {
			t.Fatalf("GET %s: headers %v", path, resp.Header)
		}
	}
	resp, text := fetch(t, "GET", site+"/missing.html", nil)
	if resp.StatusCode != 404 || text != "<h1>go missing</h1>" {
		t.Fatalf("missing page: %d %q, want the 404 document with 404", resp.StatusCode, text)
	}
	resp, text = fetch(t, "GET", site+"/index.html", map[string]string{"Range": "bytes=4-5"})
	if resp.StatusCode != 206 || text != "go" || resp.Header.Get("Content-Range") != "bytes 4-5/16" {
		t.Fatalf("range: %d %q %q", resp.StatusCode, text, resp.Header.Get("Content-Range"))
	}
	resp, _ = fetch(t, "HEAD", site+"/index.html", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Length") != "16" {
		t.Fatalf("HEAD: %d, Content-Length %q", resp.StatusCode, resp.Header.Get("Content-Length"))
	}
	resp, _ = fetch(t, "GET", site+"/index.html", map[string]string{"If-None-Match": resp.Header.Get("ETag")})
	if resp.StatusCode != 304 {
		t.Fatalf("If-None-Match with the current ETag: %d, want 304", resp.StatusCode)
	}
	resp, _ = fetch(t, "DELETE", site+"/index.html", nil)
	if resp.StatusCode != 405 {
		t.Fatalf("DELETE through the web endpoint: %d, want 405", resp.StatusCode)
	}
}
