use time::macros::datetime;

use super::*;

const REQUEST_ID: &str = "ed1b381e-e01e-0088-1a94-ad59f2000000";

#[test]
fn container_not_found_matches_recording() {
    // TestContainerDelete.json (Azure prefixes a BOM we do not send).
    let err = AzureError::new(ErrorCode::ContainerNotFound);
    assert_eq!(err.status, 404);
    assert_eq!(
        err.to_xml(REQUEST_ID, datetime!(2022-08-11 15:08:02.398368 UTC)),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>ContainerNotFound</Code><Message>The specified container does not exist.\nRequestId:ed1b381e-e01e-0088-1a94-ad59f2000000\nTime:2022-08-11T15:08:02.3983680Z</Message></Error>"
    );
}

#[test]
fn details_render_after_message_matching_recordings() {
    // TestBlobCreatePageSequenceInvalid.json
    let err = AzureError::new(ErrorCode::InvalidHeaderValue)
        .detail("HeaderName", "x-ms-blob-sequence-number")
        .detail("HeaderValue", "-1");
    assert_eq!(
        err.to_xml("ed1af5b7-e01e-0088-5394-ad59f2000000", datetime!(2022-08-11 15:07:23.1967655 UTC)),
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>InvalidHeaderValue</Code><Message>The value for one of the HTTP headers is not in the correct format.\nRequestId:ed1af5b7-e01e-0088-5394-ad59f2000000\nTime:2022-08-11T15:07:23.1967655Z</Message><HeaderName>x-ms-blob-sequence-number</HeaderName><HeaderValue>-1</HeaderValue></Error>"
    );
    // TestContainerCreateEmptyName.json: empty values render self-closing.
    let err = AzureError::new(ErrorCode::InvalidQueryParameterValue)
        .detail("QueryParameterName", "comp")
        .detail("QueryParameterValue", "")
        .detail("Reason", "");
    assert!(err
        .to_xml("r", datetime!(2022-08-11 15:08:01 UTC))
        .ends_with("</Message><QueryParameterName>comp</QueryParameterName><QueryParameterValue /><Reason /></Error>"));
}

#[test]
fn builder_overrides_message_and_status() {
    let err = AzureError::new(ErrorCode::ConditionNotMet)
        .status(304)
        .message("a <b> & c");
    assert_eq!(
        (err.code, err.status, err.message.as_str()),
        (ErrorCode::ConditionNotMet, 304, "a <b> & c")
    );
    assert!(err
        .to_xml("r", datetime!(2022-01-01 0:00 UTC))
        .contains("<Message>a &lt;b&gt; &amp; c\nRequestId:r\n"));
    assert_eq!(err.to_string(), "ConditionNotMet (304): a <b> & c");
}

#[test]
fn table_json_matches_recording() {
    // TestDeleteEntityWithETag_storage.json
    let err = AzureError::new(ErrorCode::UpdateConditionNotSatisfied);
    assert_eq!(err.status, 412);
    assert_eq!(
        err.to_json("123dc634-d002-00a9-6d6c-4f34c3000000", datetime!(2022-04-13 19:25:18.7879543 UTC)),
        "{\"odata.error\":{\"code\":\"UpdateConditionNotSatisfied\",\"message\":{\"lang\":\"en-US\",\"value\":\"The update condition specified in the request was not satisfied.\\nRequestId:123dc634-d002-00a9-6d6c-4f34c3000000\\nTime:2022-04-13T19:25:18.7879543Z\"}}}"
    );
    let odd = AzureError::new(ErrorCode::InvalidInput).message("quote \" back \\ tab\t\u{1}");
    assert!(odd
        .to_json("r", datetime!(2022-01-01 0:00 UTC))
        .contains("quote \\\" back \\\\ tab\\t\\u0001\\n"));
}

#[test]
fn spelling_round_trips_for_every_code() {
    for code in ErrorCode::ALL {
        assert_eq!(ErrorCode::from_str(code.as_str()), Some(*code));
        assert_eq!(format!("{code:?}"), code.as_str());
        assert!((300..600).contains(&code.status()), "{code}");
        assert!(code.default_message().ends_with('.'), "{code}");
    }
    assert_eq!(ErrorCode::from_str("containernotfound"), None);
    assert_eq!(ErrorCode::from_str(""), None);
}

#[test]
fn statuses_and_messages_from_recordings() {
    use ErrorCode::*;
    let recorded: &[(ErrorCode, u16, &str)] = &[
        (
            AppendPositionConditionNotMet,
            412,
            "The append position condition specified was not met.",
        ),
        (BlobNotFound, 404, "The specified blob does not exist."),
        (
            ContainerAlreadyExists,
            409,
            "The specified container already exists.",
        ),
        (
            ConditionNotMet,
            412,
            "The condition specified using HTTP conditional header(s) is not met.",
        ),
        (
            InvalidRange,
            416,
            "The range specified is invalid for the current size of the resource.",
        ),
        (
            InvalidResourceName,
            400,
            "The specifed resource name contains invalid characters.",
        ),
        (
            InvalidXmlDocument,
            400,
            "XML specified is not syntactically valid.",
        ),
        (
            LeaseIdMissing,
            412,
            "There is currently a lease on the blob and no lease ID was specified in the request.",
        ),
        (
            MissingRequiredHeader,
            400,
            "An HTTP header that's mandatory for this request is not specified.",
        ),
        (
            SnapshotsPresent,
            409,
            "This operation is not permitted because the blob has snapshots.",
        ),
        (
            PropertiesNeedValue,
            400,
            "The values are not specified for all properties in the entity.",
        ),
        (
            ResourceNotFound,
            404,
            "The specified resource does not exist.",
        ),
    ];
    for (code, status, message) in recorded {
        assert_eq!(
            (code.status(), code.default_message()),
            (*status, *message),
            "{code}"
        );
    }
    assert_eq!(NoAuthenticationInformation.status(), 401);
    assert_eq!(AuthorizationPermissionMismatch.status(), 403);
    assert_eq!(InternalError.status(), 500);
    assert_eq!(ServerBusy.status(), 503);
    assert_eq!(NotImplemented.status(), 501);
    assert_eq!(TableNotFound.status(), 404);
    assert_eq!(EntityAlreadyExists.status(), 409);
}
