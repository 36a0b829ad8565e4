//! The measured operations: each is set up, warmed up, then run a fixed number of times between
//! a zeroing of callgrind's counters and a dump under the operation's name.

use std::ffi::CStr;
use std::net::SocketAddr;

use base64::Engine;
use lapis_benches::{payload, ENTITY_JSON};

use crate::callgrind;
use crate::client::{request, Client};

const VERSION: &str = "2025-11-05";
const ACCOUNT: &str = "/devstoreaccount1";
const WARMUP: usize = 5;

/// One operation of the ratchet: its name (as in the baseline file) and how many times it is
/// measured.
pub struct Operation {
    pub name: &'static CStr,
    pub runs: usize,
}

/// Every operation, in the order they run.
pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: c"PutBlob4KiB",
        runs: 100,
    },
    Operation {
        name: c"GetBlob4KiB",
        runs: 100,
    },
    Operation {
        name: c"LeasedPutBlob4KiB",
        runs: 100,
    },
    Operation {
        name: c"GetBlob1MiBRange",
        runs: 20,
    },
    Operation {
        name: c"ListBlobs1000",
        runs: 10,
    },
    Operation {
        name: c"PutBlockList100",
        runs: 20,
    },
    Operation {
        name: c"InsertEntity",
        runs: 100,
    },
    Operation {
        name: c"PointGetEntity",
        runs: 100,
    },
    Operation {
        name: c"QueryEntities300",
        runs: 10,
    },
    Operation {
        name: c"Batch100Inserts",
        runs: 10,
    },
];

fn runs(name: &CStr) -> usize {
    OPERATIONS
        .iter()
        .find(|o| o.name == name)
        .map_or(0, |o| o.runs)
}

/// Sends every request of `setup`, then `WARMUP` of `measured` unmeasured, then the rest
/// between the zeroing and the dump; every answer must have `status`.
fn measure(client: &mut Client, quiet: &dyn Fn(), name: &CStr, status: u16, measured: &[Vec<u8>]) {
    assert_eq!(measured.len(), WARMUP + runs(name), "{name:?}");
    for r in &measured[..WARMUP] {
        assert_eq!(client.send(r), status, "{name:?} warm-up");
    }
    // The setup's writes are checkpointed now, not by the background pass in the middle of
    // the measurement, where timing would decide how much of that work is counted.
    quiet();
    callgrind::zero_stats();
    let mut ok = true;
    for r in &measured[WARMUP..] {
        ok &= client.send(r) == status;
    }
    callgrind::dump_stats_at(name);
    assert!(ok, "{name:?}: an answer was not {status}");
}

fn setup(client: &mut Client, requests: impl IntoIterator<Item = Vec<u8>>, status: u16) {
    for r in requests {
        assert_eq!(client.send(&r), status, "setup");
    }
}

/// The Blob service's operations.
pub fn blob(addr: SocketAddr, sas: &str, quiet: &dyn Fn()) {
    let mut c = Client::connect(addr);
    let common = [("x-ms-version", VERSION)];
    let put = |path: String, body: &[u8]| {
        request(
            "PUT",
            &format!("{ACCOUNT}/{path}?{sas}"),
            &[("x-ms-version", VERSION), ("x-ms-blob-type", "BlockBlob")],
            body,
        )
    };
    let get = |path: &str, extra: &[(&str, &str)]| {
        let mut headers = common.to_vec();
        headers.extend_from_slice(extra);
        request("GET", &format!("{ACCOUNT}/{path}?{sas}"), &headers, b"")
    };
    for container in ["icount", "iclist"] {
        let create = request(
            "PUT",
            &format!("{ACCOUNT}/{container}?restype=container&{sas}"),
            &common,
            b"",
        );
        setup(&mut c, [create], 201);
    }

    let body = payload(4096);
    let n = WARMUP + runs(c"PutBlob4KiB");
    let puts: Vec<Vec<u8>> = (0..n)
        .map(|i| put(format!("icount/put-{i}"), &body))
        .collect();
    measure(&mut c, quiet, c"PutBlob4KiB", 201, &puts);

    let gets = vec![get("icount/put-0", &[]); WARMUP + runs(c"GetBlob4KiB")];
    measure(&mut c, quiet, c"GetBlob4KiB", 200, &gets);

    // A Put Blob over a leased blob, naming its lease: the lease check on every write.
    const LEASE: &str = "5a5a5a5a-0000-4000-8000-000000000001";
    let acquire = request(
        "PUT",
        &format!("{ACCOUNT}/icount/put-1?comp=lease&{sas}"),
        &[
            ("x-ms-version", VERSION),
            ("x-ms-lease-action", "acquire"),
            ("x-ms-lease-duration", "-1"),
            ("x-ms-proposed-lease-id", LEASE),
        ],
        b"",
    );
    setup(&mut c, [acquire], 201);
    let leased_put = request(
        "PUT",
        &format!("{ACCOUNT}/icount/put-1?{sas}"),
        &[
            ("x-ms-version", VERSION),
            ("x-ms-blob-type", "BlockBlob"),
            ("x-ms-lease-id", LEASE),
        ],
        &body,
    );
    let leased = vec![leased_put; WARMUP + runs(c"LeasedPutBlob4KiB")];
    measure(&mut c, quiet, c"LeasedPutBlob4KiB", 201, &leased);

    setup(&mut c, [put("icount/big".into(), &payload(4 << 20))], 201);
    let range = [("x-ms-range", "bytes=1048576-2097151")];
    let ranged = vec![get("icount/big", &range); WARMUP + runs(c"GetBlob1MiBRange")];
    measure(&mut c, quiet, c"GetBlob1MiBRange", 206, &ranged);

    setup(
        &mut c,
        (0..1000).map(|i| put(format!("iclist/d{}/b{i:04}", i % 10), b"")),
        201,
    );
    let list = request(
        "GET",
        &format!("{ACCOUNT}/iclist?restype=container&comp=list&maxresults=1000&{sas}"),
        &common,
        b"",
    );
    measure(
        &mut c,
        quiet,
        c"ListBlobs1000",
        200,
        &vec![list; WARMUP + runs(c"ListBlobs1000")],
    );

    let ids: Vec<String> = (0u32..100)
        .map(|i| base64::engine::general_purpose::STANDARD.encode(i.to_be_bytes()))
        .collect();
    let block = payload(1024);
    setup(
        &mut c,
        ids.iter().map(|id| {
            let id = id
                .replace('+', "%2B")
                .replace('/', "%2F")
                .replace('=', "%3D");
            request(
                "PUT",
                &format!("{ACCOUNT}/icount/blocks?comp=block&blockid={id}&{sas}"),
                &common,
                &block,
            )
        }),
        201,
    );
    let list_xml: String = ids
        .iter()
        .map(|id| format!("<Latest>{id}</Latest>"))
        .collect();
    let commit = request(
        "PUT",
        &format!("{ACCOUNT}/icount/blocks?comp=blocklist&{sas}"),
        &common,
        format!("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>{list_xml}</BlockList>")
            .as_bytes(),
    );
    measure(
        &mut c,
        quiet,
        c"PutBlockList100",
        201,
        &vec![commit; WARMUP + runs(c"PutBlockList100")],
    );
}

/// The Table service's operations.
pub fn table(addr: SocketAddr, sas: &str, quiet: &dyn Fn()) {
    let mut c = Client::connect(addr);
    let json = [
        ("x-ms-version", "2019-02-02"),
        ("DataServiceVersion", "3.0"),
        ("Accept", "application/json;odata=minimalmetadata"),
        ("Content-Type", "application/json"),
    ];
    let mut no_content = json.to_vec();
    no_content.push(("Prefer", "return-no-content"));
    for name in ["icount", "icquery", "icbatch"] {
        let create = request(
            "POST",
            &format!("{ACCOUNT}/Tables?{sas}"),
            &no_content,
            format!("{{\"TableName\":\"{name}\"}}").as_bytes(),
        );
        setup(&mut c, [create], 204);
    }
    let entity = |pk: &str, rk: &str| {
        ENTITY_JSON
            .replace("\"p07\"", &format!("\"{pk}\""))
            .replace("\"r000123\"", &format!("\"{rk}\""))
    };

    let n = WARMUP + runs(c"InsertEntity");
    let inserts: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            request(
                "POST",
                &format!("{ACCOUNT}/icount?{sas}"),
                &no_content,
                entity("p07", &format!("r{i:06}")).as_bytes(),
            )
        })
        .collect();
    measure(&mut c, quiet, c"InsertEntity", 204, &inserts);

    let point = request(
        "GET",
        &format!("{ACCOUNT}/icount(PartitionKey='p07',RowKey='r000001')?{sas}"),
        &json,
        b"",
    );
    measure(
        &mut c,
        quiet,
        c"PointGetEntity",
        200,
        &vec![point; WARMUP + runs(c"PointGetEntity")],
    );

    // 600 rows in one partition, Count 0..599: the filter keeps 300.
    setup(
        &mut c,
        (0..600).map(|i| {
            let body = entity("p", &format!("r{i:04}"))
                .replace("\"Count\":123", &format!("\"Count\":{i}"));
            request(
                "POST",
                &format!("{ACCOUNT}/icquery?{sas}"),
                &no_content,
                body.as_bytes(),
            )
        }),
        204,
    );
    let filter = "PartitionKey%20eq%20'p'%20and%20Count%20ge%20300";
    let query = request(
        "GET",
        &format!("{ACCOUNT}/icquery()?$filter={filter}&{sas}"),
        &json,
        b"",
    );
    measure(
        &mut c,
        quiet,
        c"QueryEntities300",
        200,
        &vec![query; WARMUP + runs(c"QueryEntities300")],
    );

    let n = WARMUP + runs(c"Batch100Inserts");
    let batches: Vec<Vec<u8>> = (0..n)
        .map(|i| {
            let body = batch_body(
                &format!("http://127.0.0.1{ACCOUNT}/icbatch"),
                &format!("p{i}"),
                &entity,
            );
            let mut headers = json.to_vec();
            headers.retain(|(k, _)| *k != "Content-Type");
            headers.push(("Content-Type", "multipart/mixed; boundary=batch_b1"));
            request(
                "POST",
                &format!("{ACCOUNT}/$batch?{sas}"),
                &headers,
                body.as_bytes(),
            )
        })
        .collect();
    measure(&mut c, quiet, c"Batch100Inserts", 202, &batches);
}

/// A `$batch` body of 100 inserts into partition `pk`.
fn batch_body(table_url: &str, pk: &str, entity: &dyn Fn(&str, &str) -> String) -> String {
    let mut parts = vec![
        "--batch_b1".to_string(),
        "Content-Type: multipart/mixed; boundary=changeset_c1".to_string(),
        String::new(),
    ];
    for i in 0..100 {
        parts.extend(
            [
                "--changeset_c1",
                "Content-Type: application/http",
                "Content-Transfer-Encoding: binary",
                "",
            ]
            .map(String::from),
        );
        parts.push(format!("POST {table_url} HTTP/1.1"));
        parts.extend(
            [
                "Content-Type: application/json",
                "Accept: application/json;odata=minimalmetadata",
                "Prefer: return-no-content",
                "DataServiceVersion: 3.0",
            ]
            .map(String::from),
        );
        parts.push(format!("Content-ID: {i}"));
        parts.push(String::new());
        parts.push(entity(pk, &format!("r{i:05}")));
    }
    parts.extend(["--changeset_c1--", "", "--batch_b1--", ""].map(String::from));
    parts.join("\r\n")
}
