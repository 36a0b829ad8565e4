//! Integration tests of the engine's Azure semantics: containers, blobs, conditions (blocks and
//! block lists: `block_lists.rs`).

mod support;

use lapis_store::*;
use md5::{Digest, Md5};
use support::*;
use time::OffsetDateTime;

#[test]
fn container_crud_and_errors() {
    both(StoreOptions::default(), |s| {
        let p = s
            .create_container(
                ACCOUNT,
                "c1",
                &md(&[("b", "1"), ("A", "2")]),
                PublicAccess::Blob,
            )
            .unwrap();
        assert!(p.etag.starts_with("0x8D") && p.etag.len() == 17);
        assert!(matches!(
            s.create_container(ACCOUNT, "c1", &Vec::new(), PublicAccess::None),
            Err(StoreError::ContainerAlreadyExists)
        ));
        // Accounts never see each other's data.
        assert!(matches!(
            s.get_container("other", "c1"),
            Err(StoreError::ContainerNotFound)
        ));
        s.create_container("other", "c1", &Vec::new(), PublicAccess::None)
            .unwrap();

        let got = s.get_container(ACCOUNT, "c1").unwrap();
        assert_eq!(got, p);
        assert_eq!(got.metadata, md(&[("b", "1"), ("A", "2")]));

        let p2 = s
            .set_container_metadata(ACCOUNT, "c1", &md(&[("x", "y")]), &no_cond())
            .unwrap();
        assert_ne!(p2.etag, p.etag);
        assert_eq!(
            s.get_container(ACCOUNT, "c1").unwrap().metadata,
            md(&[("x", "y")])
        );
        let stale = Conditions {
            if_match: Some(EtagCondition::Tags(vec![p.etag.clone()])),
            ..Default::default()
        };
        assert!(matches!(
            s.set_container_metadata(ACCOUNT, "c1", &Vec::new(), &stale),
            Err(StoreError::ConditionNotMet)
        ));

        let ids = vec![SignedIdentifier {
            id: "p1".into(),
            start: None,
            expiry: Some("2030-01-01T00:00:00Z".into()),
            permission: Some("r".into()),
        }];
        let p3 = s
            .set_container_acl(ACCOUNT, "c1", PublicAccess::Container, &ids, &no_cond())
            .unwrap();
        assert_ne!(p3.etag, p2.etag);
        let (props, got_ids) = s.get_container_acl(ACCOUNT, "c1").unwrap();
        assert_eq!(
            (props.public_access, got_ids),
            (PublicAccess::Container, ids)
        );

        for n in ["c0", "c2", "d1"] {
            container(s, n);
        }
        let page = s.list_containers(ACCOUNT, Some("c"), None, 2).unwrap();
        let names: Vec<_> = page.items.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["c0", "c1"]);
        assert_eq!(page.next_marker.as_deref(), Some("c2"));
        let page = s
            .list_containers(ACCOUNT, Some("c"), page.next_marker.as_deref(), 2)
            .unwrap();
        assert_eq!(
            page.items
                .iter()
                .map(|c| c.name.as_str())
                .collect::<Vec<_>>(),
            ["c2"]
        );
        assert_eq!(page.next_marker, None);

        put(s, "c1", "blob", b"data");
        s.delete_container(ACCOUNT, "c1", &no_cond()).unwrap();
        assert!(matches!(
            s.get_container(ACCOUNT, "c1"),
            Err(StoreError::ContainerNotFound)
        ));
        assert!(matches!(
            s.delete_container(ACCOUNT, "c1", &no_cond()),
            Err(StoreError::ContainerNotFound)
        ));
        // Recreated container starts empty.
        container(s, "c1");
        assert!(s
            .list_blobs(
                ACCOUNT,
                "c1",
                &ListBlobsQuery {
                    max_results: 10,
                    ..Default::default()
                }
            )
            .unwrap()
            .items
            .is_empty());
        assert_eq!(s.get_service_properties(ACCOUNT).unwrap(), None);
        s.set_service_properties(ACCOUNT, "<StorageServiceProperties/>")
            .unwrap();
        assert_eq!(
            s.get_service_properties(ACCOUNT).unwrap().as_deref(),
            Some("<StorageServiceProperties/>")
        );
        assert_eq!(s.get_service_properties("other").unwrap(), None);
    });
}

#[test]
fn put_and_read_round_trip_with_ranges() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let data = pattern(100_000, 1);
        let http = BlobHttpProps {
            content_type: Some("text/plain".into()),
            ..Default::default()
        };
        let w = write(s, &data);
        let p = s
            .put_blob(
                ACCOUNT,
                "c",
                "a/b.txt",
                w,
                &http,
                &md(&[("k", "v")]),
                None,
                &no_cond(),
            )
            .unwrap();
        assert_eq!(p.size, 100_000);
        assert_eq!(
            p.http.content_md5.as_deref(),
            Some(Md5::digest(&data).as_slice())
        );
        let mut crc = crc64fast_nvme::Digest::new();
        crc.write(&data);
        assert_eq!(p.content_crc64, Some(crc.sum64()));
        assert_eq!(p.http.content_type.as_deref(), Some("text/plain"));

        assert_eq!(read(s, "c", "a/b.txt", None).unwrap(), data);
        let r = |start, end| read(s, "c", "a/b.txt", Some(ByteRange { start, end }));
        assert_eq!(r(10, Some(19)).unwrap(), &data[10..20]);
        assert_eq!(r(99_990, None).unwrap(), &data[99_990..]);
        assert_eq!(r(99_999, Some(500_000)).unwrap(), &data[99_999..]);
        assert!(matches!(r(100_000, None), Err(StoreError::InvalidRange)));

        let got = s
            .get_blob_properties(ACCOUNT, "c", "a/b.txt", &no_cond(), Access::Read, None)
            .unwrap();
        assert_eq!(got, p);

        // Overwrite keeps the creation time, changes etag, replaces everything else.
        std::thread::sleep(std::time::Duration::from_millis(5));
        let given_md5 = vec![7u8; 16];
        let http2 = BlobHttpProps {
            content_md5: Some(given_md5.clone()),
            ..Default::default()
        };
        let p2 = s
            .put_blob(
                ACCOUNT,
                "c",
                "a/b.txt",
                write(s, b"short"),
                &http2,
                &Vec::new(),
                None,
                &no_cond(),
            )
            .unwrap();
        assert_eq!(p2.created, p.created);
        assert!(p2.last_modified > p.last_modified);
        assert_ne!(p2.etag, p.etag);
        assert_eq!(p2.http, http2);
        assert!(p2.metadata.is_empty());
        assert_eq!(read(s, "c", "a/b.txt", None).unwrap(), b"short");

        // Empty blob: whole read is empty; any range is invalid.
        put(s, "c", "empty", b"");
        assert_eq!(read(s, "c", "empty", None).unwrap(), b"");
        assert!(matches!(
            read(
                s,
                "c",
                "empty",
                Some(ByteRange {
                    start: 0,
                    end: None
                })
            ),
            Err(StoreError::InvalidRange)
        ));

        let p3 = s
            .set_blob_metadata(
                ACCOUNT,
                "c",
                "a/b.txt",
                &md(&[("z", "1"), ("a", "2")]),
                &no_cond(),
                None,
            )
            .unwrap();
        assert_eq!(p3.metadata, md(&[("z", "1"), ("a", "2")]));
        assert_ne!(p3.etag, p2.etag);
        let http3 = BlobHttpProps {
            cache_control: Some("no-cache".into()),
            ..Default::default()
        };
        let p4 = s
            .set_blob_http_props(ACCOUNT, "c", "a/b.txt", &http3, &no_cond())
            .unwrap();
        assert_eq!((p4.http.clone(), p4.metadata.clone()), (http3, p3.metadata));
        assert_eq!(
            s.get_blob_properties(ACCOUNT, "c", "a/b.txt", &no_cond(), Access::Read, None)
                .unwrap(),
            p4
        );

        s.delete_blob(ACCOUNT, "c", "a/b.txt", &no_cond()).unwrap();
        assert!(matches!(
            read(s, "c", "a/b.txt", None),
            Err(StoreError::BlobNotFound)
        ));
        assert!(matches!(
            s.delete_blob(ACCOUNT, "c", "a/b.txt", &no_cond()),
            Err(StoreError::BlobNotFound)
        ));
        assert!(matches!(
            read(s, "nope", "x", None),
            Err(StoreError::ContainerNotFound)
        ));
        assert!(matches!(
            s.put_blob(
                ACCOUNT,
                "nope",
                "x",
                write(s, b"1"),
                &Default::default(),
                &Vec::new(),
                None,
                &no_cond(),
            ),
            Err(StoreError::ContainerNotFound)
        ));
    });
}

#[test]
fn twenty_mib_streams_through() {
    both(
        StoreOptions {
            extent_target_size: 8 * 1024 * 1024,
            ..Default::default()
        },
        |s| {
            container(s, "c");
            let data = pattern(20 * 1024 * 1024, 9);
            let mut w = s.blob_writer().unwrap();
            for piece in data.chunks(65_536) {
                w.write(piece).unwrap();
            }
            let wd = w.finish().unwrap();
            assert_eq!(wd.len, data.len() as u64);
            s.put_blob(
                ACCOUNT,
                "c",
                "big",
                wd,
                &Default::default(),
                &Vec::new(),
                None,
                &no_cond(),
            )
            .unwrap();
            let (props, mut r) = s
                .read_blob(ACCOUNT, "c", "big", None, &no_cond(), None)
                .unwrap();
            assert_eq!(props.size, data.len() as u64);
            let mut hasher = Md5::new();
            let mut total = 0usize;
            while let Some(chunk) = r.read_chunk(1 << 20).unwrap() {
                assert!(chunk.len() <= 1 << 20);
                hasher.update(&chunk);
                total += chunk.len();
            }
            assert_eq!(total, data.len());
            assert_eq!(hasher.finalize().as_slice(), Md5::digest(&data).as_slice());
            // A range spanning extents.
            let mid = 8 * 1024 * 1024 - 10;
            assert_eq!(
                read(
                    s,
                    "c",
                    "big",
                    Some(ByteRange {
                        start: mid,
                        end: Some(mid + 99)
                    })
                )
                .unwrap(),
                &data[mid as usize..mid as usize + 100]
            );
        },
    );
}

#[test]
fn a_writer_without_md5_gives_the_same_bytes_and_crc64_and_no_md5() {
    both(StoreOptions::default(), |s| {
        let data = pattern(3 * 1024 * 1024 + 17, 4);
        let write = |w: BlobWriter| {
            let mut w = w;
            for piece in data.chunks(100_000) {
                w.write(piece).unwrap();
            }
            w.finish().unwrap()
        };
        let full = write(s.blob_writer().unwrap());
        let lean = write(s.blob_writer().unwrap().without_md5());
        assert_eq!(full.md5, Some(<[u8; 16]>::from(Md5::digest(&data))));
        assert_eq!(lean.md5, None);
        assert_eq!((lean.len, lean.crc64), (full.len, full.crc64));
    });
}

#[test]
fn blob_conditions_read_vs_write() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let p = put(s, "c", "b", b"x");
        let tag = |t: &str| Some(EtagCondition::Tags(vec![t.to_string()]));
        let past = OffsetDateTime::now_utc() - time::Duration::hours(1);
        let future = OffsetDateTime::now_utc() + time::Duration::hours(1);
        let props = |c: Conditions, a| s.get_blob_properties(ACCOUNT, "c", "b", &c, a, None);

        assert!(props(
            Conditions {
                if_match: tag(&p.etag),
                ..Default::default()
            },
            Access::Read
        )
        .is_ok());
        assert!(matches!(
            props(
                Conditions {
                    if_match: tag("0x8D0"),
                    ..Default::default()
                },
                Access::Read
            ),
            Err(StoreError::ConditionNotMet)
        ));
        assert!(matches!(
            props(
                Conditions {
                    if_none_match: tag(&p.etag),
                    ..Default::default()
                },
                Access::Read
            ),
            Err(StoreError::NotModified)
        ));
        assert!(matches!(
            props(
                Conditions {
                    if_none_match: tag(&p.etag),
                    ..Default::default()
                },
                Access::Write
            ),
            Err(StoreError::ConditionNotMet)
        ));
        assert!(matches!(
            props(
                Conditions {
                    if_modified_since: Some(future),
                    ..Default::default()
                },
                Access::Read
            ),
            Err(StoreError::NotModified)
        ));
        assert!(props(
            Conditions {
                if_modified_since: Some(past),
                ..Default::default()
            },
            Access::Read
        )
        .is_ok());
        assert!(matches!(
            props(
                Conditions {
                    if_unmodified_since: Some(past),
                    ..Default::default()
                },
                Access::Read
            ),
            Err(StoreError::ConditionNotMet)
        ));
        assert!(matches!(
            s.read_blob(
                ACCOUNT,
                "c",
                "b",
                None,
                &Conditions {
                    if_none_match: Some(EtagCondition::Any),
                    ..Default::default()
                },
                None,
            ),
            Err(StoreError::NotModified)
        ));

        // Writes: a failed condition changes nothing.
        let stale = Conditions {
            if_match: tag("0x8D0000000000000"),
            ..Default::default()
        };
        assert!(matches!(
            s.set_blob_metadata(ACCOUNT, "c", "b", &Vec::new(), &stale, None),
            Err(StoreError::ConditionNotMet)
        ));
        assert!(matches!(
            s.delete_blob(ACCOUNT, "c", "b", &stale),
            Err(StoreError::ConditionNotMet)
        ));
        let ims = Conditions {
            if_modified_since: Some(future),
            ..Default::default()
        };
        assert!(matches!(
            s.set_blob_http_props(ACCOUNT, "c", "b", &Default::default(), &ims),
            Err(StoreError::ConditionNotMet)
        ));
        let star_none = Conditions {
            if_none_match: Some(EtagCondition::Any),
            ..Default::default()
        };
        assert!(matches!(
            s.put_blob(
                ACCOUNT,
                "c",
                "b",
                write(s, b"y"),
                &Default::default(),
                &Vec::new(),
                None,
                &star_none,
            ),
            Err(StoreError::ConditionNotMet)
        ));
        assert_eq!(read(s, "c", "b", None).unwrap(), b"x");
        assert_eq!(
            s.get_blob_properties(ACCOUNT, "c", "b", &no_cond(), Access::Read, None)
                .unwrap()
                .etag,
            p.etag
        );

        // Missing blob: Put with If-Match is 412, other operations say BlobNotFound first.
        let any = Conditions {
            if_match: Some(EtagCondition::Any),
            ..Default::default()
        };
        assert!(matches!(
            s.put_blob(
                ACCOUNT,
                "c",
                "new",
                write(s, b"y"),
                &Default::default(),
                &Vec::new(),
                None,
                &any,
            ),
            Err(StoreError::ConditionNotMet)
        ));
        assert!(matches!(
            s.put_block_list(
                ACCOUNT,
                "c",
                "new",
                &[],
                &Default::default(),
                &Vec::new(),
                None,
                &any,
                None,
            ),
            Err(StoreError::ConditionNotMet)
        ));
        assert!(matches!(
            s.get_blob_properties(ACCOUNT, "c", "new", &any, Access::Read, None),
            Err(StoreError::BlobNotFound)
        ));
        assert!(matches!(
            s.delete_blob(ACCOUNT, "c", "new", &any),
            Err(StoreError::BlobNotFound)
        ));
        assert!(matches!(
            s.set_blob_metadata(ACCOUNT, "c", "new", &Vec::new(), &any, None),
            Err(StoreError::BlobNotFound)
        ));
        // If-None-Match:* creates a new blob.
        s.put_blob(
            ACCOUNT,
            "c",
            "new",
            write(s, b"y"),
            &Default::default(),
            &Vec::new(),
            None,
            &star_none,
        )
        .unwrap();
        // Matching write condition succeeds.
        let ok = Conditions {
            if_match: tag(&p.etag),
            if_unmodified_since: Some(future),
            ..Default::default()
        };
        s.delete_blob(ACCOUNT, "c", "b", &ok).unwrap();
    });
}
