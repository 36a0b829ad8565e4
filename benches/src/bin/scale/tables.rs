//! M entities in one table, loaded by `$batch` of 100, then key, property and point queries.

use std::cell::Cell;
use std::sync::Arc;

use crate::http::{check, count, median_ms, send, Target, TABLE_VERSION};
use crate::load;
use crate::report::{int, Report};

const TABLE: &str = "scale";
const BATCHES_IN_FLIGHT: usize = 16;
/// Entities per `$batch`, all in one partition: Azure's limit for one changeset.
const PER_BATCH: u64 = 100;
/// Rows per partition: partitions are `p0`, `p1`, ... with rows `r0000` .. `r0999`.
pub const PER_PARTITION: u64 = 1000;
const NOMETADATA: &str = "application/json;odata=nometadata";

/// A table request with the headers the Tables SDKs send.
fn request(target: &Target, method: reqwest::Method, url: reqwest::Url) -> reqwest::RequestBuilder {
    target
        .client
        .request(method, url)
        .header("x-ms-version", TABLE_VERSION)
        .header("DataServiceVersion", "3.0")
        .header("Accept", NOMETADATA)
}

pub async fn run(target: Arc<Target>, m: u64, report: &mut Report) -> Result<(), String> {
    let url = target.url(&target.table, "/Tables", &[]);
    let req = request(&target, reqwest::Method::POST, url)
        .header("Content-Type", "application/json")
        .body(format!(r#"{{"TableName":"{TABLE}"}}"#));
    send(req).await?.expect(201, "create table")?;

    let run = load::run(
        "entity $batch",
        m / PER_BATCH,
        BATCHES_IN_FLIGHT,
        target.pid,
        {
            let target = target.clone();
            move |j| insert_batch(target.clone(), j)
        },
    )
    .await;
    if run.failures > 0 {
        let first = run.first_failure.unwrap_or_default();
        return Err(format!("{} batches failed; first: {first}", run.failures));
    }
    let what = format!("{} entities by $batch of 100 (16 in flight)", int(m));
    report.load(&what, "entities/s", PER_BATCH, &run);
    queries(&target, m, report).await
}

/// One entity: a string, an Int32, an Int64 (sent as a string, as the SDKs do), a double, a bool.
fn entity_json(partition: u64, row: u64) -> String {
    format!(
        concat!(
            r#"{{"PartitionKey":"p{p}","RowKey":"r{r:04}","Name":"entity-{p}-{r}","Num":{r},"#,
            r#""Count":"{r}","Count@odata.type":"Edm.Int64","#,
            r#""Price":{r}.25,"Price@odata.type":"Edm.Double","Active":{a}}}"#
        ),
        p = partition,
        r = row,
        a = row.is_multiple_of(2)
    )
}

/// Batch `j` inserts rows `(j % 10) * 100 ..` of partition `j / 10` in one changeset, laid out
/// as the Tables SDKs send it (see benches/compare/lua/table_batch.lua).
fn batch_body(table_url: &str, j: u64) -> String {
    let per_partition = PER_PARTITION / PER_BATCH;
    let (partition, first_row) = (j / per_partition, (j % per_partition) * PER_BATCH);
    let mut body = String::with_capacity(64 * 1024);
    body.push_str(
        "--batch_scale\r\nContent-Type: multipart/mixed; boundary=changeset_scale\r\n\r\n",
    );
    for (id, row) in (first_row..first_row + PER_BATCH).enumerate() {
        body.push_str("--changeset_scale\r\n");
        body.push_str(
            "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n",
        );
        body.push_str(&format!("POST {table_url}/{TABLE} HTTP/1.1\r\n"));
        body.push_str(
            "Content-Type: application/json\r\nAccept: application/json;odata=minimalmetadata\r\n",
        );
        body.push_str("Prefer: return-no-content\r\nDataServiceVersion: 3.0\r\n");
        body.push_str(&format!("Content-ID: {}\r\n\r\n", id + 1));
        body.push_str(&entity_json(partition, row));
        body.push_str("\r\n");
    }
    body.push_str("--changeset_scale--\r\n\r\n--batch_scale--\r\n");
    body
}

async fn insert_batch(target: Arc<Target>, j: u64) -> Result<(), String> {
    let url = target.url(&target.table, "/$batch", &[]);
    let req = request(&target, reqwest::Method::POST, url)
        .header("Content-Type", "multipart/mixed; boundary=batch_scale")
        .body(batch_body(&target.table, j));
    let reply = send(req).await?.expect(202, "$batch")?;
    let inner = count(&reply.body, "HTTP/1.1 ");
    let ok = count(&reply.body, "HTTP/1.1 204") + count(&reply.body, "HTTP/1.1 201");
    check(
        &format!("batch {j}, inner responses"),
        inner,
        PER_BATCH as usize,
    )?;
    let first_line = reply
        .body
        .lines()
        .find(|l| l.starts_with("HTTP/1.1 ") && !l.contains(" 20"));
    check(
        &format!("batch {j}, inner 201/204 ({first_line:?})"),
        ok,
        PER_BATCH as usize,
    )
}

/// Every page of a query, following the continuation headers: (entities, pages).
async fn query_all(target: &Target, pairs: &[(&str, &str)]) -> Result<(usize, usize), String> {
    let (mut rows, mut pages) = (0, 0);
    let mut next: Option<(String, String)> = None;
    loop {
        let mut all = pairs.to_vec();
        if let Some((pk, rk)) = &next {
            all.extend([
                ("NextPartitionKey", pk.as_str()),
                ("NextRowKey", rk.as_str()),
            ]);
        }
        let url = target.url(&target.table, &format!("/{TABLE}()"), &all);
        let reply = send(request(target, reqwest::Method::GET, url)).await?;
        let reply = reply.expect(200, "query entities")?;
        rows += count(&reply.body, "\"RowKey\"");
        pages += 1;
        let pk = reply.header("x-ms-continuation-NextPartitionKey");
        let rk = reply.header("x-ms-continuation-NextRowKey");
        next = pk.map(|pk| (pk.to_owned(), rk.unwrap_or_default().to_owned()));
        if next.is_none() {
            return Ok((rows, pages));
        }
    }
}

/// The median time of a query followed to its end, checked to return `want` entities.
async fn time_query(target: &Target, filter: &str, want: usize) -> Result<(f64, usize), String> {
    let pages = Cell::new(0);
    let ms = median_ms(5, || async {
        let (rows, p) = query_all(target, &[("$filter", filter)]).await?;
        pages.set(p);
        check(filter, rows, want)
    })
    .await?;
    Ok((ms, pages.get()))
}

async fn queries(target: &Target, m: u64, report: &mut Report) -> Result<(), String> {
    // Every partition is full (main checks that M is a multiple of 1,000).
    let partitions = m / PER_PARTITION;
    let mid = format!("p{}", partitions / 2);

    let filter = format!("PartitionKey eq '{mid}'");
    let (ms, pages) = time_query(target, &filter, PER_PARTITION as usize).await?;
    report.ms(
        format!("query {filter} ({PER_PARTITION} rows, {pages} page(s))"),
        ms,
    );

    let filter = format!("PartitionKey eq '{mid}' and Count gt 899L");
    let (ms, _) = time_query(target, &filter, 100).await?;
    report.ms(format!("query {filter} (100 rows)"), ms);

    let key = format!("(PartitionKey='{mid}',RowKey='r0500')");
    let url = target.url(&target.table, &format!("/{TABLE}{key}"), &[]);
    let ms = median_ms(100, || async {
        let reply = send(request(target, reqwest::Method::GET, url.clone())).await?;
        let reply = reply.expect(200, "point get")?;
        check("point get, entities", count(&reply.body, "\"RowKey\""), 1)
    })
    .await?;
    report.ms(format!("point get {TABLE}{key} (median of 100)"), ms);

    let ms = median_ms(5, || async {
        let url = target.url(&target.table, &format!("/{TABLE}()"), &[("$top", "1000")]);
        let reply = send(request(target, reqwest::Method::GET, url)).await?;
        let reply = reply.expect(200, "query $top=1000")?;
        let more = reply.header("x-ms-continuation-NextPartitionKey").is_some();
        check(
            "$top=1000 has a continuation",
            more as usize,
            (m > 1000) as usize,
        )?;
        check(
            "$top=1000, entities",
            count(&reply.body, "\"RowKey\""),
            1000.min(m as usize),
        )
    })
    .await?;
    report.ms("query whole table, first page ($top=1000)", ms);

    // A property no index covers: every one of the M rows is read and decoded.
    let filter = "Num eq 7";
    let (ms, pages) = time_query(target, filter, partitions as usize).await?;
    let what = format!(
        "query {filter}: full scan of {} rows ({partitions} match, {pages} pages)",
        int(m)
    );
    report.ms(what, ms);
    Ok(())
}
