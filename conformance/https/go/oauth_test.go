package https

// OAuth through azblob: bearer tokens minted here (RS256 with crypto/rsa, ES256 with
// crypto/ecdsa) with the private keys run.sh made, handed to the clients as an
// azcore.TokenCredential. Lapis verifies them against the public keys and issuer of its
// --accountConfig and authorizes by the roles that file gives the made-up object ids run.sh
// passes (LAPIS_OAUTH_*). Then Get User Delegation Key and a user delegation SAS signed with it.
// Azure's answers: a token it cannot trust is 401 InvalidAuthenticationInfo with a Bearer
// challenge; a trusted token whose roles do not allow the operation, or a SAS whose letters do
// not, is 403 AuthorizationPermissionMismatch.

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/sas"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/service"
)

const account = "devstoreaccount1"

// oauthEnv reads what run.sh passes for these tests; without it they fail rather than skip.
func oauthEnv(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv("LAPIS_OAUTH_" + name)
	if v == "" {
		t.Fatalf("LAPIS_OAUTH_%s is not set: run conformance/https/run.sh", name)
	}
	return v
}

func privateKey(t *testing.T, name string) crypto.Signer {
	t.Helper()
	data, err := os.ReadFile(oauthEnv(t, name))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatalf("no PEM in %s", oauthEnv(t, name))
	}
	key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return key.(crypto.Signer)
}

// mintJWT signs a token as Microsoft Entra ID issues for Storage: RS256 for an RSA key, ES256
// (r||s, 32 bytes each) for a P-256 key. overrides replace or add claims.
func mintJWT(t *testing.T, key crypto.Signer, oid string, overrides map[string]any) string {
	t.Helper()
	alg := "RS256"
	if _, ok := key.(*ecdsa.PrivateKey); ok {
		alg = "ES256"
	}
	now := time.Now().Unix()
	claims := map[string]any{
		"aud": "https://storage.azure.com", "iss": oauthEnv(t, "ISSUER"), "iat": now,
		"nbf": now - 60, "exp": now + 3600, "oid": oid, "tid": oauthEnv(t, "TENANT"),
	}
	for k, v := range overrides {
		claims[k] = v
	}
	part := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signed := part(map[string]string{"alg": alg, "typ": "JWT"}) + "." + part(claims)
	digest := sha256.Sum256([]byte(signed))
	var sig []byte
	switch k := key.(type) {
	case *rsa.PrivateKey:
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest[:]); err != nil {
			t.Fatal(err)
		}
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	default:
		t.Fatalf("a %T cannot sign a JWT here", key)
	}
	return signed + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// staticToken is an azcore.TokenCredential handing out one token. Its expiry for the SDK is an
// hour away whatever the token's exp says, so the SDK sends an expired token as it is and Lapis
// has to refuse it.
type staticToken string

func (s staticToken) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	return azcore.AccessToken{Token: string(s), ExpiresOn: time.Now().Add(time.Hour)}, nil
}

// oauthServiceURL is the account's blob endpoint (https://127.0.0.1:<port>/devstoreaccount1) with
// the host devstoreaccount1.localhost: the Go
// SDK takes a user delegation credential's account name from the host's first label, which for
// 127.0.0.1 is "127". oauthOptions dial 127.0.0.1 for it (the certificate names it).
func oauthServiceURL(t *testing.T) string {
	t.Helper()
	m := regexp.MustCompile(`BlobEndpoint=([^;]+)`).FindStringSubmatch(connStr)
	if m == nil {
		t.Fatalf("no BlobEndpoint in %s", connStr)
	}
	u, err := url.Parse(m[1])
	if err != nil {
		t.Fatal(err)
	}
	u.Host = net.JoinHostPort(account+".localhost", u.Port())
	return u.String()
}

func oauthOptions(t *testing.T) azcore.ClientOptions {
	t.Helper()
	pem, err := os.ReadFile(os.Getenv("LAPIS_HTTPS_CA"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	var dialer net.Dialer
	loopback := func(ctx context.Context, network, addr string) (net.Conn, error) {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		return dialer.DialContext(ctx, network, net.JoinHostPort("127.0.0.1", port))
	}
	transport := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, DialContext: loopback}
	return azcore.ClientOptions{Transport: &http.Client{Transport: transport}, Retry: policy.RetryOptions{MaxRetries: -1}}
}

func tokenClient(t *testing.T, key crypto.Signer, oid string, overrides map[string]any) *azblob.Client {
	t.Helper()
	cred := staticToken(mintJWT(t, key, oid, overrides))
	client, err := azblob.NewClient(oauthServiceURL(t), cred, &azblob.ClientOptions{ClientOptions: oauthOptions(t)})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

// oauthContainer makes a container holding a.txt with the Contributor's RS256 token and deletes
// it when the test ends.
func oauthContainer(t *testing.T) string {
	t.Helper()
	contributor := tokenClient(t, privateKey(t, "RSA_KEY"), oauthEnv(t, "CONTRIBUTOR"), nil)
	name := unique("oauth")
	if _, err := contributor.CreateContainer(ctx(t), name, nil); err != nil {
		t.Fatalf("create container over a token: %v", err)
	}
	t.Cleanup(func() { _, _ = contributor.DeleteContainer(context.Background(), name, nil) })
	if _, err := contributor.UploadBuffer(ctx(t), name, "a.txt", []byte("over a token"), nil); err != nil {
		t.Fatalf("upload over a token: %v", err)
	}
	return name
}

func download(t *testing.T, client *azblob.Client, container, blob string) (string, error) {
	t.Helper()
	resp, err := client.DownloadStream(ctx(t), container, blob, nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	return string(got), err
}

func wantResponseError(t *testing.T, err error, status int, code string) *azcore.ResponseError {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("want %d %s, got %v", status, code, err)
	}
	if re.StatusCode != status || re.ErrorCode != code {
		t.Fatalf("want %d %s, got %d %s", status, code, re.StatusCode, re.ErrorCode)
	}
	return re
}

func TestOAuthContributorWritesReadsLists(t *testing.T) {
	name := oauthContainer(t)
	client := tokenClient(t, privateKey(t, "RSA_KEY"), oauthEnv(t, "CONTRIBUTOR"), nil)
	if _, err := client.UploadBuffer(ctx(t), name, "b.txt", []byte("written"), nil); err != nil {
		t.Fatalf("upload: %v", err)
	}
	if got, err := download(t, client, name, "b.txt"); err != nil || got != "written" {
		t.Fatalf("download: %q, %v", got, err)
	}
	var names []string
	pager := client.NewListBlobsFlatPager(name, nil)
	for pager.More() {
		page, err := pager.NextPage(ctx(t))
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, item := range page.Segment.BlobItems {
			names = append(names, *item.Name)
		}
	}
	if strings.Join(names, ",") != "a.txt,b.txt" {
		t.Fatalf("listed %v", names)
	}
}

// The Reader's token is ES256, signed with the P-256 key.
func TestOAuthReaderReadsButCannotWrite(t *testing.T) {
	name := oauthContainer(t)
	reader := tokenClient(t, privateKey(t, "EC_KEY"), oauthEnv(t, "READER"), nil)
	if got, err := download(t, reader, name, "a.txt"); err != nil || got != "over a token" {
		t.Fatalf("download with an ES256 Reader token: %q, %v", got, err)
	}
	_, err := reader.UploadBuffer(ctx(t), name, "r.txt", []byte("x"), nil)
	wantResponseError(t, err, 403, "AuthorizationPermissionMismatch")
}

func TestOAuthIdentityWithoutRoleGetsNothing(t *testing.T) {
	name := oauthContainer(t)
	nobody := tokenClient(t, privateKey(t, "EC_KEY"), oauthEnv(t, "NOBODY"), nil)
	_, err := download(t, nobody, name, "a.txt")
	wantResponseError(t, err, 403, "AuthorizationPermissionMismatch")
}

func TestOAuthUntrustedTokensAre401(t *testing.T) {
	name := oauthContainer(t)
	stranger, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	strangerEC, err := ecdsa.GenerateKey(privateKey(t, "EC_KEY").(*ecdsa.PrivateKey).Curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().Unix()
	rsaKey := privateKey(t, "RSA_KEY")
	for what, c := range map[string]struct {
		key       crypto.Signer
		overrides map[string]any
	}{
		"signed by an RSA key Lapis does not know":  {stranger, nil},
		"signed by a P-256 key Lapis does not know": {strangerEC, nil},
		"expired":                   {rsaKey, map[string]any{"nbf": now - 7200, "exp": now - 3600}},
		"for another audience":      {rsaKey, map[string]any{"aud": "https://management.azure.com/"}},
		"from an issuer not listed": {rsaKey, map[string]any{"iss": "https://sts.windows.net/another-tenant/"}},
	} {
		t.Run(what, func(t *testing.T) {
			client := tokenClient(t, c.key, oauthEnv(t, "CONTRIBUTOR"), c.overrides)
			_, err := client.ServiceClient().NewContainerClient(name).GetProperties(ctx(t), nil)
			re := wantResponseError(t, err, 401, "InvalidAuthenticationInfo")
			challenge := re.RawResponse.Header.Get("WWW-Authenticate")
			if !strings.HasPrefix(challenge, "Bearer authorization_uri=https://login.microsoftonline.com/") ||
				!strings.Contains(challenge, "resource_id=https://storage.azure.com") {
				t.Fatalf("WWW-Authenticate: %q", challenge)
			}
		})
	}
}

// delegatedBlob signs a user delegation SAS for container/blob with these permissions, with a
// key Get User Delegation Key gives the object id of this token, and returns a client that
// holds nothing but the SAS.
func delegatedBlob(t *testing.T, key crypto.Signer, oid, container, blob string, perms sas.BlobPermissions) *blockblob.Client {
	t.Helper()
	svc, err := service.NewClient(oauthServiceURL(t), staticToken(mintJWT(t, key, oid, nil)),
		&service.ClientOptions{ClientOptions: oauthOptions(t)})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now().UTC().Add(-5 * time.Minute)
	udc, err := svc.GetUserDelegationCredential(ctx(t), service.KeyInfo{
		Start:  to.Ptr(start.Format(sas.TimeFormat)),
		Expiry: to.Ptr(start.Add(time.Hour).Format(sas.TimeFormat)),
	}, nil)
	if err != nil {
		t.Fatalf("get user delegation key: %v", err)
	}
	params, err := sas.BlobSignatureValues{
		Protocol:      sas.ProtocolHTTPS,
		StartTime:     start,
		ExpiryTime:    start.Add(30 * time.Minute),
		Permissions:   perms.String(),
		ContainerName: container,
		BlobName:      blob,
	}.SignWithUserDelegation(udc)
	if err != nil {
		t.Fatal(err)
	}
	if params.SignedOID() != oid || params.SignedTID() != oauthEnv(t, "TENANT") {
		t.Fatalf("the SAS names skoid %q, sktid %q", params.SignedOID(), params.SignedTID())
	}
	client, err := blockblob.NewClientWithNoCredential(
		oauthServiceURL(t)+"/"+container+"/"+blob+"?"+params.Encode(),
		&blockblob.ClientOptions{ClientOptions: oauthOptions(t)})
	if err != nil {
		t.Fatal(err)
	}
	return client
}

func TestOAuthUserDelegationSASReads(t *testing.T) {
	name := oauthContainer(t)
	blob := delegatedBlob(t, privateKey(t, "EC_KEY"), oauthEnv(t, "READER"), name, "a.txt", sas.BlobPermissions{Read: true})
	resp, err := blob.DownloadStream(ctx(t), nil)
	if err != nil {
		t.Fatalf("download over a user delegation SAS: %v", err)
	}
	defer resp.Body.Close()
	if got, _ := io.ReadAll(resp.Body); string(got) != "over a token" {
		t.Fatalf("downloaded %q", got)
	}
}

func TestOAuthUserDelegationSASGrantsOnlyItsLetters(t *testing.T) {
	name := oauthContainer(t)
	contributor, oid := privateKey(t, "RSA_KEY"), oauthEnv(t, "CONTRIBUTOR")
	readOnly := delegatedBlob(t, contributor, oid, name, "c.txt", sas.BlobPermissions{Read: true})
	_, err := readOnly.UploadBuffer(ctx(t), []byte("x"), nil)
	wantResponseError(t, err, 403, "AuthorizationPermissionMismatch")
	// The same key with c and w may write: the refusal above is the letters', not the key's.
	writer := delegatedBlob(t, contributor, oid, name, "c.txt", sas.BlobPermissions{Create: true, Write: true})
	if _, err := writer.UploadBuffer(ctx(t), []byte("delegated write"), nil); err != nil {
		t.Fatalf("upload over a user delegation SAS with cw: %v", err)
	}
}

// The key's object id is a Reader: a SAS that says w still cannot write.
func TestOAuthUserDelegationSASBoundedByTheKeysRoles(t *testing.T) {
	name := oauthContainer(t)
	blob := delegatedBlob(t, privateKey(t, "EC_KEY"), oauthEnv(t, "READER"), name, "d.txt",
		sas.BlobPermissions{Read: true, Create: true, Write: true})
	_, err := blob.UploadBuffer(ctx(t), []byte("x"), nil)
	wantResponseError(t, err, 403, "AuthorizationPermissionMismatch")
}
