//! The import of a small Azurite folder written here by hand (the shapes Azurite 3.37 writes,
//! trimmed to the fields the import reads): what it stores, that a second run changes nothing,
//! and that a damaged database imports nothing unless asked for its best.

use std::path::Path;

use lapis_import::{import, Options};
use lapis_store::*;

const ACCOUNT: &str = "devstoreaccount1";

/// One blob extent file and one queue extent file: what each document points into.
const BLOB_BYTES: &[u8] = b"hello worldhello againaaaabbbbbbcccline1\nline2\n";
const QUEUE_BYTES: &[u8] = b"hello queuelater";

fn write_folder(dir: &Path) {
    std::fs::create_dir_all(dir.join("__blobstorage__")).unwrap();
    std::fs::create_dir_all(dir.join("__queuestorage__")).unwrap();
    std::fs::write(dir.join("__blobstorage__/ext-1"), BLOB_BYTES).unwrap();
    // A page blob's page lives in a second extent.
    std::fs::write(dir.join("__blobstorage__/ext-2"), [7u8; 512]).unwrap();
    std::fs::write(dir.join("__queuestorage__/qext-1"), QUEUE_BYTES).unwrap();
    let blob_db = r#"{"filename":"x","collections":[
      {"name":"$SERVICES_COLLECTION$","data":[{"cors":[{"allowedOrigins":"http://a.example","allowedMethods":"GET","allowedHeaders":"*","exposedHeaders":"*","maxAgeInSeconds":5}],"accountName":"devstoreaccount1","meta":{"created":1796676610743},"$loki":1}]},
      {"name":"$CONTAINERS_COLLECTION$","data":[
        {"accountName":"devstoreaccount1","name":"cont1","metadata":{"Team":"blue"},
         "properties":{"etag":"\"0x204AA5ACB27DDA0\"","lastModified":"2026-12-07T20:50:10.875Z","leaseStatus":"unlocked","leaseState":"available","publicAccess":"blob"},
         "meta":{"created":1796676610835},"containerAcl":[{"id":"pol1","accessPolicy":{"start":"2024-01-01T00:00:00Z","expiry":"2030-01-01T00:00:00Z","permission":"rl"}}]}]},
      {"name":"$BLOBS_COLLECTION$","data":[
        {"name":"dir/hello.txt","deleted":false,"snapshot":"2026-12-07T20:50:11.0580000Z","accountName":"devstoreaccount1","containerName":"cont1","isCommitted":true,
         "properties":{"creationTime":"2026-12-07T20:50:10.942Z","lastModified":"2026-12-07T20:50:10.942Z","etag":"\"0x27B79427CC342E0\"","contentLength":11,"contentType":"text/plain","blobType":"BlockBlob","accessTier":"Hot","accessTierInferred":true},
         "metadata":{"Key1":"v1"},"blobTags":{"blobTagSet":[{"key":"tag1","value":"a"}]},
         "persistency":{"id":"ext-1","offset":0,"count":11}},
        {"name":"dir/hello.txt","deleted":false,"snapshot":"","accountName":"devstoreaccount1","containerName":"cont1","isCommitted":true,
         "properties":{"creationTime":"2026-12-07T20:50:10.942Z","lastModified":"2026-12-07T20:50:11.094Z","etag":"\"0x269C79FA5F23180\"","contentLength":11,"contentType":"application/octet-stream",
           "contentMD5":{"0":68,"1":153,"2":127,"3":135,"4":184,"5":145,"6":248,"7":148,"8":114,"9":183,"10":242,"11":187,"12":228,"13":224,"14":0,"15":195},
           "blobType":"BlockBlob","leaseStatus":"locked","leaseState":"leased","leaseDuration":"infinite","accessTier":"Cool","accessTierInferred":false,"accessTierChangeTime":"2026-12-07T20:50:11.094Z"},
         "leaseId":"fe22e649-44ae-4814-8f77-db4a67a72c1e",
         "persistency":{"id":"ext-1","offset":11,"count":11}},
        {"name":"blocks.bin","snapshot":"","accountName":"devstoreaccount1","containerName":"cont1","isCommitted":true,
         "properties":{"creationTime":"2026-12-07T20:50:11.164Z","lastModified":"2026-12-07T20:50:11.379Z","etag":"\"0x2429B59656F20E0\"","contentLength":10,"blobType":"BlockBlob"},
         "committedBlocksInOrder":[
           {"accountName":"devstoreaccount1","containerName":"cont1","blobName":"blocks.bin","isCommitted":false,"name":"WVdGaA==","size":4,"persistency":{"id":"ext-1","offset":22,"count":4}},
           {"accountName":"devstoreaccount1","containerName":"cont1","blobName":"blocks.bin","isCommitted":false,"name":"WW1KaQ==","size":6,"persistency":{"id":"ext-1","offset":26,"count":6}}]},
        {"name":"app.log","snapshot":"","accountName":"devstoreaccount1","containerName":"cont1","isCommitted":true,
         "properties":{"creationTime":"2026-12-07T20:50:11.534Z","lastModified":"2026-12-07T20:50:11.586Z","etag":"\"0x27D7BFDBC132DE0\"","contentLength":12,"blobType":"AppendBlob","isSealed":false},
         "committedBlocksInOrder":[
           {"name":"","size":6,"persistency":{"id":"ext-1","offset":35,"count":6}},
           {"name":"","size":6,"persistency":{"id":"ext-1","offset":41,"count":6}}]},
        {"name":"disk.vhd","snapshot":"","accountName":"devstoreaccount1","containerName":"cont1","isCommitted":true,
         "properties":{"creationTime":"2026-12-07T20:50:11.632Z","lastModified":"2026-12-07T20:50:11.739Z","etag":"\"0x23790696E08BF20\"","contentLength":4096,"blobSequenceNumber":7,"blobType":"PageBlob"},
         "pageRangesInOrder":[{"start":1024,"end":1535,"persistency":{"id":"ext-2","offset":0,"count":512}}]}]},
      {"name":"$BLOCKS_COLLECTION$","data":[
        {"accountName":"devstoreaccount1","containerName":"cont1","blobName":"blocks.bin","isCommitted":false,"name":"WTJOag==","size":3,"persistency":{"id":"ext-1","offset":32,"count":3},"meta":{"created":1796676611497}}]}
    ]}"#;
    let blob_extent_db = r#"{"collections":[{"name":"$EXTENTS_COLLECTION$","data":[
        {"id":"ext-1","locationId":"Default","path":"ext-1","size":47},
        {"id":"ext-2","locationId":"Default","path":"ext-2","size":512}]}]}"#;
    let table_db = r#"{"collections":[
      {"name":"$TABLES_COLLECTION$","data":[{"account":"devstoreaccount1","table":"Types","tableAcl":[{"id":"tp","accessPolicy":{"permission":"r"}}]}]},
      {"name":"$SERVICES_COLLECTION$","data":[]},
      {"name":"devstoreaccount1$Types","data":[
        {"PartitionKey":"p","RowKey":"r1","properties":{"PartitionKey":"p","RowKey":"r1","s":"str","i64":"1099511627776","i64@odata.type":"Edm.Int64",
          "nan":"NaN","nan@odata.type":"Edm.Double","g":"MTIzNDU2NzgtMTIzNC0xMjM0LTEyMzQtMTIzNDU2Nzg5MGFi","g@odata.type":"Edm.Guid",
          "Timestamp":"2026-12-07T20:50:12.1102553Z","Timestamp@odata.type":"Edm.DateTime"},
         "lastModifiedTime":"2026-12-07T20:50:12.1102553Z","eTag":"W/\"datetime'2026-12-07T20%3A50%3A12.1102553Z'\""},
        {"PartitionKey":"p","RowKey":"r2","properties":{"v":1},"lastModifiedTime":"2026-12-07T20:50:12.2641868Z"}]}]}"#;
    let queue_db = r#"{"collections":[
      {"name":"$SERVICES_COLLECTION$","data":[]},
      {"name":"$QUEUES_COLLECTION$","data":[{"accountName":"devstoreaccount1","name":"queue1","metadata":{"Purpose":"test"},"queueAcl":[{"id":"qp","accessPolicy":{"expiry":"2030-01-01T00:00:00Z","permission":"r"}}]}]},
      {"name":"$MESSAGES_COLLECTION$","data":[
        {"accountName":"devstoreaccount1","queueName":"queue1","messageId":"4344b747-4f10-4a82-bd70-c6b4012ffa15","popReceipt":"MDdEZWMyMDI2MjA6NTA6MTI5NGMy","timeNextVisible":1796677212702,"persistency":{"id":"qext-1","offset":0,"count":11},"insertionTime":"2026-12-07T20:50:12.450Z","expirationTime":"9999-12-31T23:59:59.999Z","dequeueCount":1},
        {"accountName":"devstoreaccount1","queueName":"queue1","messageId":"3822c6b5-b369-448c-bbdf-1d9368b2e4bc","popReceipt":"MDdEZWMyMDI2MjA6NTA6MTI4Yzlh","timeNextVisible":1577836800000,"persistency":{"id":"qext-1","offset":11,"count":5},"insertionTime":"2020-01-01T00:00:00.000Z","expirationTime":"2020-01-08T00:00:00.000Z","dequeueCount":0}]}]}"#;
    let queue_extent_db = r#"{"collections":[{"name":"$EXTENTS_COLLECTION$","data":[{"id":"qext-1","locationId":"Default","path":"qext-1"}]}]}"#;
    for (name, text) in [
        ("__azurite_db_blob__.json", blob_db),
        ("__azurite_db_blob_extent__.json", blob_extent_db),
        ("__azurite_db_table__.json", table_db),
        ("__azurite_db_queue__.json", queue_db),
        ("__azurite_db_queue_extent__.json", queue_extent_db),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
    }
}

fn options(source: &Path, target: &Path, best_effort: bool) -> Options {
    Options {
        source: source.to_path_buf(),
        target: target.to_path_buf(),
        best_effort,
        quiet: true,
    }
}

fn read(store: &Store, blob: &str, snapshot: Option<&str>) -> Vec<u8> {
    let (_, mut r) = store
        .read_blob_at(
            ACCOUNT,
            "cont1",
            blob,
            snapshot,
            None,
            &Conditions::default(),
            None,
        )
        .unwrap();
    let mut out = Vec::new();
    while let Some(c) = r.read_chunk(1 << 16).unwrap() {
        out.extend_from_slice(&c);
    }
    out
}

/// Every file of the folder with its bytes, to show that the import wrote nothing there.
fn snapshot_of(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn imports_everything_and_a_second_run_changes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("azurite"), tmp.path().join("lapis"));
    write_folder(&src);
    let before = snapshot_of(&src);
    let first = import(&options(&src, &dst, false)).unwrap();
    assert_eq!(
        snapshot_of(&src),
        before,
        "the import wrote into Azurite's folder"
    );
    assert_eq!(first.accounts, vec![ACCOUNT.to_string()]);
    assert_eq!(
        (
            first.containers.created,
            first.blobs.created,
            first.snapshots.created
        ),
        (1, 4, 1)
    );
    assert_eq!((first.tables.created, first.entities.created), (1, 2));
    assert_eq!((first.queues.created, first.messages.created), (1, 1));
    // The expired message is left out, and said so.
    assert_eq!(first.skipped.len(), 1, "{:?}", first.skipped);
    assert!(first.skipped[0].why.contains("expired"));

    let second = import(&options(&src, &dst, false)).unwrap();
    assert_eq!(second.containers.unchanged, 1);
    assert_eq!((second.blobs.unchanged, second.snapshots.unchanged), (4, 1));
    assert_eq!(second.blobs.created + second.blobs.replaced, 0);
    assert_eq!((second.tables.unchanged, second.entities.unchanged), (1, 2));
    assert_eq!((second.queues.unchanged, second.messages.unchanged), (1, 1));
    assert_eq!(second.services.unchanged, 1);

    let store = Store::open(&dst).unwrap();
    let (cont, acl) = store.get_container_acl(ACCOUNT, "cont1").unwrap();
    assert_eq!(cont.etag, "0x204AA5ACB27DDA0");
    assert_eq!(cont.public_access, PublicAccess::Blob);
    assert_eq!(
        cont.metadata,
        vec![("Team".to_string(), "blue".to_string())]
    );
    assert_eq!(acl[0].permission.as_deref(), Some("rl"));
    let snap = "2026-12-07T20:50:11.0580000Z";
    assert_eq!(read(&store, "dir/hello.txt", Some(snap)), b"hello world");
    assert_eq!(read(&store, "dir/hello.txt", None), b"hello again");
    let base = store
        .get_blob_properties(
            ACCOUNT,
            "cont1",
            "dir/hello.txt",
            &Conditions::default(),
            Access::Read,
            None,
        )
        .unwrap();
    assert_eq!(base.etag, "0x269C79FA5F23180");
    assert_eq!(
        base.lease.id.as_deref(),
        Some("fe22e649-44ae-4814-8f77-db4a67a72c1e")
    );
    assert_eq!(base.access_tier.map(|t| t.0), Some(AccessTier::Cool));
    assert_eq!(base.http.content_md5.as_ref().map(Vec::len), Some(16));
    let tags = store
        .get_blob_tags(
            ACCOUNT,
            "cont1",
            "dir/hello.txt",
            Some(snap),
            &Conditions::default(),
        )
        .unwrap();
    assert_eq!(tags, vec![("tag1".to_string(), "a".to_string())]);
    assert_eq!(read(&store, "blocks.bin", None), b"aaaabbbbbb");
    let lists = store
        .get_block_list(ACCOUNT, "cont1", "blocks.bin", BlockListFilter::All)
        .unwrap();
    assert_eq!(lists.committed.len(), 2);
    assert_eq!(lists.uncommitted[0].id, "WTJOag==");
    assert_eq!(read(&store, "app.log", None), b"line1\nline2\n");
    let page = read(&store, "disk.vhd", None);
    assert_eq!(page.len(), 4096);
    assert!(page[1024..1536].iter().all(|b| *b == 7) && page[..1024].iter().all(|b| *b == 0));

    let e = store.get_entity(ACCOUNT, "Types", "p", "r1").unwrap();
    let props = lapis_odata::decode_properties(&e.properties).unwrap();
    assert_eq!(
        props[0],
        ("s".to_string(), lapis_odata::EdmValue::String("str".into()))
    );
    assert_eq!(
        props[1],
        ("i64".to_string(), lapis_odata::EdmValue::Int64(1 << 40))
    );
    assert!(matches!(props[2].1, lapis_odata::EdmValue::Double(v) if v.is_nan()));
    assert_eq!(
        props[3].1,
        lapis_odata::EdmValue::Guid("12345678-1234-1234-1234-1234567890ab".into())
    );
    assert_eq!(e.timestamp.nanosecond(), 110_255_300);
    assert_eq!(store.get_table_acl(ACCOUNT, "Types").unwrap()[0].id, "tp");

    let q = store.get_queue(ACCOUNT, "queue1").unwrap();
    assert_eq!(
        q.metadata,
        vec![("Purpose".to_string(), "test".to_string())]
    );
    assert_eq!(q.approximate_message_count, 1);
    // The message is hidden until its time; its pop receipt from Azurite still deletes it.
    let now = time::OffsetDateTime::now_utc();
    store
        .delete_message(
            ACCOUNT,
            "queue1",
            "4344b747-4f10-4a82-bd70-c6b4012ffa15",
            "MDdEZWMyMDI2MjA6NTA6MTI5NGMy",
            now,
        )
        .unwrap();
    assert!(store
        .get_service_properties(ACCOUNT)
        .unwrap()
        .unwrap()
        .contains("http://a.example"));
    store.close().unwrap();
}

#[test]
fn a_damaged_database_imports_nothing_unless_asked_for_its_best() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("azurite"), tmp.path().join("lapis"));
    write_folder(&src);
    // The table database cut short, as a crash or a partial copy leaves it.
    let table = src.join("__azurite_db_table__.json");
    let text = std::fs::read_to_string(&table).unwrap();
    std::fs::write(&table, &text[..text.find("\"r2\"").unwrap()]).unwrap();
    // And an extent file gone.
    std::fs::remove_file(src.join("__blobstorage__/ext-2")).unwrap();

    let err = import(&options(&src, &dst, false)).unwrap_err();
    assert!(err.contains("__azurite_db_table__.json"), "{err}");
    assert!(err.contains("truncated"), "{err}");
    assert!(err.contains("disk.vhd") && err.contains("ext-2"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    let store = Store::open(&dst).unwrap();
    assert!(store
        .list_containers(ACCOUNT, None, None, 10)
        .unwrap()
        .items
        .is_empty());
    store.close().unwrap();
    drop(store);

    let summary = import(&options(&src, &dst, true)).unwrap();
    assert_eq!(summary.blobs.created, 3, "the page blob is left out");
    assert_eq!(
        summary.entities.created, 1,
        "the entity before the damage is kept"
    );
    assert_eq!(summary.problems.len(), 2, "{:?}", summary.problems);
    let text = summary.to_string();
    assert!(text.contains("damaged in the Azurite folder"), "{text}");
    assert!(text.contains("disk.vhd"), "{text}");
}

#[test]
fn a_folder_without_azurite_databases_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let err = import(&options(
        tmp.path(),
        &tmp.path().join("x").join("lapis"),
        false,
    ));
    assert!(err.is_err());
    let empty = tmp.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let err = import(&options(&empty, &tmp.path().join("lapis"), false)).unwrap_err();
    assert!(err.contains("no Azurite database"), "{err}");
}
