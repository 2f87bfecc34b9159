//! Workspace variables: `GET`/`POST /workspaces/:id/vars` and `GET`/`PATCH`/`DELETE
//! /workspaces/:id/vars/:var_id`, with go-tfe's and pytfe's shapes; `GET /workspaces/:id/all-vars` lists the
//! same (the emulator has no variable sets to add). A sensitive variable's value is never returned (`null`).
//! Refusals are 422s titled "invalid attribute" with a `source.pointer` to the attribute, as the API's validation
//! errors are: a key already taken in the same category ("Key has already been taken", the API's words), and, in
//! the same style, a category other than `terraform` or `env`, a blank key or category, a description over 512
//! characters.

use tfe_client::models::VariableCategory;
use tfe_client::requests::VariableOptions;

use super::*;
use crate::store::Variable;

/// The longest description the API takes.
const MAX_DESCRIPTION: usize = 512;

/// A 422 about one attribute, worded as the API's validation errors are (`Key has already been taken`).
fn invalid(attribute: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::unprocessable(detail).invalid_attribute(attribute)
}

/// A new random `version-id`: 32 hex digits.
fn new_version_id() -> String {
    new_secret()
        .bytes()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Checks a variable as it would be after create or update: key, category, description, and that no other
/// variable of the workspace has its key in its category.
fn validate(store: &Store, var: &Variable) -> Result<(), ApiError> {
    if var.key.trim().is_empty() {
        return Err(invalid("key", "Key can't be blank"));
    }
    match &var.category {
        VariableCategory::Terraform | VariableCategory::Env => {}
        VariableCategory::Unknown(c) if c.is_empty() => {
            return Err(invalid("category", "Category can't be blank"));
        }
        _ => {
            return Err(invalid("category", "Category is not included in the list"));
        }
    }
    if var
        .description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        return Err(invalid(
            "description",
            format!("Description is too long (maximum is {MAX_DESCRIPTION} characters)"),
        ));
    }
    let taken = store
        .workspace_variables(&var.workspace_id)
        .iter()
        .any(|other| other.id != var.id && other.key == var.key && other.category == var.category);
    if taken {
        return Err(invalid("key", "Key has already been taken"));
    }
    Ok(())
}

/// The variable `var_id` of workspace `ws_id`, or the API's 404.
fn variable_of<'a>(store: &'a Store, ws_id: &str, var_id: &str) -> Result<&'a Variable, ApiError> {
    if !store.workspaces.contains_key(ws_id) {
        return Err(ApiError::not_found("workspace"));
    }
    store
        .variables
        .get(var_id)
        .filter(|v| v.workspace_id == ws_id)
        .ok_or_else(|| ApiError::not_found("variable"))
}

/// Not paginated: every variable at once, without `meta`, as the API answers.
pub(super) async fn list_variables(
    State(emu): State<Shared>,
    Path(ws_id): Path<String>,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    if !store.workspaces.contains_key(&ws_id) {
        return Err(ApiError::not_found("workspace"));
    }
    let data: Vec<Value> = store
        .workspace_variables(&ws_id)
        .into_iter()
        .map(|v| render::variable(&store, v))
        .collect();
    ok(json!({"data": data}))
}

pub(super) async fn create_variable(
    State(emu): State<Shared>,
    Path(ws_id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let request: VariableOptions = document(&body)?;
    let mut store = emu.store.lock().unwrap();
    if !store.workspaces.contains_key(&ws_id) {
        return Err(ApiError::not_found("workspace"));
    }
    let var = Variable {
        id: format!("var-{}", new_suffix()),
        workspace_id: ws_id,
        key: request.key.unwrap_or_default(),
        value: request.value.unwrap_or_default(),
        description: request.description,
        category: request.category.unwrap_or_default(),
        hcl: request.hcl.unwrap_or(false),
        sensitive: request.sensitive.unwrap_or(false),
        version_id: new_version_id(),
        seq: store.next_seq(),
    };
    validate(&store, &var)?;
    let doc = json!({"data": render::variable(&store, &var)});
    store.variables.insert(var.id.clone(), var);
    Ok(jsonapi(201, doc))
}

pub(super) async fn read_variable(
    State(emu): State<Shared>,
    Path((ws_id, var_id)): Path<(String, String)>,
) -> ApiResult {
    let store = emu.store.lock().unwrap();
    let var = variable_of(&store, &ws_id, &var_id)?;
    ok(json!({"data": render::variable(&store, var)}))
}

/// Changes what the body sets; every update, even an empty one, gives a new `version-id`.
pub(super) async fn update_variable(
    State(emu): State<Shared>,
    Path((ws_id, var_id)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let request: VariableOptions = document(&body)?;
    let mut store = emu.store.lock().unwrap();
    let mut var = variable_of(&store, &ws_id, &var_id)?.clone();
    if let Some(key) = request.key {
        var.key = key;
    }
    if let Some(value) = request.value {
        var.value = value;
    }
    if let Some(description) = request.description {
        var.description = Some(description);
    }
    if let Some(category) = request.category {
        var.category = category;
    }
    if let Some(hcl) = request.hcl {
        var.hcl = hcl;
    }
    if let Some(sensitive) = request.sensitive {
        var.sensitive = sensitive;
    }
    var.version_id = new_version_id();
    validate(&store, &var)?;
    let doc = json!({"data": render::variable(&store, &var)});
    store.variables.insert(var.id.clone(), var);
    ok(doc)
}

pub(super) async fn delete_variable(
    State(emu): State<Shared>,
    Path((ws_id, var_id)): Path<(String, String)>,
) -> ApiResult {
    let mut store = emu.store.lock().unwrap();
    variable_of(&store, &ws_id, &var_id)?;
    store.variables.remove(&var_id);
    Ok(axum::http::StatusCode::NO_CONTENT.into_response())
}
