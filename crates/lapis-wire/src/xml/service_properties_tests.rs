use super::*;
use crate::error::ErrorCode;

const DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

fn details(line: &str, position: &str, reason: &str) -> Vec<(String, String)> {
    [
        ("LineNumber", line),
        ("LinePosition", position),
        ("Reason", reason),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}

#[test]
fn fresh_account_document() {
    assert_eq!(
        ServiceProperties::default_for_new_account().render(),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><StorageServiceProperties><Logging><Version>1.0</Version><Read>false</Read><Write>false</Write><Delete>false</Delete><RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></Logging><HourMetrics><Version>1.0</Version><Enabled>false</Enabled><RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></HourMetrics><MinuteMetrics><Version>1.0</Version><Enabled>false</Enabled><RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></MinuteMetrics><Cors /><DeleteRetentionPolicy><Enabled>false</Enabled><AllowPermanentDelete>false</AllowPermanentDelete></DeleteRetentionPolicy><StaticWebsite><Enabled>false</Enabled></StaticWebsite></StorageServiceProperties>"
    );
}

#[test]
fn set_then_get_matches_blob_recording() {
    // TestAccountDeleteRetentionPolicyNil.json: the account had hour metrics on (7 days).
    let mut props = ServiceProperties::default_for_new_account();
    props.hour_metrics = Some(Metrics {
        version: "1.0".to_owned(),
        enabled: true,
        include_apis: Some(true),
        retention_policy: RetentionPolicy {
            enabled: true,
            days: Some(7),
            allow_permanent_delete: None,
        },
    });
    let request = format!("{DECL}<StorageServiceProperties><DeleteRetentionPolicy><Enabled>true</Enabled><Days>5</Days></DeleteRetentionPolicy></StorageServiceProperties>");
    props.merge_from(ServiceProperties::parse(request.as_bytes()).unwrap());
    assert_eq!(
        props.render(),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><StorageServiceProperties><Logging><Version>1.0</Version><Read>false</Read><Write>false</Write><Delete>false</Delete><RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></Logging><HourMetrics><Version>1.0</Version><Enabled>true</Enabled><IncludeAPIs>true</IncludeAPIs><RetentionPolicy><Enabled>true</Enabled><Days>7</Days></RetentionPolicy></HourMetrics><MinuteMetrics><Version>1.0</Version><Enabled>false</Enabled><RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></MinuteMetrics><Cors /><DeleteRetentionPolicy><Enabled>true</Enabled><Days>5</Days><AllowPermanentDelete>false</AllowPermanentDelete></DeleteRetentionPolicy><StaticWebsite><Enabled>false</Enabled></StaticWebsite></StorageServiceProperties>"
    );

    // An empty document changes nothing; a disabled policy drops its days.
    let before = props.clone();
    props.merge_from(
        ServiceProperties::parse(
            format!("{DECL}<StorageServiceProperties></StorageServiceProperties>").as_bytes(),
        )
        .unwrap(),
    );
    assert_eq!(props, before);
    let disable = format!("{DECL}<StorageServiceProperties><DeleteRetentionPolicy><Enabled>false</Enabled></DeleteRetentionPolicy></StorageServiceProperties>");
    props.merge_from(ServiceProperties::parse(disable.as_bytes()).unwrap());
    assert!(props.render().contains("<DeleteRetentionPolicy><Enabled>false</Enabled><AllowPermanentDelete>false</AllowPermanentDelete></DeleteRetentionPolicy>"));
}

#[test]
fn table_service_cors_round_trip_matches_recording() {
    // TestSetHoursMetrics.json (table service): the request's element order differs from the answer's.
    let request = format!("{DECL}<StorageServiceProperties><HourMetrics><Enabled>true</Enabled><IncludeAPIs>true</IncludeAPIs><RetentionPolicy><Enabled>true</Enabled><Days>5</Days></RetentionPolicy><Version>1.0</Version></HourMetrics><Logging><Delete>false</Delete><Read>false</Read><RetentionPolicy><Enabled>false</Enabled></RetentionPolicy><Version>1.0</Version><Write>false</Write></Logging><MinuteMetrics><Enabled>false</Enabled><RetentionPolicy><Enabled>false</Enabled></RetentionPolicy><Version>1.0</Version></MinuteMetrics><Cors><CorsRule><AllowedHeaders>x-ms-meta-data*</AllowedHeaders><AllowedMethods>PUT</AllowedMethods><AllowedOrigins>www.xyz.com</AllowedOrigins><ExposedHeaders>x-ms-meta-source*</ExposedHeaders><MaxAgeInSeconds>500</MaxAgeInSeconds></CorsRule></Cors></StorageServiceProperties>");
    let mut props = ServiceProperties::default();
    props.merge_from(ServiceProperties::parse(request.as_bytes()).unwrap());
    assert_eq!(
        props.render(),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><StorageServiceProperties><Logging><Version>1.0</Version><Read>false</Read><Write>false</Write><Delete>false</Delete><RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></Logging><HourMetrics><Version>1.0</Version><Enabled>true</Enabled><IncludeAPIs>true</IncludeAPIs><RetentionPolicy><Enabled>true</Enabled><Days>5</Days></RetentionPolicy></HourMetrics><MinuteMetrics><Version>1.0</Version><Enabled>false</Enabled><RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></MinuteMetrics><Cors><CorsRule><AllowedMethods>PUT</AllowedMethods><AllowedOrigins>www.xyz.com</AllowedOrigins><AllowedHeaders>x-ms-meta-data*</AllowedHeaders><ExposedHeaders>x-ms-meta-source*</ExposedHeaders><MaxAgeInSeconds>500</MaxAgeInSeconds></CorsRule></Cors></StorageServiceProperties>"
    );
    let rules = props.cors.unwrap();
    assert!(rules[0].matches("www.xyz.com", "PUT", &["x-ms-meta-data-1"]));
}

#[test]
fn missing_days_matches_recorded_error() {
    // TestAccountDeleteRetentionPolicyDaysOmitted.json
    let body = format!("{DECL}<StorageServiceProperties><DeleteRetentionPolicy><Enabled>true</Enabled></DeleteRetentionPolicy></StorageServiceProperties>");
    let err = ServiceProperties::parse(body.as_bytes()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidXmlDocument);
    assert_eq!(err.details, details("2", "75", "Element is missing: Days."));
}

#[test]
fn days_out_of_range_matches_recorded_error() {
    // TestAccountDeleteRetentionPolicyDaysTooSmall.json
    let body = format!("{DECL}<StorageServiceProperties><DeleteRetentionPolicy><Enabled>true</Enabled><Days>0</Days></DeleteRetentionPolicy></StorageServiceProperties>");
    let err = ServiceProperties::parse(body.as_bytes()).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidXmlDocument);
    assert_eq!(err.details, details("2", "89", DAYS_REASON));
    for days in ["366", "-1"] {
        let body = format!("<StorageServiceProperties><HourMetrics><Version>1.0</Version><Enabled>true</Enabled><IncludeAPIs>false</IncludeAPIs><RetentionPolicy><Enabled>true</Enabled><Days>{days}</Days></RetentionPolicy></HourMetrics></StorageServiceProperties>");
        assert_eq!(
            ServiceProperties::parse(body.as_bytes()).unwrap_err().code,
            ErrorCode::InvalidXmlDocument,
            "{days}"
        );
    }
    for days in ["1", "365"] {
        let body = format!("<StorageServiceProperties><DeleteRetentionPolicy><Enabled>true</Enabled><Days>{days}</Days></DeleteRetentionPolicy></StorageServiceProperties>");
        assert!(ServiceProperties::parse(body.as_bytes()).is_ok(), "{days}");
    }
}

#[test]
fn bad_values_are_invalid_node_values() {
    for body in [
        "<StorageServiceProperties><DeleteRetentionPolicy><Enabled>yes</Enabled></DeleteRetentionPolicy></StorageServiceProperties>",
        "<StorageServiceProperties><DeleteRetentionPolicy><Enabled>true</Enabled><Days>five</Days></DeleteRetentionPolicy></StorageServiceProperties>",
        "<StorageServiceProperties><DefaultServiceVersion>latest</DefaultServiceVersion></StorageServiceProperties>",
        "<StorageServiceProperties><StaticWebsite><Enabled>true</Enabled><IndexDocument>index.html</IndexDocument><DefaultIndexDocumentPath>home.html</DefaultIndexDocumentPath></StaticWebsite></StorageServiceProperties>",
        "<StorageServiceProperties><Cors><CorsRule><AllowedOrigins>*</AllowedOrigins><AllowedMethods>FETCH</AllowedMethods></CorsRule></Cors></StorageServiceProperties>",
        "<StorageServiceProperties><Cors><CorsRule><AllowedOrigins>*</AllowedOrigins><AllowedMethods>GET</AllowedMethods><MaxAgeInSeconds>-3</MaxAgeInSeconds></CorsRule></Cors></StorageServiceProperties>",
    ] {
        assert_eq!(ServiceProperties::parse(body.as_bytes()).unwrap_err().code, ErrorCode::InvalidXmlNodeValue, "{body}");
    }
}

#[test]
fn missing_or_malformed_documents_are_invalid() {
    for body in [
        "",
        "<Other/>",
        "<StorageServiceProperties>",
        "<StorageServiceProperties><Logging><Read>true</Read></Logging></StorageServiceProperties>",
        "<StorageServiceProperties><HourMetrics><Version>1.0</Version></HourMetrics></StorageServiceProperties>",
        "<StorageServiceProperties><Cors><CorsRule><AllowedMethods>GET</AllowedMethods></CorsRule></Cors></StorageServiceProperties>",
    ] {
        assert_eq!(ServiceProperties::parse(body.as_bytes()).unwrap_err().code, ErrorCode::InvalidXmlDocument, "{body}");
    }
}

#[test]
fn at_most_five_cors_rules() {
    let rule = "<CorsRule><AllowedOrigins>*</AllowedOrigins><AllowedMethods>GET</AllowedMethods><AllowedHeaders></AllowedHeaders><ExposedHeaders></ExposedHeaders><MaxAgeInSeconds>1</MaxAgeInSeconds></CorsRule>";
    let five = format!(
        "<StorageServiceProperties><Cors>{}</Cors></StorageServiceProperties>",
        rule.repeat(5)
    );
    assert_eq!(
        ServiceProperties::parse(five.as_bytes())
            .unwrap()
            .cors
            .map(|c| c.len()),
        Some(5)
    );
    let six = format!(
        "<StorageServiceProperties><Cors>{}</Cors></StorageServiceProperties>",
        rule.repeat(6)
    );
    assert_eq!(
        ServiceProperties::parse(six.as_bytes()).unwrap_err().code,
        ErrorCode::InvalidXmlDocument
    );
}

#[test]
fn empty_cors_clears_rules() {
    let rule = "<CorsRule><AllowedOrigins>*</AllowedOrigins><AllowedMethods>GET</AllowedMethods></CorsRule>";
    let mut props = ServiceProperties::parse(
        format!("<StorageServiceProperties><Cors>{rule}</Cors></StorageServiceProperties>")
            .as_bytes(),
    )
    .unwrap();
    props.merge_from(
        ServiceProperties::parse(b"<StorageServiceProperties><Cors /></StorageServiceProperties>")
            .unwrap(),
    );
    assert_eq!(props.cors, Some(Vec::new()));
    assert!(props.render().contains("<Cors />"));
}

#[test]
fn static_website_and_default_version_render_in_place() {
    let body = "<StorageServiceProperties><StaticWebsite><Enabled>true</Enabled><IndexDocument>index.html</IndexDocument><ErrorDocument404Path>404.html</ErrorDocument404Path></StaticWebsite><DefaultServiceVersion>2020-10-02</DefaultServiceVersion></StorageServiceProperties>";
    let mut props = ServiceProperties::default_for_new_account();
    props.merge_from(ServiceProperties::parse(body.as_bytes()).unwrap());
    let xml = props.render();
    assert!(
        xml.ends_with("<Cors /><DefaultServiceVersion>2020-10-02</DefaultServiceVersion><DeleteRetentionPolicy><Enabled>false</Enabled><AllowPermanentDelete>false</AllowPermanentDelete></DeleteRetentionPolicy><StaticWebsite><Enabled>true</Enabled><IndexDocument>index.html</IndexDocument><ErrorDocument404Path>404.html</ErrorDocument404Path></StaticWebsite></StorageServiceProperties>"),
        "{xml}"
    );
}

#[test]
fn rendered_document_parses_back_to_itself() {
    let mut props = ServiceProperties::default_for_new_account();
    props.cors = Some(vec![CorsRule {
        allowed_origins: "http://a.com,http://b.com".to_owned(),
        allowed_methods: "GET,PUT".to_owned(),
        allowed_headers: "x-ms-*".to_owned(),
        exposed_headers: "*".to_owned(),
        max_age_in_seconds: 60,
    }]);
    props.logging = Some(Logging {
        read: true,
        retention_policy: RetentionPolicy {
            enabled: true,
            days: Some(3),
            allow_permanent_delete: None,
        },
        ..Logging::default()
    });
    let parsed = ServiceProperties::parse(props.render().as_bytes()).unwrap();
    assert_eq!(parsed.render(), props.render());
}
