package main

// The table workload of table_workloads.sdk, through aztables: 8 goroutines, one client each;
// 5,000 inserts, 1,000 point gets (values checked), 40 runs of a filtered query (row count
// checked), 16 batches of 100 inserts. Each figure is items / wall time, as in the Python run.

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/data/aztables"
)

const (
	workers    = 8
	inserts    = 5_000
	gets       = 1_000
	queries    = 40
	batches    = 16
	batchSize  = 100
	filter     = "PartitionKey eq 'p3' and Count gt 2500"
	noteString = "the quick brown fox jumps over the lazy dog"
)

// filterExpected is FILTER_EXPECTED of table_workloads.py: entities in p3 with Count > 2500.
var filterExpected = func() int {
	n := 0
	for i := 0; i < inserts; i++ {
		if i%8 == 3 && i > 2500 {
			n++
		}
	}
	return n
}()

// entity is table_workloads.entity(): Count is an Int32, Price an explicit Edm.Double.
func entity(pk, rk string, n int) []byte {
	b, err := json.Marshal(map[string]any{
		"PartitionKey": pk, "RowKey": rk, "Name": fmt.Sprintf("widget-%d", n), "Count": int32(n),
		"Price": 19.99, "Price@odata.type": "Edm.Double", "Active": true, "Note": noteString,
	})
	if err != nil {
		panic(err)
	}
	return b
}

// timed runs work(client, item) over items from 8 goroutines, items[k::8] each, one client per
// goroutine, and returns the wall time. The first error stops the run.
func timed(ctx context.Context, conn, table string, items []int,
	work func(ctx context.Context, c *aztables.Client, item int) error) (time.Duration, error) {
	clients := make([]*aztables.Client, workers)
	for k := range clients {
		svc, err := aztables.NewServiceClientFromConnectionString(conn, &aztables.ClientOptions{ClientOptions: clientOptions()})
		if err != nil {
			return 0, fmt.Errorf("table client: %w", err)
		}
		clients[k] = svc.NewClient(table)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu    sync.Mutex
		first error // the error that stopped the run, not the cancellations it caused
		wg    sync.WaitGroup
	)
	t0 := time.Now()
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			for j := k; j < len(items); j += workers {
				if err := work(ctx, clients[k], items[j]); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					cancel()
					return
				}
			}
		}(k)
	}
	wg.Wait()
	if first != nil {
		return 0, first
	}
	return time.Since(t0), nil
}

func count(ctx context.Context, c *aztables.Client, filter string) (int, error) {
	f := filter
	pager := c.NewListEntitiesPager(&aztables.ListEntitiesOptions{Filter: &f})
	n := 0
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return n, err
		}
		n += len(page.Entities)
	}
	return n, nil
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func tableWorkload(ctx context.Context, conn, table string) (map[string]any, error) {
	svc, err := aztables.NewServiceClientFromConnectionString(conn, &aztables.ClientOptions{ClientOptions: clientOptions()})
	if err != nil {
		return nil, fmt.Errorf("table client: %w", err)
	}
	if _, err := svc.CreateTable(ctx, table, nil); err != nil {
		return nil, fmt.Errorf("create table %s: %w", table, err)
	}
	figures := map[string]any{}
	rate := func(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

	d, err := timed(ctx, conn, table, seq(inserts), func(ctx context.Context, c *aztables.Client, i int) error {
		if _, err := c.AddEntity(ctx, entity(fmt.Sprintf("p%d", i%8), fmt.Sprintf("r%05d", i), i), nil); err != nil {
			return fmt.Errorf("insert r%05d: %w", i, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	figures["insert_ops"] = rate(inserts, d)

	rng := rand.New(rand.NewPCG(7, 7))
	keys := make([]int, gets)
	for j := range keys {
		keys[j] = rng.IntN(inserts)
	}
	d, err = timed(ctx, conn, table, keys, func(ctx context.Context, c *aztables.Client, i int) error {
		resp, err := c.GetEntity(ctx, fmt.Sprintf("p%d", i%8), fmt.Sprintf("r%05d", i), nil)
		if err != nil {
			return fmt.Errorf("get r%05d: %w", i, err)
		}
		var e struct {
			Count *int64
			Name  string
		}
		if err := json.Unmarshal(resp.Value, &e); err != nil {
			return fmt.Errorf("get r%05d: %w in %s", i, err, resp.Value)
		}
		if e.Count == nil || *e.Count != int64(i) || e.Name != fmt.Sprintf("widget-%d", i) {
			return fmt.Errorf("entity r%05d came back as %s", i, resp.Value)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	figures["get_ops"] = rate(gets, d)

	d, err = timed(ctx, conn, table, seq(queries), func(ctx context.Context, c *aztables.Client, _ int) error {
		n, err := count(ctx, c, filter)
		if err != nil {
			return fmt.Errorf("filtered query: %w", err)
		}
		if n != filterExpected {
			return fmt.Errorf("filtered query returned %d entities, expected %d", n, filterExpected)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	figures["query_ops"] = rate(queries, d)
	figures["query_rows"] = filterExpected

	d, err = timed(ctx, conn, table, seq(batches), func(ctx context.Context, c *aztables.Client, b int) error {
		actions := make([]aztables.TransactionAction, batchSize)
		for i := range actions {
			actions[i] = aztables.TransactionAction{
				ActionType: aztables.TransactionTypeAdd,
				Entity:     entity(fmt.Sprintf("batch%d", b), fmt.Sprintf("r%05d", i), i),
			}
		}
		if _, err := c.SubmitTransaction(ctx, actions, nil); err != nil {
			return fmt.Errorf("batch %d: %w", b, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	figures["batch_ops"] = rate(batches, d)

	// The SDK does not count the inner answers of a batch: check that every entity landed.
	client := svc.NewClient(table)
	for b := 0; b < batches; b++ {
		n, err := count(ctx, client, fmt.Sprintf("PartitionKey eq 'batch%d'", b))
		if err != nil {
			return nil, fmt.Errorf("counting batch%d: %w", b, err)
		}
		if n != batchSize {
			return nil, fmt.Errorf("partition batch%d holds %d entities after its batch, expected %d", b, n, batchSize)
		}
	}
	return figures, nil
}
