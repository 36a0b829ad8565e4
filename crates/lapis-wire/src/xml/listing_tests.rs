use time::macros::datetime;

use super::*;

const MD5_15_BYTES: [u8; 16] = [
    0x79, 0xb9, 0xdc, 0xc2, 0x0b, 0x8c, 0x42, 0xef, 0x6c, 0x80, 0xf9, 0xab, 0xd0, 0x66, 0xb3, 0x84,
];

fn container<'a>(
    name: &'a str,
    last_modified: time::OffsetDateTime,
    etag: &'a str,
) -> ContainerEntry<'a> {
    ContainerEntry {
        name,
        last_modified,
        etag,
        public_access: None,
        metadata: None,
        has_immutability_policy: false,
        has_legal_hold: false,
        lease: LeaseEntry::default(),
        deleted: None,
    }
}

fn recorded_container(name: &str, last_modified: &str, etag: &str) -> String {
    format!("<Container><Name>{name}</Name><Properties><Last-Modified>{last_modified}</Last-Modified><Etag>\"{etag}\"</Etag><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><DefaultEncryptionScope>$account-encryption-key</DefaultEncryptionScope><DenyEncryptionScopeOverride>false</DenyEncryptionScopeOverride><HasImmutabilityPolicy>false</HasImmutabilityPolicy><HasLegalHold>false</HasLegalHold><ImmutableStorageWithVersioningEnabled>false</ImmutableStorageWithVersioningEnabled></Properties></Container>")
}

#[test]
fn list_containers_matches_recording() {
    // TestAccountListContainersEmptyPrefix.json (first two containers).
    let want = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"https://jhendrixstorage1.blob.core.windows.net/\"><Containers>{}{}</Containers><NextMarker /></EnumerationResults>",
        recorded_container("gocaccountlistcontainersemptyprefix1", "Thu, 11 Aug 2022 15:07:09 GMT", "0x8DA7BAB29755CDA"),
        recorded_container("testcontainer1", "Tue, 26 Apr 2022 18:39:02 GMT", "0x8DA27B409034ADC"),
    );
    let items = [
        container(
            "gocaccountlistcontainersemptyprefix1",
            datetime!(2022-08-11 15:07:09.5 UTC),
            "0x8DA7BAB29755CDA",
        ),
        container(
            "testcontainer1",
            datetime!(2022-04-26 18:39:02 UTC),
            "0x8DA27B409034ADC",
        ),
    ];
    let got = render_list_containers(
        "https://jhendrixstorage1.blob.core.windows.net/",
        None,
        None,
        None,
        &items,
        None,
    );
    assert_eq!(got, want);
}

#[test]
fn list_containers_echoes_parameters_metadata_and_access() {
    let metadata = [("Foo".to_owned(), "a&b".to_owned())];
    let empty: [(String, String); 0] = [];
    let mut first = container("c1", datetime!(2022-08-11 15:07:09 UTC), "0x1");
    first.public_access = Some("blob");
    first.metadata = Some(&metadata);
    first.has_legal_hold = true;
    let mut second = container("c2", datetime!(2022-08-11 15:07:09 UTC), "0x2");
    second.metadata = Some(&empty);
    let got = render_list_containers(
        "http://127.0.0.1:10000/devstoreaccount1",
        Some("c"),
        Some("m"),
        Some(2),
        &[first, second],
        Some("next"),
    );
    let want = "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"http://127.0.0.1:10000/devstoreaccount1/\"><Prefix>c</Prefix><Marker>m</Marker><MaxResults>2</MaxResults><Containers>\
<Container><Name>c1</Name><Properties><Last-Modified>Thu, 11 Aug 2022 15:07:09 GMT</Last-Modified><Etag>\"0x1\"</Etag><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><PublicAccess>blob</PublicAccess><DefaultEncryptionScope>$account-encryption-key</DefaultEncryptionScope><DenyEncryptionScopeOverride>false</DenyEncryptionScopeOverride><HasImmutabilityPolicy>false</HasImmutabilityPolicy><HasLegalHold>true</HasLegalHold><ImmutableStorageWithVersioningEnabled>false</ImmutableStorageWithVersioningEnabled></Properties><Metadata><Foo>a&amp;b</Foo></Metadata></Container>\
<Container><Name>c2</Name><Properties><Last-Modified>Thu, 11 Aug 2022 15:07:09 GMT</Last-Modified><Etag>\"0x2\"</Etag><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><DefaultEncryptionScope>$account-encryption-key</DefaultEncryptionScope><DenyEncryptionScopeOverride>false</DenyEncryptionScopeOverride><HasImmutabilityPolicy>false</HasImmutabilityPolicy><HasLegalHold>false</HasLegalHold><ImmutableStorageWithVersioningEnabled>false</ImmutableStorageWithVersioningEnabled></Properties><Metadata /></Container>\
</Containers><NextMarker>next</NextMarker></EnumerationResults>";
    assert_eq!(got, want);
}

#[test]
fn empty_container_list() {
    assert_eq!(
        render_list_containers("http://h/acct", Some(""), None, None, &[], None),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"http://h/acct/\"><Prefix /><Containers /><NextMarker /></EnumerationResults>"
    );
}

fn blob<'a>(
    name: &'a str,
    etag: &'a str,
    metadata: Option<&'a [(String, String)]>,
) -> BlobEntry<'a> {
    BlobEntry {
        name,
        last_modified: datetime!(2022-08-11 15:08:13.4 UTC),
        created: datetime!(2022-08-11 15:08:13.4 UTC),
        etag,
        size: 15,
        content_type: Some("application/octet-stream"),
        content_encoding: None,
        content_language: None,
        content_disposition: None,
        cache_control: None,
        content_md5: Some(&MD5_15_BYTES),
        blob_type: "BlockBlob",
        metadata,
        committed: true,
        access_tier: None,
        customer_key_sha256: None,
        snapshot: None,
        version_id: None,
        is_current_version: false,
        lease: LeaseEntry::default(),
        sequence_number: None,
        copy: None,
        incremental_copy: false,
        sealed: false,
        tag_count: 0,
        tags: None,
        archive_status: None,
        rehydrate_priority: None,
        deleted: None,
    }
}

/// A blob entry as recorded in TestListBlobIncludeMetadata.json, minus `VersionId` and
/// `IsCurrentVersion` (that account had versioning on; ours does not).
fn recorded_blob(name: &str, etag: &str, metadata: &str) -> String {
    format!("<Blob><Name>{name}</Name><Properties><Creation-Time>Thu, 11 Aug 2022 15:08:13 GMT</Creation-Time><Last-Modified>Thu, 11 Aug 2022 15:08:13 GMT</Last-Modified><Etag>{etag}</Etag><Content-Length>15</Content-Length><Content-Type>application/octet-stream</Content-Type><Content-Encoding /><Content-Language /><Content-CRC64 /><Content-MD5>ebncwguMQu9sgPmr0GazhA==</Content-MD5><Cache-Control /><Content-Disposition /><BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier><AccessTierInferred>true</AccessTierInferred><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted></Properties>{metadata}<OrMetadata /></Blob>")
}

#[test]
fn list_blobs_matches_recording() {
    let foo = [("Foo".to_owned(), "bar".to_owned())];
    let items = [
        BlobListItem::Blob(blob(
            "gotestbloblistblobincludemetadata0",
            "0x8DA7BAB4FC1FBCF",
            Some(&foo),
        )),
        BlobListItem::Blob(blob(
            "gotestbloblistblobincludemetadata1",
            "0x8DA7BAB4FC667F2",
            Some(&foo),
        )),
    ];
    let got = render_list_blobs(
        "https://jhendrixstorage1.blob.core.windows.net/",
        "goclistblobincludemetadata",
        None,
        None,
        None,
        Some("/"),
        &items,
        None,
    );
    let want = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"https://jhendrixstorage1.blob.core.windows.net/\" ContainerName=\"goclistblobincludemetadata\"><Delimiter>/</Delimiter><Blobs>{}{}</Blobs><NextMarker /></EnumerationResults>",
        recorded_blob("gotestbloblistblobincludemetadata0", "0x8DA7BAB4FC1FBCF", "<Metadata><Foo>bar</Foo></Metadata>"),
        recorded_blob("gotestbloblistblobincludemetadata1", "0x8DA7BAB4FC667F2", "<Metadata><Foo>bar</Foo></Metadata>"),
    );
    assert_eq!(got, want);
}

#[test]
fn list_blobs_with_max_results_matches_recording() {
    // TestContainerListBlobsMaxResultsExact.json: MaxResults comes first, no metadata requested.
    let items = [BlobListItem::Blob(blob("a", "0x8DA7BAB4A48357C", None))];
    let got = render_list_blobs("https://h/", "c", None, None, Some(2), None, &items, None);
    let want = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"https://h/\" ContainerName=\"c\"><MaxResults>2</MaxResults><Blobs>{}</Blobs><NextMarker /></EnumerationResults>",
        recorded_blob("a", "0x8DA7BAB4A48357C", ""),
    );
    assert_eq!(got, want);
}

#[test]
fn list_blobs_prefixes_parameters_and_other_types() {
    let mut append = blob("dir/x<y", "0x2", None);
    append.blob_type = "AppendBlob";
    append.content_md5 = None;
    append.content_type = Some("text/plain");
    append.cache_control = Some("no-cache");
    let items = [BlobListItem::Prefix("dir/a/"), BlobListItem::Blob(append)];
    let got = render_list_blobs(
        "http://h/acct",
        "c",
        Some("dir/"),
        Some("mk"),
        Some(5),
        Some("/"),
        &items,
        Some("nm"),
    );
    let want = "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"http://h/acct/\" ContainerName=\"c\"><Prefix>dir/</Prefix><Marker>mk</Marker><MaxResults>5</MaxResults><Delimiter>/</Delimiter><Blobs>\
<BlobPrefix><Name>dir/a/</Name></BlobPrefix>\
<Blob><Name>dir/x&lt;y</Name><Properties><Creation-Time>Thu, 11 Aug 2022 15:08:13 GMT</Creation-Time><Last-Modified>Thu, 11 Aug 2022 15:08:13 GMT</Last-Modified><Etag>0x2</Etag><Content-Length>15</Content-Length><Content-Type>text/plain</Content-Type><Content-Encoding /><Content-Language /><Content-CRC64 /><Content-MD5 /><Cache-Control>no-cache</Cache-Control><Content-Disposition /><BlobType>AppendBlob</BlobType><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted></Properties><OrMetadata /></Blob>\
</Blobs><NextMarker>nm</NextMarker></EnumerationResults>";
    assert_eq!(got, want);
}

#[test]
fn a_sealed_append_blob_says_so_after_its_encryption() {
    let mut sealed = blob("s", "0x4", None);
    sealed.blob_type = "AppendBlob";
    sealed.content_md5 = None;
    sealed.sealed = true;
    let got = render_list_blobs(
        "http://h/",
        "c",
        None,
        None,
        None,
        None,
        &[BlobListItem::Blob(sealed)],
        None,
    );
    let want = "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"http://h/\" ContainerName=\"c\"><Blobs>\
<Blob><Name>s</Name><Properties><Creation-Time>Thu, 11 Aug 2022 15:08:13 GMT</Creation-Time><Last-Modified>Thu, 11 Aug 2022 15:08:13 GMT</Last-Modified><Etag>0x4</Etag><Content-Length>15</Content-Length><Content-Type>application/octet-stream</Content-Type><Content-Encoding /><Content-Language /><Content-CRC64 /><Content-MD5 /><Cache-Control /><Content-Disposition /><BlobType>AppendBlob</BlobType><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted><Sealed>true</Sealed></Properties><OrMetadata /></Blob>\
</Blobs><NextMarker /></EnumerationResults>";
    assert_eq!(got, want);
}

#[test]
fn tags_are_counted_in_the_properties_and_listed_after_the_metadata() {
    let tags = vec![("k".to_string(), "v".to_string())];
    let mut tagged = blob("t", "0x5", None);
    tagged.tag_count = 1;
    tagged.tags = Some(&tags);
    let got = render_list_blobs(
        "http://h/",
        "c",
        None,
        None,
        None,
        None,
        &[BlobListItem::Blob(tagged)],
        None,
    );
    assert!(got.contains("<ServerEncrypted>true</ServerEncrypted><TagCount>1</TagCount></Properties><Tags><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tags><OrMetadata />"), "{got}");
}

#[test]
fn uncommitted_blob_has_no_tier_and_empty_list_is_self_closing() {
    let mut pending = blob("p", "0x3", None);
    pending.committed = false;
    let got = render_list_blobs(
        "http://h/",
        "c",
        None,
        None,
        None,
        None,
        &[BlobListItem::Blob(pending)],
        None,
    );
    assert!(
        got.contains("<BlobType>BlockBlob</BlobType><LeaseStatus>"),
        "{got}"
    );
    assert_eq!(
        render_list_blobs("http://h/", "c", None, None, None, None, &[], None),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"http://h/\" ContainerName=\"c\"><Blobs /><NextMarker /></EnumerationResults>"
    );
}

#[test]
fn names_xml_cannot_carry_are_percent_encoded() {
    let got = render_list_blobs(
        "http://h/",
        "c",
        None,
        None,
        None,
        None,
        &[BlobListItem::Prefix("a\u{1}b é/")],
        None,
    );
    assert!(
        got.contains("<BlobPrefix><Name Encoded=\"true\">a%01b%20%C3%A9/</Name></BlobPrefix>"),
        "{got}"
    );
}

#[test]
fn a_tier_given_on_upload_and_a_customer_key_as_azure_lists_them() {
    let hash = [0xdd_u8; 32];
    let meta = vec![("a".to_string(), "b".to_string())];
    let mut entry = blob("cpk", "0x8DA7BAB50E20E11", Some(&meta));
    entry.access_tier = Some(("Cool", datetime!(2022-08-11 15:08:15 UTC)));
    entry.customer_key_sha256 = Some(&hash);
    let xml = render_list_blobs(
        "http://h/a",
        "c",
        None,
        None,
        None,
        None,
        &[BlobListItem::Blob(entry)],
        None,
    );
    // The order of TestRehydrateStatus.json and the JS SDK's CPK recordings.
    assert!(
        xml.contains("<BlobType>BlockBlob</BlobType><AccessTier>Cool</AccessTier><AccessTierChangeTime>Thu, 11 Aug 2022 15:08:15 GMT</AccessTierChangeTime><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted><CustomerProvidedKeySha256>3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d3d0=</CustomerProvidedKeySha256></Properties><Metadata Encrypted=\"true\" /><OrMetadata />"),
        "{xml}"
    );
    assert!(!xml.contains("AccessTierInferred"), "{xml}");
}

#[test]
fn page_blob_lists_its_sequence_number_before_its_type() {
    let mut entry = blob("p", "0x1", None);
    entry.blob_type = "PageBlob";
    entry.sequence_number = Some(7);
    let items = [BlobListItem::Blob(entry)];
    let xml = render_list_blobs("http://h/a/", "c", None, None, None, None, &items, None);
    assert!(
        xml.contains("<Content-Disposition /><x-ms-blob-sequence-number>7</x-ms-blob-sequence-number><BlobType>PageBlob</BlobType><LeaseStatus>"),
        "{xml}"
    );
}

/// A version of TestDeleteSpecificBlobVersion.json's blob.
fn version_entry<'a>(
    etag: &'a str,
    version: &'a str,
    current: bool,
    md5: &'a [u8],
) -> BlobEntry<'a> {
    let mut b = blob("gotestblobdeletespecificblobversion", etag, None);
    b.last_modified = datetime!(2022-08-11 15:08:12 UTC);
    b.created = datetime!(2022-08-11 15:08:12 UTC);
    b.size = 5;
    b.content_md5 = Some(md5);
    b.version_id = Some(version);
    b.is_current_version = current;
    b
}

#[test]
fn list_blobs_with_versions_matches_recording() {
    // TestDeleteSpecificBlobVersion.json, the last listing (include=versions): a previous
    // version names no lease; the current one says so before its properties.
    use base64::Engine;
    let md5 = |b: &str| base64::engine::general_purpose::STANDARD.decode(b).unwrap();
    let (md5_old, md5_new) = (
        md5("eTafePeILBuqu8fUXcXaoA=="),
        md5("cyFggIQSogw/C/rSs4ItGw=="),
    );
    let items = [
        BlobListItem::Blob(version_entry(
            "0x8DA7BAB4F097594",
            "2022-08-11T15:08:12.2000548Z",
            false,
            &md5_old,
        )),
        BlobListItem::Blob(version_entry(
            "0x8DA7BAB4F1533A5",
            "2022-08-11T15:08:12.2770101Z",
            true,
            &md5_new,
        )),
    ];
    let got = render_list_blobs(
        "https://jhendrixstorage1.blob.core.windows.net/",
        "gocdeletespecificblobversion",
        None,
        None,
        None,
        None,
        &items,
        None,
    );
    let want = "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"https://jhendrixstorage1.blob.core.windows.net/\" ContainerName=\"gocdeletespecificblobversion\"><Blobs><Blob><Name>gotestblobdeletespecificblobversion</Name><VersionId>2022-08-11T15:08:12.2000548Z</VersionId><Properties><Creation-Time>Thu, 11 Aug 2022 15:08:12 GMT</Creation-Time><Last-Modified>Thu, 11 Aug 2022 15:08:12 GMT</Last-Modified><Etag>0x8DA7BAB4F097594</Etag><Content-Length>5</Content-Length><Content-Type>application/octet-stream</Content-Type><Content-Encoding /><Content-Language /><Content-CRC64 /><Content-MD5>eTafePeILBuqu8fUXcXaoA==</Content-MD5><Cache-Control /><Content-Disposition /><BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier><AccessTierInferred>true</AccessTierInferred><ServerEncrypted>true</ServerEncrypted></Properties><OrMetadata /></Blob><Blob><Name>gotestblobdeletespecificblobversion</Name><VersionId>2022-08-11T15:08:12.2770101Z</VersionId><IsCurrentVersion>true</IsCurrentVersion><Properties><Creation-Time>Thu, 11 Aug 2022 15:08:12 GMT</Creation-Time><Last-Modified>Thu, 11 Aug 2022 15:08:12 GMT</Last-Modified><Etag>0x8DA7BAB4F1533A5</Etag><Content-Length>5</Content-Length><Content-Type>application/octet-stream</Content-Type><Content-Encoding /><Content-Language /><Content-CRC64 /><Content-MD5>cyFggIQSogw/C/rSs4ItGw==</Content-MD5><Cache-Control /><Content-Disposition /><BlobType>BlockBlob</BlobType><AccessTier>Hot</AccessTier><AccessTierInferred>true</AccessTierInferred><LeaseStatus>unlocked</LeaseStatus><LeaseState>available</LeaseState><ServerEncrypted>true</ServerEncrypted></Properties><OrMetadata /></Blob></Blobs><NextMarker /></EnumerationResults>";
    assert_eq!(got, want);
}

#[test]
fn a_deleted_container_matches_recording() {
    // TestContainerRestore.json: List Containers include=deleted,metadata.
    let want = "<?xml version=\"1.0\" encoding=\"utf-8\"?><EnumerationResults ServiceEndpoint=\"https://souravteststorage.blob.core.windows.net/\"><Prefix>goc</Prefix><Containers><Container><Name>goccontainerrestore</Name><Deleted>true</Deleted><Version>01D8DEC8F3473469</Version><Properties><Last-Modified>Thu, 13 Oct 2022 05:59:26 GMT</Last-Modified><Etag>\"0x8DAACE015BE6D4E\"</Etag><LeaseStatus>unlocked</LeaseStatus><LeaseState>expired</LeaseState><DefaultEncryptionScope>$account-encryption-key</DefaultEncryptionScope><DenyEncryptionScopeOverride>false</DenyEncryptionScopeOverride><HasImmutabilityPolicy>false</HasImmutabilityPolicy><HasLegalHold>false</HasLegalHold><ImmutableStorageWithVersioningEnabled>false</ImmutableStorageWithVersioningEnabled><DeletedTime>Thu, 13 Oct 2022 05:59:26 GMT</DeletedTime><RemainingRetentionDays>1</RemainingRetentionDays></Properties><Metadata /></Container></Containers><NextMarker /></EnumerationResults>";
    let empty: [(String, String); 0] = [];
    let mut c = container(
        "goccontainerrestore",
        datetime!(2022-10-13 05:59:26 UTC),
        "0x8DAACE015BE6D4E",
    );
    c.metadata = Some(&empty);
    c.lease.state = "expired";
    c.deleted = Some(DeletedContainerEntry {
        version: "01D8DEC8F3473469",
        deleted_time: datetime!(2022-10-13 05:59:26.9 UTC),
        remaining_retention_days: 1,
    });
    let got = render_list_containers(
        "https://souravteststorage.blob.core.windows.net/",
        Some("goc"),
        None,
        None,
        &[c],
        None,
    );
    assert_eq!(got, want);
}

#[test]
fn a_deleted_blob_has_deleted_first_and_its_times_after_server_encrypted() {
    let mut b = blob("b", "0x1", None);
    b.snapshot = Some("2022-09-28T07:24:51.1485609Z");
    b.deleted = Some(DeletedBlobEntry {
        deleted_time: datetime!(2022-09-28 07:25:00 UTC),
        remaining_retention_days: 7,
    });
    let got = render_list_blobs(
        "http://h/a",
        "c",
        None,
        None,
        None,
        None,
        &[BlobListItem::Blob(b)],
        None,
    );
    let start = got.find("<Blob>").unwrap();
    let entry = &got[start..];
    assert!(
        entry.starts_with("<Blob><Name>b</Name><Deleted>true</Deleted><Snapshot>2022-09-28T07:24:51.1485609Z</Snapshot><Properties>"),
        "{entry}"
    );
    assert!(
        entry.contains("<ServerEncrypted>true</ServerEncrypted><DeletedTime>Wed, 28 Sep 2022 07:25:00 GMT</DeletedTime><RemainingRetentionDays>7</RemainingRetentionDays></Properties>"),
        "{entry}"
    );
}
