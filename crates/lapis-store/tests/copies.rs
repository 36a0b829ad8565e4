//! Copies within the engine share the source's bytes and outlive it.

mod support;

use std::time::Duration;

use lapis_store::*;
use support::*;

fn source(blob: &str) -> CopySource {
    CopySource {
        account: ACCOUNT.into(),
        container: "c".into(),
        blob: blob.into(),
        snapshot: None,
        cond: Conditions::default(),
    }
}

#[test]
fn a_copy_shares_bytes_and_outlives_its_source() {
    let opts = StoreOptions {
        extent_target_size: 64 * 1024,
        gc_interval: Duration::from_secs(3600),
        ..Default::default()
    };
    both(opts, |s| {
        container(s, "c");
        let data: Vec<u8> = (0..500_000u32).map(|i| (i % 253) as u8).collect();
        put(s, "c", "src", &data);
        let before = s.stats().unwrap().extent_bytes;
        let into = CopyInto {
            source_url: "http://127.0.0.1/devstoreaccount1/c/src".into(),
            ..Default::default()
        };
        let done = s
            .copy_blob(&source("src"), ACCOUNT, "c", "dst", into, &no_cond())
            .unwrap();
        assert_eq!(done.size, data.len() as u64);
        assert_eq!(
            s.stats().unwrap().extent_bytes,
            before,
            "a copy wrote bytes"
        );
        s.delete_blob(ACCOUNT, "c", "src", &no_cond()).unwrap();
        s.collect_garbage().unwrap();
        s.collect_garbage().unwrap();
        assert_eq!(read(s, "c", "dst", None).unwrap(), data);
        let props = s
            .get_blob_properties(ACCOUNT, "c", "dst", &no_cond(), Access::Read, None)
            .unwrap();
        let copy = props.copy.unwrap();
        assert_eq!((copy.status.as_str(), copy.id), ("success", done.copy_id));
    });
}

#[test]
fn a_missing_source_and_failed_conditions_say_which_side() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        put(s, "c", "src", b"x");
        put(s, "c", "dst", b"y");
        let refused = |r: Result<CopyDone>| match r {
            Err(StoreError::Refused(r)) => r,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            refused(s.copy_blob(
                &source("none"),
                ACCOUNT,
                "c",
                "dst",
                CopyInto::default(),
                &no_cond()
            )),
            Refusal::CopySourceNotFound
        );
        let mut src = source("src");
        src.cond.if_match = Some(EtagCondition::Tags(vec!["nope".into()]));
        assert_eq!(
            refused(s.copy_blob(&src, ACCOUNT, "c", "dst", CopyInto::default(), &no_cond())),
            Refusal::SourceConditionNotMet
        );
        let dest_cond = Conditions {
            if_match: Some(EtagCondition::Tags(vec!["nope".into()])),
            ..Default::default()
        };
        assert_eq!(
            refused(s.copy_blob(
                &source("src"),
                ACCOUNT,
                "c",
                "dst",
                CopyInto::default(),
                &dest_cond
            )),
            Refusal::TargetConditionNotMet
        );
        // A blob copied onto itself keeps its content.
        s.copy_blob(
            &source("src"),
            ACCOUNT,
            "c",
            "src",
            CopyInto::default(),
            &no_cond(),
        )
        .unwrap();
        assert_eq!(read(s, "c", "src", None).unwrap(), b"x");
    });
}

#[test]
fn fetched_bytes_become_a_block_blob_that_records_its_copy() {
    both(StoreOptions::default(), |s| {
        container(s, "c");
        let source_http = BlobHttpProps {
            content_type: Some("text/plain".into()),
            cache_control: Some("no-cache".into()),
            ..Default::default()
        };
        let into = CopyInto {
            source_url: "http://elsewhere.example/file.txt".into(),
            tags: vec![("k".into(), "v".into())],
            ..Default::default()
        };
        let done = s
            .copy_fetched(
                write(s, b"fetched"),
                source_http.clone(),
                md(&[("from", "source")]),
                ACCOUNT,
                "c",
                "dst",
                into,
                &no_cond(),
            )
            .unwrap();
        assert_eq!(read(s, "c", "dst", None).unwrap(), b"fetched");
        let props = s
            .get_blob_properties(ACCOUNT, "c", "dst", &no_cond(), Access::Read, None)
            .unwrap();
        assert_eq!(props.blob_type, BlobType::BlockBlob);
        assert_eq!(props.http.content_type.as_deref(), Some("text/plain"));
        assert_eq!(props.http.cache_control.as_deref(), Some("no-cache"));
        assert_eq!(props.metadata, md(&[("from", "source")]));
        assert_eq!(props.tag_count, 1);
        let copy = props.copy.unwrap();
        assert_eq!(copy.id, done.copy_id);
        assert_eq!(copy.status, "success");
        assert_eq!(copy.source, "http://elsewhere.example/file.txt");
        assert_eq!(copy.progress, "7/7");
        assert!(copy.completed.is_some());

        // What the request gives replaces the source's; a failed destination condition is
        // the target's.
        let into = CopyInto {
            source_url: "http://elsewhere.example/file.txt".into(),
            metadata: Some(md(&[("mine", "1")])),
            ..Default::default()
        };
        s.copy_fetched(
            write(s, b"again"),
            source_http.clone(),
            md(&[("from", "source")]),
            ACCOUNT,
            "c",
            "dst",
            into,
            &no_cond(),
        )
        .unwrap();
        let props = s
            .get_blob_properties(ACCOUNT, "c", "dst", &no_cond(), Access::Read, None)
            .unwrap();
        assert_eq!(props.metadata, md(&[("mine", "1")]));
        let dest_cond = Conditions {
            if_match: Some(EtagCondition::Tags(vec!["nope".into()])),
            ..Default::default()
        };
        let refused = s.copy_fetched(
            write(s, b"no"),
            source_http,
            Metadata::default(),
            ACCOUNT,
            "c",
            "dst",
            CopyInto::default(),
            &dest_cond,
        );
        assert!(matches!(
            refused,
            Err(StoreError::Refused(Refusal::TargetConditionNotMet))
        ));
        assert_eq!(read(s, "c", "dst", None).unwrap(), b"again");
    });
}
