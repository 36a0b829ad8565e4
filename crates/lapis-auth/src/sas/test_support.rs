//! What the SAS tests share: tokens from our signers, checked end to end through `authenticate`.

use std::net::IpAddr;

use time::macros::datetime;
use time::OffsetDateTime;

use crate::*;

pub(super) const NOW: OffsetDateTime = datetime!(2026-06-01 12:00 UTC);

pub(super) fn key() -> Vec<u8> {
    Accounts::dev()
        .get(DEV_ACCOUNT)
        .map(|a| a.keys[0].clone())
        .unwrap_or_default()
}

pub(super) fn base(version: &str) -> SasParams {
    SasParams {
        version: version.into(),
        permissions: "rl".into(),
        expiry: "2026-07-01T00:00:00Z".into(),
        ..SasParams::default()
    }
}

pub(super) fn blob_token(p: &SasParams, container: &str, blob: Option<&str>) -> String {
    sign_service_sas(DEV_ACCOUNT, &key(), Service::Blob, container, blob, p)
}

pub(super) fn queue_token(p: &SasParams, queue: &str) -> String {
    sign_service_sas(DEV_ACCOUNT, &key(), Service::Queue, queue, None, p)
}

pub(super) struct Call<'a> {
    pub(super) path: &'a str,
    pub(super) query: &'a str,
    pub(super) service: Service,
    pub(super) now: OffsetDateTime,
    pub(super) https: bool,
    pub(super) ip: Option<IpAddr>,
    /// The stored access policy `p1` of `policy_owner` (a container, table or queue).
    pub(super) policy: Option<StoredPolicy>,
    pub(super) policy_owner: &'a str,
}

pub(super) fn call<'a>(path: &'a str, query: &'a str) -> Call<'a> {
    Call {
        path,
        query,
        service: Service::Blob,
        now: NOW,
        https: false,
        ip: Some(IpAddr::from([127, 0, 0, 1])),
        policy: None,
        policy_owner: "cont",
    }
}

impl Call<'_> {
    pub(super) fn run(&self) -> Result<SasGrant, AuthError> {
        let req = RequestInfo {
            method: "GET",
            raw_path: self.path,
            raw_query: Some(self.query),
            headers: &[],
            account: DEV_ACCOUNT,
            client_ip: self.ip,
            https: self.https,
        };
        let policy = |owner: &str, id: &str| {
            (owner == self.policy_owner && id == "p1")
                .then(|| self.policy.clone())
                .flatten()
        };
        match authenticate(&Accounts::dev(), &req, self.service, self.now, &policy)? {
            Principal::Sas(grant) => Ok(grant),
            other => panic!("not a SAS principal: {other:?}"),
        }
    }

    pub(super) fn code(&self) -> Result<(), AuthErrorCode> {
        self.run().map(|_| ()).map_err(|e| e.code)
    }
}

pub(super) fn account_token(p: &SasParams) -> String {
    sign_account_sas(DEV_ACCOUNT, &key(), p)
}
