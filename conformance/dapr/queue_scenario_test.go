package dapr

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
)

// queueVisibility is the visibilityTimeout the delivery tests give the queue binding: how long a
// delivered message stays invisible before it is delivered again when the app did not accept it.
const queueVisibility = 3 * time.Second

// delivery is one input binding event as the app received it.
type delivery struct {
	text         string // the message text
	messageID    string // the binding's metadata (daprd passes it to an HTTP app as headers)
	dequeueCount string
	insertion    string
	expiration   string
	at           time.Time
	status       int // what the app answered
}

// queueApp plays the app that consumes the binding's events. Each message text is
// "<id>|<refuse>|<payload>": the app refuses (500) the first <refuse> deliveries of <id> and
// accepts (200) the others.
type queueApp struct {
	mu         sync.Mutex
	seen       map[string]int
	deliveries chan delivery
}

func newQueueApp() *queueApp {
	return &queueApp{seen: map[string]int{}, deliveries: make(chan delivery, 16)}
}

// receive records one event, with meta giving the binding's metadata by key, and returns the
// status the app answers.
func (a *queueApp) receive(text string, meta func(key string) string) int {
	d := delivery{text: text, messageID: meta("messageID"), dequeueCount: meta("dequeueCount"),
		insertion: meta("insertionTime"), expiration: meta("expirationTime"), at: time.Now(), status: http.StatusOK}
	parts := strings.SplitN(text, "|", 3)
	refuse := 0
	if len(parts) == 3 {
		refuse, _ = strconv.Atoi(parts[1])
	}
	a.mu.Lock()
	a.seen[parts[0]]++
	if a.seen[parts[0]] <= refuse {
		d.status = http.StatusInternalServerError
	}
	a.mu.Unlock()
	select {
	case a.deliveries <- d:
	default: // the test stopped listening; never block the binding
	}
	return d.status
}

// next waits for the next delivery, at most within.
func (a *queueApp) next(t *testing.T, what string, within time.Duration) delivery {
	t.Helper()
	select {
	case d := <-a.deliveries:
		return d
	case <-time.After(within):
		t.Fatalf("%s: the app received nothing within %s", what, within)
		return delivery{}
	}
}

// queuePayload is a text the Queue service must carry through its XML unchanged: markup,
// entities, quotes, non-ASCII, a tab and a newline.
const queuePayload = "<order id=\"7\">fish &amp; chips & 'peas'</order> é ✓ \t tab\nline 2"

// queueDeliveryScenario: an accepted event is delivered once, with its metadata, and deleted; a
// refused one stays in the queue, invisible, and comes back after the visibility timeout with
// dequeueCount 2. send puts a message text through the output binding, with request metadata.
// The binding's Component has ttlInSeconds 60 and visibilityTimeout queueVisibility.
func queueDeliveryScenario(t *testing.T, app *queueApp, q *azqueue.QueueClient,
	send func(t *testing.T, text string, metadata map[string]string)) {
	t.Run("accepted event is delivered once and deleted", func(t *testing.T) {
		text := "ok-" + randomSuffix(t) + "|0|" + queuePayload
		// A per-request ttlInSeconds overrides the Component's 60.
		send(t, text, map[string]string{"ttlInSeconds": "120"})
		d := app.next(t, "accepted event", 20*time.Second)
		if d.text != text {
			t.Fatalf("app received %q, want %q", d.text, text)
		}
		if d.dequeueCount != "1" || d.messageID == "" {
			t.Errorf("first delivery: dequeueCount %q, messageID %q; want 1 and an id", d.dequeueCount, d.messageID)
		}
		checkTTL(t, d, 120*time.Second)
		// The binding deletes the message once the app accepted it.
		waitQueueEmpty(t, q, 10*time.Second)
	})

	t.Run("refused event is redelivered after the visibility timeout", func(t *testing.T) {
		text := "retry-" + randomSuffix(t) + "|1|" + queuePayload
		send(t, text, nil)
		first := app.next(t, "refused event", 20*time.Second)
		if first.text != text || first.status != http.StatusInternalServerError || first.dequeueCount != "1" {
			t.Fatalf("first delivery: %q, answered %d, dequeueCount %q; want %q, 500, 1",
				first.text, first.status, first.dequeueCount, text)
		}
		checkTTL(t, first, 60*time.Second)

		// While invisible, the message is still counted but not peeked. Only judged when the check
		// ran well inside the visibility timeout (which started at the dequeue, just before `at`).
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		count, visible, err := queueState(ctx, q)
		cancel()
		if err != nil {
			t.Fatalf("queue state after the refusal: %v", err)
		}
		switch since := time.Since(first.at); {
		case since >= queueVisibility-time.Second:
			t.Logf("invisibility not judged: the queue was read %s after the delivery", since)
		case count != 1 || visible != 0:
			t.Errorf("after the refusal, while the message is invisible: approximate count %d, peek %d; want 1, 0",
				count, visible)
		}

		second := app.next(t, "redelivery", queueVisibility+20*time.Second)
		if second.text != text || second.status != http.StatusOK {
			t.Fatalf("second delivery: %q, answered %d; want %q, 200", second.text, second.status, text)
		}
		if second.dequeueCount != "2" || second.messageID != first.messageID {
			t.Errorf("second delivery: dequeueCount %q, messageID %q; want 2 and %q",
				second.dequeueCount, second.messageID, first.messageID)
		}
		if gap := second.at.Sub(first.at); gap < queueVisibility-time.Second {
			t.Errorf("redelivered %s after the first delivery, before the visibility timeout of %s", gap, queueVisibility)
		}
		waitQueueEmpty(t, q, 10*time.Second)
	})

	select {
	case d := <-app.deliveries:
		t.Errorf("unexpected extra delivery: %q (dequeueCount %s)", d.text, d.dequeueCount)
	default:
	}
}

// checkTTL checks that a delivery's expirationTime is insertionTime + want (both RFC 3339, whole seconds).
func checkTTL(t *testing.T, d delivery, want time.Duration) {
	t.Helper()
	ins, err1 := time.Parse(time.RFC3339, d.insertion)
	exp, err2 := time.Parse(time.RFC3339, d.expiration)
	if err1 != nil || err2 != nil {
		t.Fatalf("insertionTime %q, expirationTime %q: want RFC 3339 times", d.insertion, d.expiration)
	}
	if got := exp.Sub(ins); got < want-time.Second || got > want+time.Second {
		t.Errorf("expirationTime - insertionTime = %s (%s .. %s), want %s", got, d.insertion, d.expiration, want)
	}
}

// queueClient is an azqueue client (Shared Key) for one queue of the server under test.
func queueClient(t *testing.T, queue string) *azqueue.QueueClient {
	t.Helper()
	cred, err := azqueue.NewSharedKeyCredential(accountName, accountKey)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := azqueue.NewServiceClientWithSharedKeyCredential(target.qURL+"/"+accountName+"/", cred, nil)
	if err != nil {
		t.Fatal(err)
	}
	return svc.NewQueueClient(queue)
}

// queueState is what the Queue service reports of a queue: its approximate message count (visible
// or not) and how many messages a peek of up to 32 sees (visible ones only).
func queueState(ctx context.Context, q *azqueue.QueueClient) (count int32, visible int, err error) {
	props, err := q.GetProperties(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	if props.ApproximateMessagesCount != nil {
		count = *props.ApproximateMessagesCount
	}
	n := int32(32)
	peek, err := q.PeekMessages(ctx, &azqueue.PeekMessagesOptions{NumberOfMessages: &n})
	if err != nil {
		return 0, 0, err
	}
	return count, len(peek.Messages), nil
}

// waitQueueEmpty polls until the queue holds no message at all (count 0, peek empty).
func waitQueueEmpty(t *testing.T, q *azqueue.QueueClient, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var count int32
	var visible int
	var lastErr error
	for {
		c, v, err := queueState(ctx, q)
		switch {
		case err != nil:
			lastErr = err
		case c == 0 && v == 0:
			return
		default:
			count, visible = c, v
		}
		select {
		case <-ctx.Done():
			t.Fatalf("queue %s not empty after %s: approximate count %d, peek %d (last error: %v)",
				q.URL(), within, count, visible, lastErr)
		case <-time.After(100 * time.Millisecond):
		}
	}
}
