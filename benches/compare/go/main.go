// Command sdkbench runs the side-by-side SDK workloads of benches/compare through the official Go
// SDKs (aztables, azblob), whose client cost is far below the Python SDK's, and prints one JSON
// line of figures for compare.py. Any error or wrong value ends it with a message on stderr and
// exit status 1.
//
//	sdkbench -conn "<connection string>" -workload table|upload
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

func main() {
	conn := flag.String("conn", "", "storage connection string (BlobEndpoint and/or TableEndpoint, AccountName, AccountKey)")
	workload := flag.String("workload", "", "table or upload")
	table := flag.String("table", "gosdkbench", "table for the table workload (created; must not exist)")
	container := flag.String("container", "gosdklarge", "container for the upload workload (created; must not exist)")
	timeout := flag.Duration("timeout", 15*time.Minute, "give up after this long")
	flag.Parse()
	if *conn == "" {
		fail("-conn is required")
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	var figures map[string]any
	var err error
	switch *workload {
	case "table":
		figures, err = tableWorkload(ctx, *conn, *table)
	case "upload":
		figures, err = uploadWorkload(ctx, *conn, *container)
	default:
		fail(fmt.Sprintf("-workload must be table or upload, not %q", *workload))
	}
	if err != nil {
		fail(fmt.Sprintf("%s workload: %v", *workload, err))
	}
	figures["workload"] = *workload
	out, err := json.Marshal(figures)
	if err != nil {
		fail(err.Error())
	}
	fmt.Println(string(out))
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "sdkbench:", msg)
	os.Exit(1)
}

// clientOptions turns retries off: a retried request would hide an error and slow the figure
// down without saying so. The benchmark must fail instead.
func clientOptions() azcore.ClientOptions {
	return policy.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}
}
