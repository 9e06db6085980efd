//! The webhook routes: `POST /PATH` for button webhook triggers and drawer
//! webhooks, glue over [`buttons_exec::Triggers`] and
//! [`buttons_exec::Authenticator`].
//!
//! Order per request: the route (else 404), `POST` (else 405), the
//! credentials (before the body is read: a stranger cannot make the server
//! take 8 MiB), the body (at most 8 MiB, else 413), then the press in the
//! trigger pool (a full line is 503 `BUSY`). A press answers 202.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use buttons_exec::{
    AuthFailure, MAX_WEBHOOK_BODY, PressRefused, WebhookCall, WebhookRoute, check_button_token,
    webhook_payload,
};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use serde_json::json;

use super::api::{ApiError, AppState};

/// The fallback of every router: a webhook route, else 404.
pub(super) async fn fallback(State(state): State<Arc<AppState>>, request: Request) -> Response {
    let route = state
        .triggers
        .as_ref()
        .and_then(|t| t.route(request.uri().path()));
    let Some(route) = route else {
        return ApiError::new(StatusCode::NOT_FOUND, "NOT_FOUND", "no such endpoint")
            .hint("the endpoints are listed in the server's startup line")
            .into_response();
    };
    if request.method() != Method::POST {
        return ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "METHOD_NOT_ALLOWED",
            "a webhook takes POST only",
        )
        .into_response();
    }
    match handle(&state, route, request).await {
        Ok(response) => response,
        Err(error) => error.into_response(),
    }
}

/// A router of the webhook routes alone (`buttons webhook listen`).
pub(super) fn webhook_router(state: Arc<AppState>) -> axum::Router {
    axum::Router::new().fallback(fallback).with_state(state)
}

fn refused(failure: &AuthFailure) -> ApiError {
    let status =
        StatusCode::from_u16(failure.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    ApiError::new(status, failure.code(), failure.to_string()).hint(failure.hint())
}

fn too_large() -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "BODY_TOO_LARGE",
        format!("the webhook body is larger than {MAX_WEBHOOK_BODY} bytes (8 MiB)"),
    )
}

fn busy(message: &str) -> ApiError {
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "BUSY", message).hint("try again in a moment")
}

async fn handle(
    state: &AppState,
    route: WebhookRoute,
    request: Request,
) -> Result<Response, ApiError> {
    if *state.stopping.borrow() {
        return Err(busy("the server is shutting down"));
    }
    let triggers = state
        .triggers
        .clone()
        .expect("a route comes from the triggers");
    let (parts, body) = request.into_parts();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let query = parts.uri.query().unwrap_or("");
    match &route {
        WebhookRoute::Button { trigger, .. } => {
            let expected = match (&trigger.token, trigger.no_auth) {
                (None, true) => None,
                (token, _) => Some(token.as_deref().unwrap_or("")),
            };
            check_button_token(expected, &headers, query).map_err(|f| refused(&f))?;
        }
        WebhookRoute::Drawer { auth, .. } => {
            auth.check(&headers, query).map_err(|f| refused(&f))?;
        }
    }
    if !state.allow_http_buttons {
        http_buttons_blocked(state, &route)?;
    }
    let declared_too_long = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .is_some_and(|n| n > MAX_WEBHOOK_BODY as u64);
    if declared_too_long {
        return Err(too_large());
    }
    let body = match Limited::new(body, MAX_WEBHOOK_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => return Err(too_large()),
        Err(e) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "REQUEST_TIMEOUT",
                format!("the webhook body could not be read: {e}"),
            ));
        }
    };
    let pressed = |refusal: PressRefused| match refusal {
        PressRefused::Busy => busy("too many trigger presses are running or waiting"),
        PressRefused::Failed(e) => ApiError::exec(&e),
        _ => busy("the press did not start"),
    };
    let response = match route {
        WebhookRoute::Button { name, trigger } => {
            let run_id = triggers
                .press_webhook_button(&name, &trigger)
                .await
                .map_err(pressed)?;
            json!({ "ok": true, "button": name.as_str(), "run_id": run_id })
        }
        WebhookRoute::Drawer { name, auth } => {
            let call = WebhookCall {
                method: parts.method.as_str(),
                path: parts.uri.path(),
                query,
                headers: &headers,
                body: &body,
                received_at: jiff::Timestamp::now(),
            };
            let payload = webhook_payload(&call, auth.auth_header());
            let id = triggers
                .press_webhook_drawer(&name, payload)
                .await
                .map_err(pressed)?;
            json!({
                "ok": true,
                "drawer": name,
                "run_id": id.as_str(),
            })
        }
    };
    Ok((StatusCode::ACCEPTED, Json(response)).into_response())
}

/// A webhook may not press an HTTP button (directly, or in a drawer's
/// steps) unless the server runs with `--allow-http-buttons`, as the API.
fn http_buttons_blocked(state: &AppState, route: &WebhookRoute) -> Result<(), ApiError> {
    match route {
        WebhookRoute::Button { name, .. } => {
            let loaded = state
                .engine
                .load(name.as_str())
                .map_err(|e| ApiError::exec(&e))?;
            if !loaded.button.url.is_empty() {
                return Err(ApiError::http_button_blocked(name.as_str()));
            }
        }
        WebhookRoute::Drawer { name, .. } => {
            let (drawer, _) = state
                .engine
                .load_drawer_for_press(name)
                .map_err(|e| ApiError::exec(&e))?;
            let http = state.engine.drawer_http_buttons(&drawer);
            if !http.is_empty() {
                return Err(ApiError::http_drawer_blocked(name, &http));
            }
        }
    }
    Ok(())
}
