//! Azure Storage request authentication: accounts, Shared Key, Shared Key Lite, SAS (service,
//! account and user delegation) and OAuth bearer tokens.
//!
//! Pure: no HTTP types, no I/O, no clock (the time is passed in), and keys never appear in errors or `Debug`.
//! The server describes a request with [`RequestInfo`], calls [`authenticate`] once, and for a SAS checks each
//! operation with [`SasGrant::authorize`], by the rules of [`sas_rule`].

mod accounts;
mod authenticate;
mod bearer;
mod crypto;
mod error;
mod grant;
mod ip;
mod request;
mod roles;
mod rules;
mod sas;
mod sas_time;
mod shared_key;

pub use accounts::{Account, Accounts, DEV_ACCOUNT, DEV_KEY};
pub use authenticate::authenticate;
pub use bearer::{OAuth, TokenClaims};
pub use error::{AuthError, AuthErrorCode};
pub use grant::{
    BearerGrant, Principal, ResponseHeaderOverrides, SasAccess, SasGrant, SasScope, SasTarget,
};
pub use request::{RequestInfo, Service};
pub use roles::{authorize_roles, role_rule, DataRole, RoleRule};
pub use rules::{sas_rule, Needs, Operation, ResourceType, SasRule};
pub use sas::{
    sign_account_sas, sign_service_sas, sign_user_delegation_sas, string_to_sign_account_sas,
    string_to_sign_service_sas, string_to_sign_user_delegation_sas, SasParams, StoredPolicy,
    UserDelegationKey,
};
pub use shared_key::{sign_shared_key, string_to_sign_shared_key};
