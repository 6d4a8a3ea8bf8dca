//! `AppError`: the one error type of the API, rendered with a stable machine-readable code.

use std::collections::BTreeMap;

use serde::Serialize;
use utoipa::ToSchema;

/// Field name → problem, for validation errors.
pub type FieldErrors = BTreeMap<String, String>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    BadRequest(String),
    #[error("request validation failed")]
    Validation(FieldErrors),
    #[error("authentication required")]
    Unauthenticated,
    #[error("the token is invalid or expired")]
    InvalidToken,
    #[error("email or password is wrong")]
    InvalidCredentials,
    #[error("{0}")]
    Forbidden(String),
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("too many attempts; retry in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    #[error("the request body is too large")]
    PayloadTooLarge,
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    #[error("{message}")]
    Status {
        status: u16,
        code: &'static str,
        message: String,
    },
    #[error("{message}")]
    Denied { code: &'static str, message: String },
    #[error("{message}")]
    Unauthorized { code: &'static str, message: String },
    /// A file whose rows break rules (an import): every row's problems, nothing written.
    #[error("{message}")]
    Rows {
        code: &'static str,
        message: String,
        rows: Vec<RowProblem>,
    },
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// One problem of one row of an imported file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct RowProblem {
    /// The row as a spreadsheet numbers it: the header is row 1. 0 for a JSON document (a
    /// dashboard's), whose problems say where they are in `column`.
    pub row: usize,
    /// The column; in a JSON document, the path (`widgets[2].config.project`).
    pub column: String,
    /// A stable code: `required`, `invalid_value`, `unknown_email`, `unknown_department`,
    /// `staff_id_taken`, `duplicate_row`; in a dashboard's document also
    /// `unknown_widget_type`, `unknown_metric`, `not_carried` and `unknown_project` (`_state`,
    /// `_label`, `_cycle`, `_module`, `_person`).
    pub code: String,
    pub message: String,
}

impl AppError {
    pub fn not_found(what: &'static str) -> Self {
        Self::NotFound { what }
    }

    pub fn forbidden(msg: impl Into<String>) -> Self {
        Self::Forbidden(msg.into())
    }

    pub fn conflict(code: &'static str, msg: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: msg.into(),
        }
    }

    /// A request that is well formed but breaks a rule (422 with its own code).
    pub fn refused(code: &'static str, msg: impl Into<String>) -> Self {
        Self::Refused {
            code,
            message: msg.into(),
        }
    }

    /// Any 4xx with its own code (415, 421...).
    pub fn refused_status(status: u16, code: &'static str, msg: impl Into<String>) -> Self {
        Self::Status {
            status,
            code,
            message: msg.into(),
        }
    }

    /// Forbidden with a specific code (403).
    pub fn denied(code: &'static str, msg: impl Into<String>) -> Self {
        Self::Denied {
            code,
            message: msg.into(),
        }
    }

    /// Unauthenticated with a specific code (401).
    pub fn unauthorized(code: &'static str, msg: impl Into<String>) -> Self {
        Self::Unauthorized {
            code,
            message: msg.into(),
        }
    }

    pub fn field(field: &str, problem: impl Into<String>) -> Self {
        let mut m = FieldErrors::new();
        m.insert(field.to_string(), problem.into());
        Self::Validation(m)
    }

    pub fn internal(msg: impl std::fmt::Display) -> Self {
        Self::Internal(anyhow::anyhow!("{msg}"))
    }

    /// The message with a validation error's fields (`field: problem; …`), for a reader that
    /// gets no JSON body: a device told why its update was refused, a log line.
    pub fn detail(&self) -> String {
        match self {
            Self::Validation(f) if !f.is_empty() => {
                let fields: Vec<String> = f.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                format!("{self}: {}", fields.join("; "))
            }
            other => other.to_string(),
        }
    }

    /// HTTP status and the stable code. Codes are never renamed once a client uses them.
    pub fn status_and_code(&self) -> (u16, &'static str) {
        match self {
            Self::BadRequest(_) => (400, "bad_request"),
            Self::Validation(_) => (422, "validation_failed"),
            Self::Unauthenticated => (401, "unauthenticated"),
            Self::InvalidToken => (401, "invalid_token"),
            Self::InvalidCredentials => (401, "invalid_credentials"),
            Self::Forbidden(_) => (403, "forbidden"),
            Self::NotFound { .. } => (404, "not_found"),
            Self::Conflict { code, .. } => (409, code),
            Self::RateLimited { .. } => (429, "rate_limited"),
            Self::PayloadTooLarge => (413, "payload_too_large"),
            Self::Refused { code, .. } => (422, code),
            Self::Denied { code, .. } => (403, code),
            Self::Status { status, code, .. } => (*status, code),
            Self::Unauthorized { code, .. } => (401, code),
            Self::Rows { code, .. } => (422, code),
            Self::Internal(_) => (500, "internal"),
        }
    }

    pub fn body(&self) -> ErrorBody {
        let (_, code) = self.status_and_code();
        // The cause of an internal error is logged by the HTTP layer, never sent. A 502 made
        // on purpose (another server unreachable or refusing) says what happened.
        let message = match self {
            Self::Internal(_) => "internal error".to_string(),
            _ => self.to_string(),
        };
        let fields = match self {
            Self::Validation(f) => f.clone(),
            _ => FieldErrors::new(),
        };
        let rows = match self {
            Self::Rows { rows, .. } => rows.clone(),
            _ => Vec::new(),
        };
        ErrorBody {
            error: ErrorDetail {
                code: code.to_string(),
                message,
                fields,
                rows,
            },
        }
    }
}

impl From<rusqlite::Error> for AppError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Internal(anyhow::Error::new(e).context("sqlite"))
    }
}

/// `{"error": {"code", "message", "fields"}}`: the shape of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case code, e.g. `not_found`, `validation_failed`.
    pub code: String,
    pub message: String,
    /// Field name → problem, filled for `validation_failed`.
    pub fields: FieldErrors,
    /// Every row's problems, for an imported file that is refused (absent otherwise).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rows: Vec<RowProblem>,
}

impl ErrorBody {
    pub fn new(code: &str, message: &str) -> Self {
        Self {
            error: ErrorDetail {
                code: code.to_string(),
                message: message.to_string(),
                fields: FieldErrors::new(),
                rows: Vec::new(),
            },
        }
    }
}

/// Collects field errors so a form gets every problem at once.
#[derive(Default)]
pub struct Checks(FieldErrors);

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn add(&mut self, field: &str, problem: impl Into<String>) {
        self.0.entry(field.to_string()).or_insert_with(|| problem.into());
    }
    /// Records the error of a parse, returning the value if it parsed.
    pub fn take<T>(&mut self, field: &str, r: Result<T, String>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(field, e);
                None
            }
        }
    }
    pub fn finish(self) -> Result<(), AppError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.0))
        }
    }
}
