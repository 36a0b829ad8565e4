use super::*;
use crate::error::ErrorCode;
use time::macros::datetime;

#[test]
fn message_text_is_kept_exactly() {
    let body = b"<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessage><MessageText>  a &amp; b\n</MessageText></QueueMessage>";
    assert_eq!(parse_queue_message(body).unwrap(), "  a & b\n");
    let empty = b"<QueueMessage><MessageText></MessageText></QueueMessage>";
    assert_eq!(parse_queue_message(empty).unwrap(), "");
    let cdata = b"<QueueMessage><MessageText><![CDATA[<x>]]></MessageText></QueueMessage>";
    assert_eq!(parse_queue_message(cdata).unwrap(), "<x>");
}

#[test]
fn a_body_without_message_text_is_an_invalid_document() {
    for body in [
        &b""[..],
        b"<QueueMessage></QueueMessage>",
        b"<Other><MessageText>x</MessageText></Other>",
        b"<QueueMessage><MessageText>x</QueueMessage>",
    ] {
        let err = parse_queue_message(body).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidXmlDocument, "{body:?}");
    }
}

fn entry(text: &str) -> MessageEntry<'_> {
    MessageEntry {
        id: "6b6e5e0c-0000-4000-8000-000000000001",
        inserted: datetime!(2026-12-07 10:00:00 UTC),
        expires: Some(datetime!(2026-12-14 10:00:00 UTC)),
        next_visible: datetime!(2026-12-07 10:00:30 UTC),
        dequeue_count: 2,
        pop_receipt: "AgAAAAMAAAAAAAAA",
        text,
    }
}

#[test]
fn each_view_carries_its_own_fields_in_azure_order() {
    let dequeued = render_messages(MessageView::Dequeued, &[entry("hi <there>")]);
    assert_eq!(
        dequeued,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessagesList><QueueMessage>\
         <MessageId>6b6e5e0c-0000-4000-8000-000000000001</MessageId>\
         <InsertionTime>Mon, 07 Dec 2026 10:00:00 GMT</InsertionTime>\
         <ExpirationTime>Mon, 14 Dec 2026 10:00:00 GMT</ExpirationTime>\
         <PopReceipt>AgAAAAMAAAAAAAAA</PopReceipt>\
         <TimeNextVisible>Mon, 07 Dec 2026 10:00:30 GMT</TimeNextVisible>\
         <DequeueCount>2</DequeueCount><MessageText>hi &lt;there&gt;</MessageText>\
         </QueueMessage></QueueMessagesList>"
    );
    let enqueued = render_messages(MessageView::Enqueued, &[entry("x")]);
    assert!(enqueued.contains("<PopReceipt>") && enqueued.contains("<TimeNextVisible>"));
    assert!(!enqueued.contains("<MessageText>") && !enqueued.contains("<DequeueCount>"));
    let peeked = render_messages(MessageView::Peeked, &[entry("x")]);
    assert!(!peeked.contains("<PopReceipt>") && !peeked.contains("<TimeNextVisible>"));
    assert!(peeked.contains("<DequeueCount>2</DequeueCount><MessageText>x</MessageText>"));
}

#[test]
fn a_message_that_never_expires_shows_azures_end_of_time() {
    let mut m = entry("");
    m.expires = None;
    let xml = render_messages(MessageView::Dequeued, &[m]);
    assert!(xml.contains("<ExpirationTime>Fri, 31 Dec 9999 23:59:59 GMT</ExpirationTime>"));
    assert!(xml.contains("<MessageText />"));
    assert_eq!(
        render_messages(MessageView::Peeked, &[]),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessagesList />"
    );
}

#[test]
fn list_queues_echoes_parameters_and_shows_metadata_when_asked() {
    let meta = vec![("k".to_owned(), "v".to_owned())];
    let items = [
        QueueEntry {
            name: "a",
            metadata: Some(&meta),
        },
        QueueEntry {
            name: "b",
            metadata: Some(&[]),
        },
    ];
    let xml = render_list_queues(
        "http://127.0.0.1:10001/devstoreaccount1",
        Some("p"),
        None,
        Some(2),
        &items,
        Some("/devstoreaccount1/c"),
    );
    assert_eq!(
        xml,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults \
         ServiceEndpoint=\"http://127.0.0.1:10001/devstoreaccount1/\"><Prefix>p</Prefix>\
         <MaxResults>2</MaxResults><Queues><Queue><Name>a</Name><Metadata><k>v</k></Metadata>\
         </Queue><Queue><Name>b</Name><Metadata /></Queue></Queues>\
         <NextMarker>/devstoreaccount1/c</NextMarker></EnumerationResults>"
    );
    let none = render_list_queues("http://h/a/", None, None, None, &[], None);
    assert!(none.ends_with("<Queues /><NextMarker /></EnumerationResults>"));
}
