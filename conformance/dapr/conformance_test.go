package dapr

import (
	"testing"

	"github.com/dapr/components-contrib/state"
	blobv1 "github.com/dapr/components-contrib/state/azure/blobstorage/v1"
	blobv2 "github.com/dapr/components-contrib/state/azure/blobstorage/v2"
	"github.com/dapr/components-contrib/state/azure/tablestorage"
	confstate "github.com/dapr/components-contrib/tests/conformance/state"
	"github.com/dapr/kit/logger"
)

// The operations and config are those of Dapr's CI (components-contrib tests/config/state/tests.yml)
// for azure.blobstorage.v1, azure.blobstorage.v2 and azure.tablestorage.storage.
var daprCIOperations = []string{"etag", "first-write"}

// tableBadEtag is the badEtag Dapr's CI gives the table store: a well-formed ETag that matches nothing.
const tableBadEtag = `W/"datetime'2023-05-09T12%3A28%3A54.1442151Z'"`

// blobProps is the metadata of Dapr's CI component (accountName, accountKey, containerName) plus the
// endpoint that points the component at the server under test.
func blobProps(container string) map[string]string {
	return map[string]string{
		"accountName":   accountName,
		"accountKey":    accountKey,
		"containerName": container,
		"endpoint":      target.blobURL,
	}
}

func runSuite(t *testing.T, component string, store state.Store, props map[string]string, config map[string]any) {
	cfg, err := confstate.NewTestConfig(component, daprCIOperations, config)
	if err != nil {
		t.Fatalf("NewTestConfig(%s): %v", component, err)
	}
	confstate.ConformanceTests(t, props, store, cfg)
}

func TestStateAzureBlobStorageV1(t *testing.T) {
	store := blobv1.NewAzureBlobStorageStore(logger.NewLogger("dapr-conformance-blob-v1"))
	runSuite(t, "azure.blobstorage.v1", store, blobProps("statestore-conf-v1"), nil)
}

func TestStateAzureBlobStorageV2(t *testing.T) {
	store := blobv2.NewAzureBlobStorageStore(logger.NewLogger("dapr-conformance-blob-v2"))
	runSuite(t, "azure.blobstorage.v2", store, blobProps("statestore-conf-v2"), nil)
}

func TestStateAzureTableStorage(t *testing.T) {
	store := tablestorage.NewAzureTablesStateStore(logger.NewLogger("dapr-conformance-table"))
	props := map[string]string{
		"accountName": accountName,
		"accountKey":  accountKey,
		"tableName":   "TestTable",
		"serviceURL":  target.serviceURL(),
	}
	runSuite(t, "azure.tablestorage.storage", store, props, map[string]any{"badEtag": tableBadEtag})
}
