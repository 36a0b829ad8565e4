package conformance

// Customer-provided keys through azblob: content written under a key is read back only with it
// (409 BlobUsesCustomerSpecifiedEncryption without, BlobCustomerSpecifiedEncryptionMismatch with
// another), through Put Blob and through staged blocks. Lapis accepts keys over plain http.

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
)

func cpk(key []byte) *blob.CPKInfo {
	sum := sha256.Sum256(key)
	alg := blob.EncryptionAlgorithmTypeAES256
	return &blob.CPKInfo{
		EncryptionKey:       ptr(base64.StdEncoding.EncodeToString(key)),
		EncryptionKeySHA256: ptr(base64.StdEncoding.EncodeToString(sum[:])),
		EncryptionAlgorithm: &alg,
	}
}

func TestCustomerProvidedKeys(t *testing.T) {
	c := newContainer(t, "go-cpk")
	key := bytes.Repeat([]byte("k"), 32)
	other := bytes.Repeat([]byte("o"), 32)

	bb := c.NewBlockBlobClient("put")
	data := payload(300_000, 3)
	put, err := bb.Upload(ctx(t), body(data), &blockblob.UploadOptions{CPKInfo: cpk(key)})
	must(t, err, "upload with a key")
	if put.EncryptionKeySHA256 == nil || *put.EncryptionKeySHA256 != *cpk(key).EncryptionKeySHA256 {
		t.Fatalf("key hash %v", put.EncryptionKeySHA256)
	}
	got, _ := readAll(t, bb.BlobClient(), &blob.DownloadStreamOptions{CPKInfo: cpk(key)})
	if !bytes.Equal(got, data) {
		t.Fatal("content read with the key differs")
	}
	_, err = bb.DownloadStream(ctx(t), nil)
	expectError(t, err, 409, "BlobUsesCustomerSpecifiedEncryption")
	_, err = bb.DownloadStream(ctx(t), &blob.DownloadStreamOptions{CPKInfo: cpk(other)})
	expectError(t, err, 409, "BlobCustomerSpecifiedEncryptionMismatch")

	staged := c.NewBlockBlobClient("staged")
	parts := [][]byte{payload(1000, 1), payload(2000, 2)}
	for i, p := range parts {
		_, err := staged.StageBlock(ctx(t), blockID(i), body(p), &blockblob.StageBlockOptions{CPKInfo: cpk(key)})
		must(t, err, "stage a block with a key")
	}
	_, err = staged.CommitBlockList(ctx(t), []string{blockID(0), blockID(1)}, &blockblob.CommitBlockListOptions{CPKInfo: cpk(key)})
	must(t, err, "commit with the key")
	got, _ = readAll(t, staged.BlobClient(), &blob.DownloadStreamOptions{CPKInfo: cpk(key)})
	if !bytes.Equal(got, append(append([]byte{}, parts[0]...), parts[1]...)) {
		t.Fatal("committed content differs")
	}
	_, err = staged.GetProperties(ctx(t), nil)
	expectError(t, err, 409, "BlobUsesCustomerSpecifiedEncryption")
	props, err := staged.GetProperties(ctx(t), &blob.GetPropertiesOptions{CPKInfo: cpk(key)})
	must(t, err, "properties with the key")
	if props.EncryptionKeySHA256 == nil {
		t.Fatal("no key hash in the properties")
	}
}
