//! Authentication errors: a code from Azure's table plus the text of `<AuthenticationErrorDetail>`.

/// Azure error codes this crate can produce, spelled exactly as `x-ms-error-code`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthErrorCode {
    AuthenticationFailed,
    AuthorizationFailure,
    AuthorizationPermissionMismatch,
    AuthorizationResourceTypeMismatch,
    AuthorizationServiceMismatch,
    AuthorizationProtocolMismatch,
    AuthorizationSourceIPMismatch,
    InvalidQueryParameterValue,
    /// A bearer token Azure does not accept (401, with a `WWW-Authenticate` challenge).
    InvalidAuthenticationInfo,
    NoAuthenticationInformation,
}

impl AuthErrorCode {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::AuthenticationFailed => "AuthenticationFailed",
            Self::AuthorizationFailure => "AuthorizationFailure",
            Self::AuthorizationPermissionMismatch => "AuthorizationPermissionMismatch",
            Self::AuthorizationResourceTypeMismatch => "AuthorizationResourceTypeMismatch",
            Self::AuthorizationServiceMismatch => "AuthorizationServiceMismatch",
            Self::AuthorizationProtocolMismatch => "AuthorizationProtocolMismatch",
            Self::AuthorizationSourceIPMismatch => "AuthorizationSourceIPMismatch",
            Self::InvalidQueryParameterValue => "InvalidQueryParameterValue",
            Self::InvalidAuthenticationInfo => "InvalidAuthenticationInfo",
            Self::NoAuthenticationInformation => "NoAuthenticationInformation",
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidQueryParameterValue => 400,
            Self::NoAuthenticationInformation | Self::InvalidAuthenticationInfo => 401,
            _ => 403,
        }
    }

    /// Azure's default `<Message>` first line for the code.
    pub fn message(&self) -> &'static str {
        match self {
            Self::AuthenticationFailed => {
                "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature."
            }
            Self::AuthorizationFailure => "This request is not authorized to perform this operation.",
            Self::AuthorizationPermissionMismatch => {
                "This request is not authorized to perform this operation using this permission."
            }
            Self::AuthorizationResourceTypeMismatch => {
                "This request is not authorized to perform this operation using this resource type."
            }
            Self::AuthorizationServiceMismatch => {
                "This request is not authorized to perform this operation using this service."
            }
            Self::AuthorizationProtocolMismatch => {
                "This request is not authorized to perform this operation using this protocol."
            }
            Self::AuthorizationSourceIPMismatch => {
                "This request is not authorized to perform this operation using this source IP."
            }
            Self::InvalidQueryParameterValue => {
                "Value for one of the query parameters specified in the request URI is invalid."
            }
            Self::NoAuthenticationInformation | Self::InvalidAuthenticationInfo => {
                "Server failed to authenticate the request. Please refer to the information in the www-authenticate header."
            }
        }
    }
}

/// `detail` becomes `<AuthenticationErrorDetail>`; it may quote a string to sign or a presented signature,
/// never a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {detail}", code.as_str())]
pub struct AuthError {
    pub code: AuthErrorCode,
    pub detail: String,
    /// The `WWW-Authenticate` header the answer carries, if any.
    pub challenge: Option<String>,
}

impl AuthError {
    pub fn new(code: AuthErrorCode, detail: impl Into<String>) -> AuthError {
        AuthError {
            code,
            detail: detail.into(),
            challenge: None,
        }
    }

    pub(crate) fn with_challenge(mut self, challenge: String) -> AuthError {
        self.challenge = Some(challenge);
        self
    }

    pub(crate) fn failed(detail: impl Into<String>) -> AuthError {
        AuthError::new(AuthErrorCode::AuthenticationFailed, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_follow_azure() {
        assert_eq!(AuthErrorCode::AuthenticationFailed.status(), 403);
        assert_eq!(AuthErrorCode::AuthorizationSourceIPMismatch.status(), 403);
        assert_eq!(AuthErrorCode::InvalidQueryParameterValue.status(), 400);
        assert_eq!(AuthErrorCode::NoAuthenticationInformation.status(), 401);
        assert_eq!(AuthErrorCode::InvalidAuthenticationInfo.status(), 401);
        assert_eq!(
            AuthErrorCode::AuthorizationSourceIPMismatch.as_str(),
            "AuthorizationSourceIPMismatch"
        );
    }
}
