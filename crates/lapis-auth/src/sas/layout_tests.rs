//! Golden strings to sign, written by hand from the "Create a service SAS" / "Create an account SAS" layouts.

use super::*;

fn blob_params(version: &str) -> SasParams {
    SasParams {
        version: version.into(),
        permissions: "rw".into(),
        start: "2026-01-01T00:00:00Z".into(),
        expiry: "2026-01-02T00:00:00Z".into(),
        identifier: "policy1".into(),
        ip: "127.0.0.1".into(),
        protocol: "https,http".into(),
        resource: "b".into(),
        snapshot: "2026-01-01T00:00:00.0000000Z".into(),
        encryption_scope: "scope".into(),
        cache_control: "no-cache".into(),
        content_disposition: "inline".into(),
        content_encoding: "gzip".into(),
        content_language: "en".into(),
        content_type: "text/plain".into(),
        ..SasParams::default()
    }
}

#[test]
fn blob_layout_2020_12_06_has_encryption_scope() {
    let p = blob_params("2020-12-06");
    let resource = blob_resource(&p.version, "acc", "cont", Some("dir/a b.txt"));
    assert_eq!(resource, "/blob/acc/cont/dir/a b.txt");
    assert_eq!(
        blob_service(&p, &resource),
        "rw\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/blob/acc/cont/dir/a b.txt\npolicy1\n127.0.0.1\nhttps,http\n\
         2020-12-06\nb\n2026-01-01T00:00:00.0000000Z\nscope\nno-cache\ninline\ngzip\nen\ntext/plain"
    );
}

#[test]
fn blob_layout_2019_12_12_and_2018_11_09_have_resource_and_snapshot() {
    for version in ["2018-11-09", "2019-12-12", "2020-10-02"] {
        let p = blob_params(version);
        assert_eq!(
            blob_service(&p, "/blob/acc/cont"),
            format!(
                "rw\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/blob/acc/cont\npolicy1\n127.0.0.1\nhttps,http\n\
                 {version}\nb\n2026-01-01T00:00:00.0000000Z\nno-cache\ninline\ngzip\nen\ntext/plain"
            )
        );
    }
}

#[test]
fn blob_layout_2015_04_05_has_ip_and_protocol_only() {
    let p = blob_params("2015-04-05");
    assert_eq!(
        blob_service(&p, "/blob/acc/cont"),
        "rw\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/blob/acc/cont\npolicy1\n127.0.0.1\nhttps,http\n\
         2015-04-05\nno-cache\ninline\ngzip\nen\ntext/plain"
    );
}

#[test]
fn blob_layouts_before_2015() {
    let p = blob_params("2013-08-15");
    let resource = blob_resource(&p.version, "acc", "cont", None);
    assert_eq!(resource, "/acc/cont");
    assert_eq!(
        blob_service(&p, &resource),
        "rw\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/acc/cont\npolicy1\n2013-08-15\nno-cache\ninline\ngzip\nen\ntext/plain"
    );
    let p = blob_params("2012-02-12");
    assert_eq!(
        blob_service(&p, "/acc/cont"),
        "rw\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/acc/cont\npolicy1\n2012-02-12"
    );
}

#[test]
fn empty_fields_stay_as_empty_lines() {
    let p = SasParams {
        version: "2020-12-06".into(),
        permissions: "r".into(),
        expiry: "2026-01-02".into(),
        resource: "c".into(),
        ..SasParams::default()
    };
    assert_eq!(
        blob_service(&p, "/blob/acc/cont"),
        "r\n\n2026-01-02\n/blob/acc/cont\n\n\n\n2020-12-06\nc\n\n\n\n\n\n\n"
    );
}

#[test]
fn table_layout_lowercases_the_table_and_ends_with_keys() {
    let p = SasParams {
        version: "2019-02-02".into(),
        permissions: "raud".into(),
        expiry: "2026-01-02T00:00:00Z".into(),
        protocol: "https".into(),
        start_pk: "p1".into(),
        end_rk: "r9".into(),
        ..SasParams::default()
    };
    let resource = table_resource(&p.version, "acc", "MyTable");
    assert_eq!(resource, "/table/acc/mytable");
    assert_eq!(
        table_service(&p, &resource),
        "raud\n\n2026-01-02T00:00:00Z\n/table/acc/mytable\n\n\nhttps\n2019-02-02\np1\n\n\nr9"
    );
    let old = SasParams {
        version: "2013-08-15".into(),
        ..p
    };
    assert_eq!(
        table_service(&old, "/acc/mytable"),
        "raud\n\n2026-01-02T00:00:00Z\n/acc/mytable\n\n2013-08-15\np1\n\n\nr9"
    );
}

#[test]
fn account_layout_ends_with_newline() {
    let mut p = SasParams {
        version: "2019-12-12".into(),
        permissions: "rwdlacup".into(),
        services: "bt".into(),
        resource_types: "sco".into(),
        expiry: "2026-01-02T00:00:00Z".into(),
        encryption_scope: "scope".into(),
        ..SasParams::default()
    };
    assert_eq!(
        account(&p, "acc"),
        "acc\nrwdlacup\nbt\nsco\n\n2026-01-02T00:00:00Z\n\n\n2019-12-12\n"
    );
    p.version = "2020-12-06".into();
    assert_eq!(
        account(&p, "acc"),
        "acc\nrwdlacup\nbt\nsco\n\n2026-01-02T00:00:00Z\n\n\n2020-12-06\nscope\n"
    );
}

fn queue_params(version: &str) -> SasParams {
    SasParams {
        version: version.into(),
        permissions: "raup".into(),
        start: "2026-01-01T00:00:00Z".into(),
        expiry: "2026-01-02T00:00:00Z".into(),
        identifier: "policy1".into(),
        ip: "127.0.0.1".into(),
        protocol: "https".into(),
        // Fields of other kinds of SAS: a queue SAS signs none of them.
        resource: "c".into(),
        snapshot: "2026-01-01T00:00:00.0000000Z".into(),
        encryption_scope: "scope".into(),
        content_type: "text/plain".into(),
        start_pk: "p1".into(),
        ..SasParams::default()
    }
}

#[test]
fn queue_layouts_by_version() {
    // 2015-04-05 and later, the newest included: IP and protocol before the version, nothing after.
    for version in ["2015-04-05", "2020-12-06", "2026-10-06"] {
        let p = queue_params(version);
        let resource = queue_resource(&p.version, "acc", "orders");
        assert_eq!(resource, "/queue/acc/orders");
        assert_eq!(
            queue_service(&p, &resource),
            format!(
                "raup\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/queue/acc/orders\npolicy1\n127.0.0.1\nhttps\n{version}"
            )
        );
    }
    // 2015-02-21: the service prefix, no IP or protocol.
    let p = queue_params("2015-02-21");
    let resource = queue_resource(&p.version, "acc", "orders");
    assert_eq!(
        queue_service(&p, &resource),
        "raup\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/queue/acc/orders\npolicy1\n2015-02-21"
    );
    // Before 2015-02-21: "/account/queue".
    let p = queue_params("2012-02-12");
    let resource = queue_resource(&p.version, "acc", "orders");
    assert_eq!(resource, "/acc/orders");
    assert_eq!(
        queue_service(&p, &resource),
        "raup\n2026-01-01T00:00:00Z\n2026-01-02T00:00:00Z\n/acc/orders\npolicy1\n2012-02-12"
    );
}

#[test]
fn queue_layout_keeps_empty_fields() {
    let p = SasParams {
        version: "2026-10-06".into(),
        permissions: "p".into(),
        expiry: "2026-01-02".into(),
        ..SasParams::default()
    };
    assert_eq!(
        queue_service(&p, "/queue/acc/q"),
        "p\n\n2026-01-02\n/queue/acc/q\n\n\n\n2026-10-06"
    );
}
