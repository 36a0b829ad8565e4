package conformance

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

// tableService is a Shared Key client for LAPIS_TABLE_ENDPOINT; a run without it fails, never skips.
func tableService(t *testing.T) *aztables.ServiceClient {
	t.Helper()
	raw := os.Getenv("LAPIS_TABLE_ENDPOINT")
	if raw == "" {
		t.Fatal("LAPIS_TABLE_ENDPOINT is not set. Point it at the Table endpoint under test, " +
			"e.g. LAPIS_TABLE_ENDPOINT=http://127.0.0.1:10002/devstoreaccount1")
	}
	connStr := fmt.Sprintf("DefaultEndpointsProtocol=http;AccountName=%s;AccountKey=%s;TableEndpoint=%s;",
		accountName, accountKey, strings.TrimRight(raw, "/"))
	svc, err := aztables.NewServiceClientFromConnectionString(connStr,
		&aztables.ClientOptions{ClientOptions: clientOptions()})
	must(t, err, "table client from connection string")
	return svc
}

// newTable creates a fresh table that is deleted when the test ends.
func newTable(t *testing.T) *aztables.Client {
	t.Helper()
	svc := tableService(t)
	name := strings.ReplaceAll(uniqueName("go"), "-", "")
	if len(name) > 40 {
		name = name[:40]
	}
	_, err := svc.CreateTable(ctx(t), name, nil)
	must(t, err, "create table")
	t.Cleanup(func() {
		if _, err := svc.DeleteTable(ctx(t), name, nil); err != nil {
			t.Errorf("cleanup: delete table: %v", err)
		}
	})
	return svc.NewClient(name)
}

func entityJSON(t *testing.T, e map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(e)
	must(t, err, "marshal entity")
	return b
}

func getEntity(t *testing.T, c *aztables.Client, pk, rk string) map[string]any {
	t.Helper()
	resp, err := c.GetEntity(ctx(t), pk, rk, nil)
	must(t, err, "get entity")
	var out map[string]any
	must(t, json.Unmarshal(resp.Value, &out), "decode entity")
	return out
}

// tableErrorCode checks the status and returns the Azure code (azcore reads odata.error.code from the body).
func tableErrorCode(t *testing.T, err error, status int) string {
	t.Helper()
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("expected an Azure response error %d, got %v", status, err)
	}
	if re.StatusCode != status {
		t.Fatalf("status: got %d, want %d (%v)", re.StatusCode, status, err)
	}
	return re.ErrorCode
}

func TestTableUpsertMergeRoundTrip(t *testing.T) {
	c := newTable(t)
	merge := &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeMerge}
	replace := &aztables.UpsertEntityOptions{UpdateMode: aztables.UpdateModeReplace}
	_, err := c.UpsertEntity(ctx(t), entityJSON(t, map[string]any{"PartitionKey": "p", "RowKey": "r", "A": "a"}), replace)
	must(t, err, "upsert replace (insert)")
	_, err = c.UpsertEntity(ctx(t), entityJSON(t, map[string]any{
		"PartitionKey": "p", "RowKey": "r", "Big": "123456789012", "Big@odata.type": "Edm.Int64",
		"When": "2020-05-06T07:08:09.1234567Z", "When@odata.type": "Edm.DateTime", "N": 7, "F": 0.5, "B": true,
	}), merge)
	must(t, err, "upsert merge")
	got := getEntity(t, c, "p", "r")
	if got["A"] != "a" || got["Big"] != "123456789012" || got["Big@odata.type"] != "Edm.Int64" {
		t.Fatalf("merged entity: %v", got)
	}
	if got["When"] != "2020-05-06T07:08:09.1234567Z" || got["N"] != float64(7) || got["F"] != 0.5 || got["B"] != true {
		t.Fatalf("typed values: %v", got)
	}
	_, err = c.UpsertEntity(ctx(t), entityJSON(t, map[string]any{"PartitionKey": "p", "RowKey": "r", "C": "c"}), replace)
	must(t, err, "upsert replace")
	got = getEntity(t, c, "p", "r")
	if _, ok := got["A"]; ok || got["C"] != "c" {
		t.Fatalf("replace kept old properties: %v", got)
	}
}

func TestTableUpdateConditions(t *testing.T) {
	c := newTable(t)
	_, err := c.UpdateEntity(ctx(t), entityJSON(t, map[string]any{"PartitionKey": "p", "RowKey": "none", "X": 1}),
		&aztables.UpdateEntityOptions{UpdateMode: aztables.UpdateModeMerge})
	if code := tableErrorCode(t, err, 404); code != "ResourceNotFound" {
		t.Fatalf("merge of a missing entity: code %q, want ResourceNotFound", code)
	}
	added, err := c.AddEntity(ctx(t), entityJSON(t, map[string]any{"PartitionKey": "p", "RowKey": "r", "V": 1}), nil)
	must(t, err, "add")
	stale := added.ETag
	_, err = c.UpdateEntity(ctx(t), entityJSON(t, map[string]any{"PartitionKey": "p", "RowKey": "r", "V": 2}),
		&aztables.UpdateEntityOptions{UpdateMode: aztables.UpdateModeMerge, IfMatch: &stale})
	must(t, err, "update with current etag")
	_, err = c.UpdateEntity(ctx(t), entityJSON(t, map[string]any{"PartitionKey": "p", "RowKey": "r", "V": 3}),
		&aztables.UpdateEntityOptions{UpdateMode: aztables.UpdateModeReplace, IfMatch: &stale})
	if code := tableErrorCode(t, err, 412); code != "UpdateConditionNotSatisfied" {
		t.Fatalf("stale etag: code %q", code)
	}
	if v := getEntity(t, c, "p", "r")["V"]; v != float64(2) {
		t.Fatalf("V = %v after a refused update, want 2", v)
	}
}

func TestTableQueryFilterSelectPaging(t *testing.T) {
	c := newTable(t)
	var actions []aztables.TransactionAction
	for i := 0; i < 30; i++ {
		actions = append(actions, aztables.TransactionAction{ActionType: aztables.TransactionTypeAdd,
			Entity: entityJSON(t, map[string]any{"PartitionKey": "p", "RowKey": fmt.Sprintf("%03d", i), "N": i,
				"Big": fmt.Sprint(10_000_000_000 + i), "Big@odata.type": "Edm.Int64"})})
	}
	_, err := c.SubmitTransaction(ctx(t), actions, nil)
	must(t, err, "batch insert")

	filter, sel := "N ge 10 and N lt 20 and Big ne 10000000015L", "N"
	var ns []float64
	pager := c.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &filter, Select: &sel})
	for pager.More() {
		page, err := pager.NextPage(ctx(t))
		must(t, err, "query page")
		for _, raw := range page.Entities {
			var e map[string]any
			must(t, json.Unmarshal(raw, &e), "decode")
			if _, ok := e["Big"]; ok {
				t.Fatalf("$select=N returned Big: %v", e)
			}
			ns = append(ns, e["N"].(float64))
		}
	}
	if fmt.Sprint(ns) != "[10 11 12 13 14 16 17 18 19]" {
		t.Fatalf("filtered N = %v", ns)
	}

	top := int32(7)
	var sizes []int
	seen := map[string]bool{}
	pager = c.NewListEntitiesPager(&aztables.ListEntitiesOptions{Top: &top})
	for pager.More() {
		page, err := pager.NextPage(ctx(t))
		must(t, err, "page")
		sizes = append(sizes, len(page.Entities))
		for _, raw := range page.Entities {
			var e map[string]any
			must(t, json.Unmarshal(raw, &e), "decode")
			seen[e["RowKey"].(string)] = true
		}
	}
	if fmt.Sprint(sizes) != "[7 7 7 7 2]" || len(seen) != 30 {
		t.Fatalf("pages %v, distinct %d", sizes, len(seen))
	}
}

func TestTableBatchRollback(t *testing.T) {
	c := newTable(t)
	_, err := c.AddEntity(ctx(t), entityJSON(t, map[string]any{"PartitionKey": "p", "RowKey": "exists"}), nil)
	must(t, err, "add")
	_, err = c.SubmitTransaction(ctx(t), []aztables.TransactionAction{
		{ActionType: aztables.TransactionTypeAdd, Entity: entityJSON(t, map[string]any{"PartitionKey": "p", "RowKey": "a"})},
		{ActionType: aztables.TransactionTypeInsertMerge, Entity: entityJSON(t, map[string]any{"PartitionKey": "p", "RowKey": "b"})},
		{ActionType: aztables.TransactionTypeAdd, Entity: entityJSON(t, map[string]any{"PartitionKey": "p", "RowKey": "exists"})},
	}, nil)
	// TestBatchError: Azure answers 202 with one changeset response, 409 EntityAlreadyExists, whose message
	// starts with the failing operation's index ("2:The specified entity already exists."). aztables hands
	// back that whole 202 answer as the ResponseError.
	var re *azcore.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("failing batch: expected a ResponseError, got %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"409", `"code":"EntityAlreadyExists"`, `"value":"2:`} {
		if !strings.Contains(msg, want) {
			t.Fatalf("failing batch answer lacks %s: %v", want, err)
		}
	}
	var keys []string
	pager := c.NewListEntitiesPager(nil)
	for pager.More() {
		page, err := pager.NextPage(ctx(t))
		must(t, err, "list")
		for _, raw := range page.Entities {
			var e map[string]any
			must(t, json.Unmarshal(raw, &e), "decode")
			keys = append(keys, e["RowKey"].(string))
		}
	}
	sort.Strings(keys)
	if fmt.Sprint(keys) != "[exists]" {
		t.Fatalf("batch not rolled back: %v", keys)
	}
}
