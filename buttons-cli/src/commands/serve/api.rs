//! The routes, their JSON and their errors.
//!
//! Errors use the CLI's envelope, `{"ok": false, "error": {code, message,
//! hint?}}`, with the HTTP status matching the code.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use buttons_exec::{
    ArgInput, DrawerOptions, DrawerRequest, Engine, Idempotency, PressOptions, SECRET_MASK,
    check_inputs, mask_json,
};
use buttons_spec::{Button, ButtonName, Drawer, ErrorCode, validate_drawer};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use serde_json::{Map, Value, json};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};

use crate::commands::drawer::kind_text;
use crate::error::CliError;

/// The routes, as the startup line lists them.
pub(super) const ENDPOINTS: &[&str] = &[
    "GET /api/health",
    "GET /api/buttons",
    "GET /api/buttons/{name}",
    "GET /api/buttons/{name}/runs",
    "POST /api/buttons/{name}/press",
    "GET /api/drawers",
    "GET /api/drawers/{name}",
    "GET /api/drawers/{name}/runs",
    "POST /api/drawers/{name}/press",
    "GET /api/openapi.json",
];

/// The OpenAPI 3.1 document, generated from the handlers' annotations.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "buttons",
        description = "Buttons and drawers over HTTP: list and press them."
    ),
    paths(
        health,
        list,
        show,
        runs,
        press,
        list_drawers,
        show_drawer,
        drawer_runs,
        press_drawer,
        openapi
    ),
    components(schemas(PressBody, DrawerPressBody, ErrorEnvelope))
)]
pub(super) struct ApiDoc;

/// The body of a press (both fields optional).
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "only its schema is used: the body is parsed by `parse_press`"
)]
struct PressBody {
    /// Argument values: strings, or JSON numbers and booleans, checked
    /// against the declared types.
    #[schema(value_type = Option<Object>)]
    args: Option<Map<String, Value>>,
    /// Seconds (capped at 300).
    timeout: Option<f64>,
}

/// The body of a drawer press (optional).
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "only its schema is used: the body is parsed by `parse_drawer_press`"
)]
struct DrawerPressBody {
    /// Input values by name (JSON), checked against the drawer's inputs.
    #[schema(value_type = Option<Object>)]
    inputs: Option<Map<String, Value>>,
}

/// `{"ok": false, "error": {"code", "message", "hint"?}}`.
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "only its schema is used: errors are built by `ApiError`"
)]
struct ErrorEnvelope {
    /// Always false.
    ok: bool,
    /// `code`, `message` and maybe `hint`.
    #[schema(value_type = Object)]
    error: Value,
}

/// The header carrying an idempotency key on a press.
const IDEMPOTENCY_HEADER: &str = "idempotency-key";
/// The largest request body: 1 MiB.
pub(super) const MAX_BODY: usize = 1024 * 1024;
/// How many presses may run at once; one more gets 503 `BUSY`.
pub(super) const MAX_PRESSES: usize = 8;
/// The longest timeout a request may ask for.
pub(super) const MAX_TIMEOUT: Duration = Duration::from_secs(300);
/// How many runs `GET /api/buttons/{name}/runs` returns.
const RUNS: usize = 20;
/// Time between SIGTERM and SIGKILL when shutdown ends a press.
pub(super) const KILL_GRACE: Duration = Duration::from_secs(2);

/// What the handlers share.
pub(super) struct AppState {
    pub(super) engine: Engine,
    pub(super) allow_http_buttons: bool,
    /// What drawers' `$ENV{…}` references read (the key left out).
    pub(super) drawer_env: std::collections::BTreeMap<String, String>,
    /// One permit per running press.
    pub(super) presses: Arc<Semaphore>,
    /// Set once shutdown starts: no new presses.
    pub(super) stopping: watch::Receiver<bool>,
    /// Set when running presses must end (shutdown's grace is over).
    pub(super) kill: watch::Receiver<bool>,
    /// The triggers and their webhook routes (`None` with `--no-triggers`).
    pub(super) triggers: Option<buttons_exec::Triggers>,
}

/// The router, without the guard (see [`super::server`]).
pub(super) fn router(state: Arc<AppState>) -> axum::Router {
    axum::Router::new()
        .route("/api/health", get(health))
        .route("/api/buttons", get(list))
        .route("/api/buttons/{name}", get(show))
        .route("/api/buttons/{name}/runs", get(runs))
        .route("/api/buttons/{name}/press", post(press))
        .route("/api/drawers", get(list_drawers))
        .route("/api/drawers/{name}", get(show_drawer))
        .route("/api/drawers/{name}/runs", get(drawer_runs))
        .route("/api/drawers/{name}/press", post(press_drawer))
        .route("/api/openapi.json", get(openapi))
        // Webhook routes (`POST /PATH` of triggers), else 404.
        .fallback(super::triggers::fallback)
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "METHOD_NOT_ALLOWED",
                "this endpoint does not take that method",
            )
        })
        .with_state(state)
}

/// The fix for `HTTP_BUTTON_BLOCKED`.
const ALLOW_HTTP_HINT: &str = "start the server with --allow-http-buttons to press HTTP buttons";

/// An error response: a status and the envelope.
#[derive(Debug)]
pub(super) struct ApiError {
    status: StatusCode,
    error: Value,
    retry_after: bool,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            error: json!({ "code": code, "message": message.into() }),
            retry_after: false,
        }
    }

    pub(super) fn hint(mut self, hint: impl Into<String>) -> Self {
        self.error["hint"] = Value::String(hint.into());
        self
    }

    /// 403 `HTTP_BUTTON_BLOCKED`: `button` is an HTTP button, and this
    /// server runs without `--allow-http-buttons`.
    pub(super) fn http_button_blocked(button: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "HTTP_BUTTON_BLOCKED",
            format!("{button} is an HTTP button, and this server does not press those"),
        )
        .hint(ALLOW_HTTP_HINT)
    }

    /// 403 `HTTP_BUTTON_BLOCKED`: `drawer` may press the HTTP buttons
    /// `http`, and this server runs without `--allow-http-buttons`.
    pub(super) fn http_drawer_blocked(drawer: &str, http: &[String]) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "HTTP_BUTTON_BLOCKED",
            format!(
                "drawer {drawer} may press HTTP buttons ({}), and this server does not press those",
                http.join(", ")
            ),
        )
        .hint(ALLOW_HTTP_HINT)
    }

    /// A library error: its code, message, hint (in API terms) and, for
    /// wrong arguments, the button's argument definitions.
    pub(super) fn exec(e: &buttons_exec::Error) -> Self {
        let code = e.code();
        let status = match code {
            ErrorCode::NotFound | ErrorCode::DrawerNotFound => StatusCode::NOT_FOUND,
            ErrorCode::MissingArg
            | ErrorCode::MissingInput
            | ErrorCode::ValidationError
            | ErrorCode::FlowRuntimeRequired => StatusCode::BAD_REQUEST,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let mut error = CliError::from_parts(code, e.hint(), e);
        if let Some(defs) = e.arg_defs() {
            error.spec = Some(Box::new(
                serde_json::to_value(defs).expect("argument definitions serialize"),
            ));
        }
        Self {
            status,
            error: serde_json::to_value(error).expect("an error serializes"),
            retry_after: false,
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BAD_REQUEST", message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (
            self.status,
            Json(json!({ "ok": false, "error": self.error })),
        )
            .into_response();
        if self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

type ApiResult = Result<Response, ApiError>;

/// The API's OpenAPI document.
#[utoipa::path(get, path = "/api/openapi.json", responses((status = 200, description = "This document")))]
async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(<ApiDoc as utoipa::OpenApi>::openapi())
}

/// Whether the server is up (no key needed).
#[utoipa::path(get, path = "/api/health", responses((status = 200, description = "`{\"status\": \"ok\", \"service\": \"buttons\"}`")))]
async fn health() -> Json<Value> {
    Json(json!({ "status": "ok", "service": "buttons" }))
}

/// A button as the API shows it: the spec with header and `env` values
/// left out (names only), since they may hold credentials.
fn public_button(button: &Button) -> Value {
    let mut value = serde_json::to_value(button).expect("a Button always serializes");
    if let Some(map) = value.as_object_mut() {
        map.insert(
            "headers".into(),
            json!(button.headers.keys().collect::<Vec<_>>()),
        );
        map.insert("env".into(), json!(button.env.keys().collect::<Vec<_>>()));
    }
    value
}

/// Every button: `{"buttons": [...]}`, header and `env` values left out.
#[utoipa::path(get, path = "/api/buttons", responses(
    (status = 200, description = "`{\"buttons\": [...]}`"),
    (status = 401, description = "No or a wrong key", body = ErrorEnvelope),
))]
async fn list(State(state): State<Arc<AppState>>) -> ApiResult {
    let listed = state
        .engine
        .store()
        .list()
        .map_err(|e| ApiError::exec(&e.into()))?;
    let buttons: Vec<Value> = listed
        .into_iter()
        .map(|entry| match entry.button {
            Ok(button) => public_button(&button),
            Err(e) => json!({ "name": entry.name, "error": CliError::from(e) }),
        })
        .collect();
    Ok(Json(json!({ "buttons": buttons })).into_response())
}

/// One button, header and `env` values left out.
#[utoipa::path(get, path = "/api/buttons/{name}", params(("name" = String, Path, description = "The button")), responses(
    (status = 200, description = "The button's spec"),
    (status = 404, description = "No such button", body = ErrorEnvelope),
))]
async fn show(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> ApiResult {
    let loaded = state.engine.load(&name).map_err(|e| ApiError::exec(&e))?;
    Ok(Json(public_button(&loaded.button)).into_response())
}

/// The newest 20 runs of a button.
#[utoipa::path(get, path = "/api/buttons/{name}/runs", params(
    ("name" = String, Path, description = "The button"),
    ("no_output" = Option<String>, Query, description = "`1` leaves out stdout and stderr"),
), responses(
    (status = 200, description = "`{\"button\", \"runs\": [...]}`, newest first"),
    (status = 404, description = "No such button", body = ErrorEnvelope),
))]
async fn runs(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    Query(query): Query<HashMap<String, String>>,
) -> ApiResult {
    let loaded = state.engine.load(&name).map_err(|e| ApiError::exec(&e))?;
    let no_output = query
        .get("no_output")
        .is_some_and(|v| matches!(v.as_str(), "1" | "true" | ""));
    let records = state
        .engine
        .store()
        .records(Some(&loaded.name), RUNS)
        .map_err(|e| ApiError::exec(&e.into()))?;
    let runs: Vec<Value> = records
        .into_iter()
        .map(|stored| {
            let mut value = serde_json::to_value(&stored.record).expect("a record serializes");
            if let Some(map) = value.as_object_mut() {
                if no_output {
                    map.shift_remove("stdout");
                    map.shift_remove("stderr");
                }
                map.insert("id".into(), json!(stored.id.as_str()));
            }
            value
        })
        .collect();
    Ok(Json(json!({ "button": loaded.name.as_str(), "runs": runs })).into_response())
}

/// Reads a request's body: 413 when its `Content-Length` or its bytes
/// pass [`MAX_BODY`].
async fn read_request_body(request: axum::extract::Request) -> Result<axum::body::Bytes, ApiError> {
    let too_long = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > MAX_BODY as u64);
    if too_long {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BODY_TOO_LARGE",
            format!("the request body is larger than {MAX_BODY} bytes"),
        ));
    }
    read_body(request.into_body()).await
}

/// Reads a body of at most [`MAX_BODY`] bytes.
async fn read_body(body: Body) -> Result<axum::body::Bytes, ApiError> {
    match Limited::new(body, MAX_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "BODY_TOO_LARGE",
            format!("the request body is larger than {MAX_BODY} bytes"),
        )),
        Err(e) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "REQUEST_TIMEOUT",
            format!("the request body could not be read: {e}"),
        )),
    }
}

/// `{"args": {…}, "timeout": N}`, both optional.
fn parse_press(bytes: &[u8]) -> Result<(Map<String, Value>, Option<Duration>), ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok((Map::new(), None));
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    let Value::Object(mut body) = value else {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    };
    let args = match body.remove("args") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(args)) => args,
        Some(_) => return Err(ApiError::bad_request("`args` must be a JSON object")),
    };
    let timeout = match body.remove("timeout") {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => match n.as_f64() {
            Some(secs) if secs > 0.0 && secs.is_finite() => {
                Some(Duration::from_secs_f64(secs.min(MAX_TIMEOUT.as_secs_f64())))
            }
            _ => {
                return Err(ApiError::new(
                    StatusCode::BAD_REQUEST,
                    "VALIDATION_ERROR",
                    "`timeout` must be a positive number of seconds",
                ));
            }
        },
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "VALIDATION_ERROR",
                "`timeout` must be a number of seconds",
            ));
        }
    };
    Ok((args, timeout))
}

/// Presses a button; 200 with the press result, whatever its status.
///
/// With an `Idempotency-Key` header, a retry with the same key and
/// arguments answers with the first successful press's result, marked
/// `"replayed": true`, and nothing runs again; the same key with other
/// arguments is 400 `VALIDATION_ERROR`.
#[utoipa::path(post, path = "/api/buttons/{name}/press", params(
    ("name" = String, Path, description = "The button"),
    ("Idempotency-Key" = Option<String>, Header, description = "Presses with one key (and the same arguments) run once for 24 hours; replays carry `\"replayed\": true`"),
),
    request_body(content = PressBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The press result"),
        (status = 400, description = "MISSING_ARG, VALIDATION_ERROR (also: an Idempotency-Key reused with other arguments) or BAD_REQUEST", body = ErrorEnvelope),
        (status = 403, description = "HTTP_BUTTON_BLOCKED or FORBIDDEN_ORIGIN", body = ErrorEnvelope),
        (status = 404, description = "No such button", body = ErrorEnvelope),
        (status = 413, description = "BODY_TOO_LARGE: over 1 MiB", body = ErrorEnvelope),
        (status = 415, description = "Not `Content-Type: application/json`", body = ErrorEnvelope),
        (status = 503, description = "BUSY: 8 presses are running (Retry-After: 1)", body = ErrorEnvelope),
    ))]
async fn press(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    request: axum::extract::Request,
) -> ApiResult {
    let idempotency = idempotency_key(request.headers())?;
    let bytes = read_request_body(request).await?;
    let (args, timeout) = parse_press(&bytes)?;
    let loaded = state.engine.load(&name).map_err(|e| ApiError::exec(&e))?;
    if !loaded.button.url.is_empty() && !state.allow_http_buttons {
        return Err(ApiError::http_button_blocked(loaded.name.as_str()));
    }
    let args = loaded
        .validate(&ArgInput::Json(args))
        .map_err(|e| ApiError::exec(&e))?;
    let permit = acquire(&state)?;
    let mut kill = state.kill.clone();
    let mut options = PressOptions::default()
        .grace(KILL_GRACE)
        .cancel_on(async move {
            let _ = kill.wait_for(|k| *k).await;
        });
    if let Some(timeout) = timeout {
        options = options.timeout(timeout);
    }
    // The press runs in its own task: a client that goes away does not stop
    // it, and its record is written all the same.
    let task_state = Arc::clone(&state);
    let task = tokio::spawn(async move {
        let ran = task_state
            .engine
            .press_loaded_keyed(&loaded, &args, idempotency.as_ref(), options)
            .await;
        drop(permit);
        ran
    });
    let ran = task
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                e.to_string(),
            )
        })?
        .map_err(|e| ApiError::exec(&e))?;
    let mut value = serde_json::to_value(&ran.result).expect("a press result serializes");
    if let Some(map) = value.as_object_mut() {
        map.insert("run_id".into(), json!(ran.id.as_str()));
        if ran.replayed {
            map.insert("replayed".into(), Value::Bool(true));
        }
        if let Some(hint) = ran.hint.as_ref().filter(|_| !ran.result.is_ok()) {
            map.insert("hint".into(), json!(hint));
        }
    }
    Ok(Json(value).into_response())
}

/// A drawer by name, or 404 `DRAWER_NOT_FOUND`.
fn load_drawer(state: &AppState, name: &str) -> Result<Drawer, ApiError> {
    let name = ButtonName::from_user(name).map_err(|e| ApiError::exec(&e.into()))?;
    state
        .engine
        .store()
        .load_drawer(&name)
        .map_err(|e| ApiError::exec(&e.into()))
}

/// Every drawer: `{"drawers": [{name, description, drawer_kind, steps,
/// topology}]}`.
#[utoipa::path(get, path = "/api/drawers", responses(
    (status = 200, description = "`{\"drawers\": [...]}`"),
    (status = 401, description = "No or a wrong key", body = ErrorEnvelope),
))]
async fn list_drawers(State(state): State<Arc<AppState>>) -> ApiResult {
    let listed = state
        .engine
        .store()
        .list_drawers()
        .map_err(|e| ApiError::exec(&e.into()))?;
    let drawers: Vec<Value> = listed
        .into_iter()
        .map(|entry| match entry.drawer {
            Ok(d) => json!({
                "name": d.name, "description": d.description,
                "drawer_kind": kind_text(&d), "steps": d.steps.len(),
                "topology": d.topology(),
            }),
            Err(e) => json!({ "name": entry.name, "error": CliError::from(e) }),
        })
        .collect();
    Ok(Json(json!({ "drawers": drawers })).into_response())
}

/// One drawer: its spec (secret inputs' defaults masked), `drawer_kind`,
/// `topology` and `validation`.
#[utoipa::path(get, path = "/api/drawers/{name}", params(("name" = String, Path, description = "The drawer")), responses(
    (status = 200, description = "The drawer's spec, topology and validation"),
    (status = 404, description = "DRAWER_NOT_FOUND", body = ErrorEnvelope),
))]
async fn show_drawer(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> ApiResult {
    let drawer = load_drawer(&state, &name)?;
    let mut value = serde_json::to_value(&drawer).expect("a drawer serializes");
    for input in value
        .get_mut("inputs")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        if input["secret"] == true && input.get("default").is_some() {
            input["default"] = json!(SECRET_MASK);
        }
    }
    value["drawer_kind"] = json!(kind_text(&drawer));
    value["topology"] = json!(drawer.topology());
    value["validation"] =
        serde_json::to_value(validate_drawer(&drawer, state.engine.store())).expect("serializes");
    Ok(Json(value).into_response())
}

/// The newest 20 runs of a drawer (as recorded: secrets masked).
#[utoipa::path(get, path = "/api/drawers/{name}/runs", params(("name" = String, Path, description = "The drawer")), responses(
    (status = 200, description = "`{\"drawer\", \"runs\": [...]}`, newest first"),
    (status = 404, description = "DRAWER_NOT_FOUND", body = ErrorEnvelope),
))]
async fn drawer_runs(State(state): State<Arc<AppState>>, Path(name): Path<String>) -> ApiResult {
    let drawer = load_drawer(&state, &name)?;
    let name = ButtonName::from_user(&drawer.name).map_err(|e| ApiError::exec(&e.into()))?;
    let runs = state
        .engine
        .store()
        .drawer_runs(&name, RUNS)
        .map_err(|e| ApiError::exec(&e.into()))?;
    let runs: Vec<Value> = runs
        .into_iter()
        .map(|run| {
            let mut record = run.record;
            if let Some(map) = record.as_object_mut() {
                map.entry("run_id").or_insert(json!(run.id));
            }
            record
        })
        .collect();
    Ok(Json(json!({ "drawer": name.as_str(), "runs": runs })).into_response())
}

/// `{"inputs": {…}}`, optional.
fn parse_drawer_press(bytes: &[u8]) -> Result<Map<String, Value>, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Map::new());
    }
    let value: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::bad_request(format!("the body is not JSON: {e}")))?;
    let Value::Object(mut body) = value else {
        return Err(ApiError::bad_request("the body must be a JSON object"));
    };
    match body.remove("inputs") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(inputs)) => Ok(inputs),
        Some(_) => Err(ApiError::bad_request("`inputs` must be a JSON object")),
    }
}

/// Presses a drawer; 200 with the drawer's result (secrets masked),
/// whatever its status.
#[utoipa::path(post, path = "/api/drawers/{name}/press", params(("name" = String, Path, description = "The drawer")),
    request_body(content = DrawerPressBody, content_type = "application/json"),
    responses(
        (status = 200, description = "The drawer result: `{run_id, drawer, status, steps, failed_step?, error?}`"),
        (status = 400, description = "MISSING_INPUT, VALIDATION_ERROR, FLOW_RUNTIME_REQUIRED or BAD_REQUEST", body = ErrorEnvelope),
        (status = 403, description = "HTTP_BUTTON_BLOCKED (a step presses an HTTP button) or FORBIDDEN_ORIGIN", body = ErrorEnvelope),
        (status = 404, description = "DRAWER_NOT_FOUND", body = ErrorEnvelope),
        (status = 413, description = "BODY_TOO_LARGE: over 1 MiB", body = ErrorEnvelope),
        (status = 415, description = "Not `Content-Type: application/json`", body = ErrorEnvelope),
        (status = 503, description = "BUSY: 8 presses are running (Retry-After: 1)", body = ErrorEnvelope),
    ))]
async fn press_drawer(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    request: axum::extract::Request,
) -> ApiResult {
    let bytes = read_request_body(request).await?;
    let inputs = parse_drawer_press(&bytes)?;
    let (drawer, _) = state
        .engine
        .load_drawer_for_press(&name)
        .map_err(|e| ApiError::exec(&e))?;
    if !state.allow_http_buttons {
        let http = state.engine.drawer_http_buttons(&drawer);
        if !http.is_empty() {
            return Err(ApiError::http_drawer_blocked(&drawer.name, &http));
        }
    }
    // Inputs are checked (MISSING_INPUT, VALIDATION_ERROR) before a slot is taken.
    let checked = check_inputs(&drawer, &inputs).map_err(|e| ApiError::exec(&e))?;
    let secrets = state.engine.drawer_secrets(&drawer, &checked);
    let permit = acquire(&state)?;
    let mut kill = state.kill.clone();
    let options = DrawerOptions {
        cancel: Some(Box::pin(async move {
            let _ = kill.wait_for(|k| *k).await;
        })),
        ..DrawerOptions::default()
    };
    let drawer_request = DrawerRequest {
        name: drawer.name.clone(),
        inputs,
        webhook_body: None,
        env: state.drawer_env.clone(),
    };
    // As for buttons: the press runs on when the client goes away.
    let task_state = Arc::clone(&state);
    let task = tokio::spawn(async move {
        let ran = task_state
            .engine
            .press_drawer(&drawer_request, options)
            .await;
        drop(permit);
        ran
    });
    let ran = task
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_ERROR",
                e.to_string(),
            )
        })?
        .map_err(|e| ApiError::exec(&e))?;
    let mut result = ran.result;
    mask_json(&mut result, &secrets);
    Ok(Json(result).into_response())
}

/// The `Idempotency-Key` header, if any (checked by the engine: non-empty,
/// at most 512 bytes).
fn idempotency_key(headers: &axum::http::HeaderMap) -> Result<Option<Idempotency>, ApiError> {
    let Some(value) = headers.get(IDEMPOTENCY_HEADER) else {
        return Ok(None);
    };
    let key = value.to_str().map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "VALIDATION_ERROR",
            "the Idempotency-Key header is not visible ASCII text",
        )
        .hint("send the key as printable ASCII, or leave the header out")
    })?;
    Ok(Some(Idempotency::new(key)))
}

/// A press slot, or 503 `BUSY` when all are taken or the server is stopping.
fn acquire(state: &AppState) -> Result<OwnedSemaphorePermit, ApiError> {
    let busy = || {
        let mut error = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "BUSY",
            format!("{MAX_PRESSES} presses are already running"),
        )
        .hint("try again in a moment");
        error.retry_after = true;
        error
    };
    if *state.stopping.borrow() {
        let mut error = busy();
        error.error["message"] = json!("the server is shutting down");
        return Err(error);
    }
    Arc::clone(&state.presses)
        .try_acquire_owned()
        .map_err(|_| busy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_lists_exactly_the_endpoints() {
        let doc = <ApiDoc as utoipa::OpenApi>::openapi();
        let mut documented: Vec<String> = Vec::new();
        for (path, item) in &doc.paths.paths {
            if item.get.is_some() {
                documented.push(format!("GET {path}"));
            }
            if item.post.is_some() {
                documented.push(format!("POST {path}"));
            }
        }
        documented.sort();
        let mut listed: Vec<String> = ENDPOINTS.iter().map(|e| (*e).to_owned()).collect();
        listed.sort();
        assert_eq!(documented, listed);
    }

    #[test]
    fn timeouts_are_capped_at_300_seconds() {
        let (_, timeout) = parse_press(br#"{"timeout": 100000}"#).unwrap();
        assert_eq!(timeout, Some(MAX_TIMEOUT));
        let (_, timeout) = parse_press(br#"{"timeout": 2.5}"#).unwrap();
        assert_eq!(timeout, Some(Duration::from_millis(2500)));
        let (args, timeout) = parse_press(b"  ").unwrap();
        assert!(args.is_empty() && timeout.is_none());
        for bad in [
            r#"{"timeout": 0}"#,
            r#"{"timeout": "5"}"#,
            r#"{"timeout": -3}"#,
        ] {
            assert!(parse_press(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
