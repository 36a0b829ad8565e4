package conformance

// Queue messages through azqueue: enqueue, dequeue, peek, update, delete, clear, the 64 KiB limit,
// the clocks behind visibility timeouts and time-to-live, and concurrent consumers.

import (
	"context"
	"crypto/rand"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"
)

// neverExpires is what Azure reports as the expiry of a message sent with TTL -1.
var neverExpires = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// assertAfter checks that got is seconds after from, within one second (Azure's times are whole seconds).
func assertAfter(t *testing.T, got, from *time.Time, seconds float64, what string) {
	t.Helper()
	if got == nil || from == nil {
		t.Fatalf("%s: missing time", what)
	}
	if d := got.Sub(*from).Seconds(); math.Abs(d-seconds) > 1 {
		t.Fatalf("%s: %.0fs after, want %.0fs", what, d, seconds)
	}
}

func enqueue(t *testing.T, q *azqueue.QueueClient, text string, o *azqueue.EnqueueMessageOptions) *azqueue.EnqueuedMessage {
	t.Helper()
	resp, err := q.EnqueueMessage(ctx(t), text, o)
	must(t, err, "enqueue "+text)
	if len(resp.Messages) != 1 {
		t.Fatalf("enqueue answered %d messages", len(resp.Messages))
	}
	return resp.Messages[0]
}

func dequeue(t *testing.T, q *azqueue.QueueClient, n, visibility int32) []*azqueue.DequeuedMessage {
	t.Helper()
	resp, err := q.DequeueMessages(ctx(t), &azqueue.DequeueMessagesOptions{NumberOfMessages: &n, VisibilityTimeout: &visibility})
	must(t, err, "dequeue")
	return resp.Messages
}

// peekTexts peeks up to 32 messages and returns their texts in order.
func peekTexts(t *testing.T, q *azqueue.QueueClient) []string {
	t.Helper()
	resp, err := q.PeekMessages(ctx(t), &azqueue.PeekMessagesOptions{NumberOfMessages: ptr[int32](32)})
	must(t, err, "peek")
	texts := []string{}
	for _, m := range resp.Messages {
		texts = append(texts, *m.MessageText)
	}
	return texts
}

func TestQueueEnqueueTimes(t *testing.T) {
	q := newQueue(t, "go-msend")
	c, raw := capture(t)
	resp, err := q.EnqueueMessage(c, "hello", nil)
	must(t, err, "enqueue")
	if (*raw).StatusCode != 201 {
		t.Fatalf("enqueue: status %d, want 201", (*raw).StatusCode)
	}
	plain := resp.Messages[0]
	if plain.MessageID == nil || *plain.MessageID == "" || plain.PopReceipt == nil || *plain.PopReceipt == "" {
		t.Fatal("enqueue answered no message id or pop receipt")
	}
	// Default TTL is 7 days; without a visibility timeout the message is visible at once.
	assertAfter(t, plain.ExpirationTime, plain.InsertionTime, 7*24*3600, "default expiry")
	assertAfter(t, plain.TimeNextVisible, plain.InsertionTime, 0, "next visible")

	hidden := enqueue(t, q, "hidden", &azqueue.EnqueueMessageOptions{VisibilityTimeout: ptr[int32](60)})
	assertAfter(t, hidden.TimeNextVisible, hidden.InsertionTime, 60, "visibility timeout")
	hour := enqueue(t, q, "an hour", &azqueue.EnqueueMessageOptions{TimeToLive: ptr[int32](3600)})
	assertAfter(t, hour.ExpirationTime, hour.InsertionTime, 3600, "TTL 3600")
	forever := enqueue(t, q, "forever", &azqueue.EnqueueMessageOptions{TimeToLive: ptr[int32](-1)})
	if !forever.ExpirationTime.Equal(neverExpires) {
		t.Fatalf("TTL -1 expires %v, want %v", forever.ExpirationTime, neverExpires)
	}

	peeked, err := q.PeekMessages(ctx(t), &azqueue.PeekMessagesOptions{NumberOfMessages: ptr[int32](32)})
	must(t, err, "peek")
	var texts []string
	for _, m := range peeked.Messages {
		texts = append(texts, *m.MessageText)
		if *m.DequeueCount != 0 {
			t.Errorf("peeked %q with dequeue count %d", *m.MessageText, *m.DequeueCount)
		}
	}
	if !reflect.DeepEqual(texts, []string{"hello", "an hour", "forever"}) {
		t.Fatalf("peeked %v", texts)
	}
	if *peeked.Messages[0].MessageID != *plain.MessageID || !peeked.Messages[2].ExpirationTime.Equal(neverExpires) {
		t.Fatal("peeked messages do not match what was sent")
	}
}

func TestQueueDequeueCountVisibilityPopReceipt(t *testing.T) {
	q := newQueue(t, "go-mrecv")
	sent := map[string]string{}
	var ids []string
	for i := 0; i < 5; i++ {
		m := enqueue(t, q, fmt.Sprintf("m%d", i), nil)
		sent[*m.MessageID] = fmt.Sprintf("m%d", i)
		ids = append(ids, *m.MessageID)
	}

	before := time.Now()
	first := dequeue(t, q, 3, 30)
	if len(first) != 3 {
		t.Fatalf("dequeued %d, want 3", len(first))
	}
	var got []string
	for _, m := range first {
		if sent[*m.MessageID] != *m.MessageText {
			t.Fatalf("dequeued %s %q, not what was sent", *m.MessageID, *m.MessageText)
		}
		if *m.DequeueCount != 1 || m.PopReceipt == nil || *m.PopReceipt == "" {
			t.Fatalf("dequeue count %d, pop receipt %v", *m.DequeueCount, m.PopReceipt)
		}
		if in := m.TimeNextVisible.Sub(before).Seconds(); in < 25 || in > 35 {
			t.Fatalf("next visible in %.0fs, want ~30s", in)
		}
		got = append(got, *m.MessageID)
	}
	// Only the two still visible come back, however many are asked for.
	for _, m := range dequeue(t, q, 32, 30) {
		got = append(got, *m.MessageID)
	}
	if !reflect.DeepEqual(sortedCopy(got), sortedCopy(ids)) {
		t.Fatalf("dequeued %v, sent %v", got, ids)
	}
	if rest := dequeue(t, q, 1, 30); len(rest) != 0 {
		t.Fatalf("dequeued %d from a queue whose messages are all invisible", len(rest))
	}
	if texts := peekTexts(t, q); len(texts) != 0 {
		t.Fatalf("peeked %v", texts)
	}
	if _, count := queueMeta(t, q); count != 5 {
		t.Fatalf("approximate count %d, want 5 (invisible messages count)", count)
	}

	_, err := q.DequeueMessages(ctx(t), &azqueue.DequeueMessagesOptions{NumberOfMessages: ptr[int32](33)})
	expectError(t, err, 400, "OutOfRangeQueryParameterValue")
}

func TestQueuePeek(t *testing.T) {
	q := newQueue(t, "go-mpeek")
	for _, s := range []string{"a", "b", "c"} {
		enqueue(t, q, s, nil)
	}
	two, err := q.PeekMessages(ctx(t), &azqueue.PeekMessagesOptions{NumberOfMessages: ptr[int32](2)})
	must(t, err, "peek two")
	if len(two.Messages) != 2 || *two.Messages[0].MessageText != "a" || *two.Messages[1].MessageText != "b" {
		t.Fatalf("peeked %d messages", len(two.Messages))
	}
	got := dequeue(t, q, 1, 30)
	if len(got) != 1 || *got[0].MessageText != "a" {
		t.Fatalf("dequeued %d messages", len(got))
	}
	if texts := peekTexts(t, q); !reflect.DeepEqual(texts, []string{"b", "c"}) {
		t.Fatalf("peeked %v after dequeuing a", texts)
	}
	_, err = q.PeekMessages(ctx(t), &azqueue.PeekMessagesOptions{NumberOfMessages: ptr[int32](33)})
	expectError(t, err, 400, "OutOfRangeQueryParameterValue")
}

func TestQueueUpdateMessage(t *testing.T) {
	q := newQueue(t, "go-mupdate")
	enqueue(t, q, "v1", nil)
	r1 := dequeue(t, q, 1, 30)[0]
	id := *r1.MessageID

	// Visibility 0 makes it visible again at once, with the new content and a new pop receipt.
	c, raw := capture(t)
	u1, err := q.UpdateMessage(c, id, *r1.PopReceipt, "v2", &azqueue.UpdateMessageOptions{VisibilityTimeout: ptr[int32](0)})
	must(t, err, "update")
	if (*raw).StatusCode != 204 {
		t.Fatalf("update: status %d, want 204", (*raw).StatusCode)
	}
	if u1.PopReceipt == nil || *u1.PopReceipt == "" || *u1.PopReceipt == *r1.PopReceipt {
		t.Fatalf("update answered pop receipt %v (dequeue gave %s)", u1.PopReceipt, *r1.PopReceipt)
	}
	if texts := peekTexts(t, q); !reflect.DeepEqual(texts, []string{"v2"}) {
		t.Fatalf("after update peeked %v", texts)
	}

	// The receipt the update replaced no longer works.
	_, err = q.UpdateMessage(ctx(t), id, *r1.PopReceipt, "v3", nil)
	expectError(t, err, 400, "PopReceiptMismatch")

	// A longer visibility hides it again.
	u2, err := q.UpdateMessage(ctx(t), id, *u1.PopReceipt, "v2", &azqueue.UpdateMessageOptions{VisibilityTimeout: ptr[int32](60)})
	must(t, err, "update visibility")
	if time.Until(*u2.TimeNextVisible) < 50*time.Second {
		t.Fatalf("next visible %v, want ~60s from now", u2.TimeNextVisible)
	}
	if texts := peekTexts(t, q); len(texts) != 0 {
		t.Fatalf("hidden message peeked: %v", texts)
	}
	_, err = q.UpdateMessage(ctx(t), id, *u2.PopReceipt, "v2", nil)
	must(t, err, "update back to visible")

	r2 := dequeue(t, q, 1, 30)
	if len(r2) != 1 || *r2[0].MessageText != "v2" || *r2[0].DequeueCount != 2 {
		t.Fatalf("second dequeue: %d messages", len(r2))
	}
	_, err = q.DeleteMessage(ctx(t), id, *r2[0].PopReceipt, nil)
	must(t, err, "delete with the latest receipt")
	if _, count := queueMeta(t, q); count != 0 {
		t.Fatalf("approximate count %d after delete", count)
	}
}

func TestQueueDeleteMessageAndClear(t *testing.T) {
	q := newQueue(t, "go-mdelete")
	enqueue(t, q, "to delete", nil)
	got := dequeue(t, q, 1, 30)[0]

	_, err := q.DeleteMessage(ctx(t), randomGUID(), *got.PopReceipt, nil)
	expectError(t, err, 404, "MessageNotFound")
	c, raw := capture(t)
	_, err = q.DeleteMessage(c, *got.MessageID, *got.PopReceipt, nil)
	must(t, err, "delete")
	if (*raw).StatusCode != 204 {
		t.Fatalf("delete: status %d, want 204", (*raw).StatusCode)
	}
	_, err = q.DeleteMessage(ctx(t), *got.MessageID, *got.PopReceipt, nil)
	expectError(t, err, 404, "MessageNotFound")

	for i := 0; i < 10; i++ {
		enqueue(t, q, fmt.Sprintf("c%d", i), &azqueue.EnqueueMessageOptions{VisibilityTimeout: ptr(int32(60 * (i % 2)))})
	}
	if _, count := queueMeta(t, q); count != 10 {
		t.Fatalf("approximate count %d, want 10", count)
	}
	c, raw = capture(t)
	_, err = q.ClearMessages(c, nil)
	must(t, err, "clear")
	if (*raw).StatusCode != 204 {
		t.Fatalf("clear: status %d, want 204", (*raw).StatusCode)
	}
	if texts := peekTexts(t, q); len(texts) != 0 {
		t.Fatalf("peeked %v after clear", texts)
	}
	if _, count := queueMeta(t, q); count != 0 {
		t.Fatalf("approximate count %d after clear", count)
	}
}

func TestQueueMessageTooLarge(t *testing.T) {
	q := newQueue(t, "go-mlarge")
	max := strings.Repeat("x", 64*1024)
	enqueue(t, q, max, nil)
	got := dequeue(t, q, 1, 30)
	if len(got) != 1 || *got[0].MessageText != max {
		t.Fatal("the 64 KiB message did not come back whole")
	}
	_, err := q.EnqueueMessage(ctx(t), max+"x", nil)
	expectError(t, err, 413, "RequestBodyTooLarge")
	// Update Message carries the same limit.
	_, err = q.UpdateMessage(ctx(t), *got[0].MessageID, *got[0].PopReceipt, max+"x", nil)
	expectError(t, err, 413, "RequestBodyTooLarge")
	if _, count := queueMeta(t, q); count != 1 {
		t.Fatalf("approximate count %d, want 1", count)
	}
}

func TestQueueVisibilityTimeoutExpiry(t *testing.T) {
	q := newQueue(t, "go-mvis")
	sent := enqueue(t, q, "comes back", nil)
	r1 := dequeue(t, q, 1, 1)
	if len(r1) != 1 || *r1[0].MessageID != *sent.MessageID {
		t.Fatal("first dequeue did not return the message")
	}
	if again := dequeue(t, q, 1, 30); len(again) != 0 {
		t.Fatal("the message is visible within its visibility timeout")
	}
	time.Sleep(2 * time.Second)
	r2 := dequeue(t, q, 1, 30)
	if len(r2) != 1 {
		t.Fatal("the message did not reappear after its visibility timeout")
	}
	m := r2[0]
	if *m.MessageID != *sent.MessageID || *m.MessageText != "comes back" || *m.DequeueCount != 2 {
		t.Fatalf("reappeared as %s %q dequeue count %d", *m.MessageID, *m.MessageText, *m.DequeueCount)
	}
	if *m.PopReceipt == *r1[0].PopReceipt {
		t.Fatal("the second dequeue reused the first pop receipt")
	}
}

func TestQueueTimeToLiveExpiry(t *testing.T) {
	q := newQueue(t, "go-mttl")
	short := enqueue(t, q, "short-lived", &azqueue.EnqueueMessageOptions{TimeToLive: ptr[int32](1)})
	assertAfter(t, short.ExpirationTime, short.InsertionTime, 1, "TTL 1")
	enqueue(t, q, "forever", &azqueue.EnqueueMessageOptions{TimeToLive: ptr[int32](-1)})
	time.Sleep(2 * time.Second)
	if texts := peekTexts(t, q); !reflect.DeepEqual(texts, []string{"forever"}) {
		t.Fatalf("after 2 s peeked %v, want [forever]", texts)
	}
	got := dequeue(t, q, 32, 30)
	if len(got) != 1 || *got[0].MessageText != "forever" {
		t.Fatalf("after 2 s dequeued %d messages", len(got))
	}
}

// TestQueueConcurrentConsumers drains 500 messages with 4 goroutines and checks each message was
// received exactly once: a message handed to one consumer is invisible to the others.
func TestQueueConcurrentConsumers(t *testing.T) {
	const total, workers = 500, 4
	q := newQueue(t, "go-mdrain")
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := w; i < total; i += workers {
				if _, err := q.EnqueueMessage(c, fmt.Sprintf("msg-%03d", i), nil); err != nil {
					errs <- fmt.Errorf("enqueue %d: %w", i, err)
					return
				}
			}
		}(w)
	}
	wg.Wait()

	var mu sync.Mutex
	seen := map[string]int{}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				resp, err := q.DequeueMessages(c, &azqueue.DequeueMessagesOptions{
					NumberOfMessages: ptr[int32](32), VisibilityTimeout: ptr[int32](120)})
				if err != nil {
					errs <- fmt.Errorf("dequeue: %w", err)
					return
				}
				if len(resp.Messages) == 0 {
					return
				}
				for _, m := range resp.Messages {
					mu.Lock()
					seen[*m.MessageText]++
					mu.Unlock()
					if _, err := q.DeleteMessage(c, *m.MessageID, *m.PopReceipt, nil); err != nil {
						errs <- fmt.Errorf("delete %s: %w", *m.MessageText, err)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	if len(seen) != total {
		t.Fatalf("received %d distinct messages, want %d", len(seen), total)
	}
	for i := 0; i < total; i++ {
		if n := seen[fmt.Sprintf("msg-%03d", i)]; n != 1 {
			t.Errorf("msg-%03d received %d times", i, n)
		}
	}
	if _, count := queueMeta(t, q); count != 0 {
		t.Fatalf("approximate count %d after draining", count)
	}
}

// randomGUID is a message id that no queue holds.
func randomGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// sortedCopy is the sorted copy of a list of strings, for comparing sets.
func sortedCopy(in []string) []string {
	out := append([]string(nil), in...)
	sort.Strings(out)
	return out
}
