//! Changing a ServiceEntry in place: judged like a create (mesh-egress's rules, then istiod's
//! webhook by a server-side dry run), shown as a diff, then written as an update carrying the
//! version the user started from, so a change made meanwhile is never overwritten.

use super::{checked_key, Actor, Answer};
use crate::cluster::{Change, Changed, ErrorKind};
use crate::domain::edit::{
    changed_since_opened, changes, comparable, line_diff, merge_form, EditPreview,
};
use crate::domain::form::ServiceEntryForm;
use crate::domain::manifest::{judge_object, service_entry_for_create};
use crate::domain::service_entry::ServiceEntryView;
use crate::domain::validation::{is_valid, Finding};
use crate::domain::yaml::to_yaml;
use crate::error::AppError;
use serde_json::Value;

/// What the user changed: the form's fields, or the whole object as YAML.
#[derive(Debug, Clone)]
pub enum Edit {
    /// The edit form (fields it does not show stay as they are).
    Form(Box<ServiceEntryForm>),
    /// A manifest of the whole object.
    Manifest(String),
}

/// An edit made of the entry as it is now: the entry, its version, the object to write, and
/// the warnings of mesh-egress's rules (errors refuse it before this).
struct Prepared {
    current: Value,
    version: String,
    object: Value,
    warnings: Vec<Finding>,
}

fn refuse(field: &str, message: String) -> AppError {
    AppError::Rejected {
        findings: vec![Finding::error("EDIT001", field, message)],
    }
}

/// The object `edit` makes of `current`, with the version it is made against.
fn edited(current: &Value, namespace: &str, name: &str, edit: &Edit) -> Answer<Value> {
    let mut object = match edit {
        Edit::Form(form) => {
            if form.name.trim() != name || form.namespace.trim() != namespace {
                return Err(refuse(
                    "metadata.name",
                    format!(
                        "an edit keeps the entry's name and namespace ({namespace}/{name}); \
                         duplicate it to register it elsewhere"
                    ),
                ));
            }
            let findings = form.findings();
            if !is_valid(&findings) {
                return Err(AppError::Rejected { findings });
            }
            merge_form(current, form)
        }
        Edit::Manifest(manifest) => {
            let (given_namespace, object) = service_entry_for_create(manifest, Some(namespace))
                .map_err(|findings| AppError::Rejected { findings })?;
            let given_name = object["metadata"]["name"].as_str().unwrap_or_default();
            if given_namespace != namespace || given_name != name {
                return Err(refuse(
                    "metadata.name",
                    format!(
                        "the manifest names {given_namespace}/{given_name}; this edit is of \
                         {namespace}/{name}"
                    ),
                ));
            }
            object
        }
    };
    // The update is made against the version read now; the caller checked it against the
    // version the user started from.
    object["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"].clone();
    Ok(object)
}

async fn prepare(actor: &Actor, namespace: &str, name: &str, edit: &Edit) -> Answer<Prepared> {
    checked_key(namespace, Some(name))?;
    let current = actor.mapped(actor.cluster.service_entry_object(namespace, name).await)?;
    let version = current["metadata"]["resourceVersion"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let object = edited(&current, namespace, name, edit)?;
    // The whole object, labels and fields the form does not show included.
    let findings = judge_object(&object).findings.unwrap_or_default();
    if !is_valid(&findings) {
        return Err(AppError::Rejected { findings });
    }
    Ok(Prepared {
        current,
        version,
        object,
        warnings: findings,
    })
}

/// What `edit` would change in `namespace/name`, judged (mesh-egress's rules, istiod's
/// webhook by a dry run) and shown against the entry as it is now; `opened_at` is the version
/// the user started from (the preview says when the entry changed since).
pub async fn preview_edit(
    actor: &Actor,
    namespace: &str,
    name: &str,
    opened_at: &str,
    edit: &Edit,
) -> Answer<EditPreview> {
    // istiod's webhook (and the API server's schema) judge it, and nothing is written. The
    // entry may move between the read and the dry run (istiod writes its allocated addresses
    // into `status` right after a create): the preview is then made again against that version.
    let mut attempts = 0;
    let prepared = loop {
        attempts += 1;
        let prepared = prepare(actor, namespace, name, edit).await?;
        let judged = actor
            .cluster
            .replace_service_entry(namespace, name, prepared.object.clone(), true)
            .await;
        match judged {
            Err(e) if e.kind == ErrorKind::Conflict && attempts < 3 => continue,
            judged => {
                actor.mapped(judged)?;
                break prepared;
            }
        }
    };
    let (before, after) = (comparable(&prepared.current), comparable(&prepared.object));
    Ok(EditPreview {
        namespace: namespace.to_string(),
        name: name.to_string(),
        changed_since_opened: !opened_at.is_empty() && opened_at != prepared.version,
        resource_version: prepared.version,
        changes: changes(&before, &after),
        lines: line_diff(&to_yaml(&before), &to_yaml(&after)),
        warnings: prepared.warnings,
    })
}

/// Saves `edit` of `namespace/name` if the entry is still at `version` (the one the user
/// previewed): otherwise nothing is written and the user is told. Recorded in the audit trail.
pub async fn save_edit(
    actor: &Actor,
    namespace: &str,
    name: &str,
    version: &str,
    edit: &Edit,
) -> Answer<ServiceEntryView> {
    let prepared = prepare(actor, namespace, name, edit).await?;
    if version.is_empty() || version != prepared.version {
        return Err(AppError::Conflict {
            message: changed_since_opened(namespace, name),
        });
    }
    let changed = changes(
        &comparable(&prepared.current),
        &comparable(&prepared.object),
    );
    // The write itself is judged by istiod's webhook; it carries the version previewed.
    let saved = actor.mapped(
        actor
            .cluster
            .replace_service_entry(namespace, name, prepared.object, false)
            .await,
    )?;
    let fields: Vec<&str> = changed.iter().map(|c| c.path.as_str()).collect();
    let what = match fields.is_empty() {
        true => "saved ServiceEntry unchanged".to_string(),
        false => format!("changed ServiceEntry: {}", fields.join(", ")),
    };
    audit_edit(actor, namespace, name, what).await;
    Ok(saved)
}

/// Applies `manifest` to the existing entry `namespace/name` as `kubectl apply --server-side`
/// does (see `Cluster::apply_service_entry`): fields other managers own and the manifest does
/// not name survive; `force` takes over fields another manager owns. The apply's result is
/// diffed against the entry as it was; with `dry_run` nothing is written (the CLI shows that
/// diff first). A change is recorded in the audit trail, whichever door it came through.
pub async fn apply_edit(
    actor: &Actor,
    namespace: &str,
    name: &str,
    manifest: &str,
    force: bool,
    dry_run: bool,
) -> Answer<EditPreview> {
    checked_key(namespace, Some(name))?;
    let (_, object) = service_entry_for_create(manifest, Some(namespace))
        .map_err(|findings| AppError::Rejected { findings })?;
    let warnings = judge_object(&object).findings.unwrap_or_default();
    let current = actor.mapped(actor.cluster.service_entry_object(namespace, name).await)?;
    // The apply itself is judged by istiod's webhook; with `dry_run` nothing is written. Its
    // result against the entry as it was is the diff (and what the audit names).
    let applied = actor.mapped(
        actor
            .cluster
            .apply_service_entry(namespace, name, object, force, dry_run)
            .await,
    )?;
    let (before, after) = (comparable(&current), comparable(&applied));
    let preview = EditPreview {
        namespace: namespace.to_string(),
        name: name.to_string(),
        changed_since_opened: false,
        resource_version: current["metadata"]["resourceVersion"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        changes: changes(&before, &after),
        lines: line_diff(&to_yaml(&before), &to_yaml(&after)),
        warnings,
    };
    if !dry_run && !preview.changes.is_empty() {
        let fields: Vec<&str> = preview.changes.iter().map(|c| c.path.as_str()).collect();
        let what = format!("applied ServiceEntry: {}", fields.join(", "));
        audit_edit(actor, namespace, name, what).await;
    }
    Ok(preview)
}

/// One audit Event for a change of `namespace/name` in place, whichever door it came through.
async fn audit_edit(actor: &Actor, namespace: &str, name: &str, what: String) {
    actor
        .audit(Change {
            object: Changed::ServiceEntry {
                namespace: namespace.into(),
                name: name.into(),
            },
            reason: "ServiceEntryEdited",
            what,
        })
        .await;
}
