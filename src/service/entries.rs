//! External services (ServiceEntries): list, read, create, delete, undo.

use super::{checked_key, Actor, Answer};
use crate::auth::now;
use crate::cluster::{Change, Changed, EntrySnapshot, KeepForUndo};
use crate::domain::access::{Access, Action, NamespacePermissions};
use crate::domain::form::ServiceEntryForm;
use crate::domain::manifest::service_entry_for_create;
use crate::domain::paging::{Page, PageRequest};
use crate::domain::route::mark_routed;
use crate::domain::service_entry::{Seen, ServiceEntryDetail, ServiceEntryView};
use crate::domain::validation::is_valid;
use crate::error::AppError;
use std::collections::BTreeSet;
use std::sync::Arc;

/// The cached ServiceEntries and, in shared mode, the namespaces of `namespace` (empty:
/// every namespace) the actor may list them in; refused when the actor may not list the one
/// namespace asked for.
async fn listable(
    actor: &Actor,
    namespace: &str,
) -> Answer<(Arc<EntrySnapshot>, Option<BTreeSet<String>>)> {
    if !namespace.is_empty() {
        checked_key(namespace, None)?;
    }
    if !namespace.is_empty() && actor.shared {
        let action = Action::ListServiceEntries {
            namespace: namespace.to_string(),
        };
        if let Some(reason) = actor.mapped(actor.cluster.can(&action).await)?.reason() {
            return Err(AppError::Forbidden {
                message: reason.to_string(),
            });
        }
    }
    let snapshot = actor.mapped(actor.server.service_entry_snapshot().await)?;
    let visible = match namespace.is_empty() && actor.shared {
        true => Some(
            actor
                .visible_namespaces(snapshot.registered.keys().cloned())
                .await?,
        ),
        false => None,
    };
    Ok((snapshot, visible))
}

/// ServiceEntries of a namespace (`namespace` empty: every namespace the actor may list),
/// from the shared watch cache, cut to what the actor may see.
pub async fn list_service_entries(
    actor: &Actor,
    namespace: &str,
) -> Answer<Arc<Vec<Arc<ServiceEntryView>>>> {
    let namespace = namespace.trim();
    let (snapshot, visible) = listable(actor, namespace).await?;
    let now = now() as i64;
    if namespace.is_empty() && visible.is_none() {
        return Ok(snapshot.aged(now));
    }
    let mut rows: Vec<ServiceEntryView> = snapshot
        .in_namespace(namespace)
        .filter(|e| visible.as_ref().is_none_or(|v| v.contains(&e.namespace)))
        .map(|e| e.aged(now))
        .collect();
    marked(actor, &mut rows).await;
    Ok(Arc::new(rows.into_iter().map(Arc::new).collect()))
}

/// One entry's view from the shared watch cache, when the actor may list its namespace.
pub(super) async fn cached_entry(
    actor: &Actor,
    namespace: &str,
    name: &str,
) -> Answer<ServiceEntryView> {
    checked_key(namespace, Some(name))?;
    let (snapshot, _) = listable(actor, namespace).await?;
    let found = snapshot.in_namespace(namespace).find(|e| e.name == name);
    found
        .map(|e| ServiceEntryView::clone(e))
        .ok_or_else(|| AppError::NotFound {
            what: format!("ServiceEntry {namespace}/{name}"),
        })
}

/// Marks the rows shown with the gateway they leave through; routing that cannot be read
/// (the VirtualServices hidden from the actor) leaves them unmarked.
async fn marked(actor: &Actor, rows: &mut [ServiceEntryView]) {
    if let Ok(services) = actor.cluster.virtual_services().await {
        mark_routed(rows, &services);
    }
}

/// One page of the ServiceEntries of a namespace (empty: every namespace the actor may list)
/// whose name or a host contains `query`, with the totals. Only the rows of the page are
/// copied out of the cache.
pub async fn service_entries_page(
    actor: &Actor,
    namespace: &str,
    query: &str,
    page: &str,
    size: &str,
) -> Answer<Page<ServiceEntryView>> {
    let request = PageRequest::parse(page, size).map_err(|(field, reason)| AppError::Invalid {
        field: field.into(),
        reason,
    })?;
    let namespace = namespace.trim();
    let (snapshot, visible) = listable(actor, namespace).await?;
    let listed: Vec<&Arc<ServiceEntryView>> = snapshot
        .in_namespace(namespace)
        .filter(|e| visible.as_ref().is_none_or(|v| v.contains(&e.namespace)))
        .collect();
    let total = listed.len();
    let matching = listed.into_iter().filter(|e| e.matches(query)).collect();
    let now = now() as i64;
    let mut page = Page::of(matching, total, request).map(|e| e.aged(now));
    marked(actor, &mut page.items).await;
    Ok(page)
}

/// One ServiceEntry with every field, its YAML and what validation finds in it.
pub async fn service_entry(
    actor: &Actor,
    namespace: &str,
    name: &str,
) -> Answer<ServiceEntryDetail> {
    checked_key(namespace, Some(name))?;
    actor.mapped(actor.cluster.service_entry(namespace, name).await)
}

/// Creates a ServiceEntry from a manifest (YAML or JSON): mesh-egress's validation, then a
/// server-side dry run, then the write. `namespace` applies when the manifest names none.
pub async fn create_from_manifest(
    actor: &Actor,
    manifest: &str,
    namespace: Option<&str>,
) -> Answer<ServiceEntryView> {
    let (namespace, object) = service_entry_for_create(manifest, namespace)
        .map_err(|findings| AppError::Rejected { findings })?;
    let view = actor.mapped(actor.cluster.create_service_entry(&namespace, object).await)?;
    audit(
        actor,
        &view.namespace,
        &view.name,
        EntryChange::Created,
        &view.hosts,
    )
    .await;
    Ok(view)
}

/// Creates a ServiceEntry from the create form. The form's own findings (lines that do not
/// read as ports or endpoints, missing names) refuse it: nothing is dropped silently.
pub async fn create_from_form(actor: &Actor, form: &ServiceEntryForm) -> Answer<ServiceEntryView> {
    let findings = form.findings();
    if !is_valid(&findings) {
        return Err(AppError::Rejected { findings });
    }
    let manifest = form.to_object().to_string();
    create_from_manifest(actor, &manifest, Some(form.namespace.trim())).await
}

/// Deletes a ServiceEntry; the answer names the hosts pods no longer reach. An undo record
/// is kept in the cluster first (for [`undo_delete`], from any replica, for a bounded time).
pub async fn delete_service_entry(
    actor: &Actor,
    namespace: &str,
    name: &str,
    seen: Option<Seen>,
) -> Answer<ServiceEntryView> {
    checked_key(namespace, Some(name))?;
    let who = actor.mapped(actor.cluster.whoami().await)?;
    let keep = KeepForUndo {
        store: &actor.server,
        deleted_by: &who,
        until: now() + actor.undo_for,
    };
    let deleted = actor.mapped(
        actor
            .cluster
            .delete_service_entry(namespace, name, seen.as_ref(), Some(&keep))
            .await,
    )?;
    audit(actor, namespace, name, EntryChange::Deleted, &deleted.hosts).await;
    // Expired records go now and then, by the server, whatever happens to this request.
    let server = actor.server.clone();
    tokio::spawn(async move {
        if let Err(e) = server.sweep_undo_records(now()).await {
            tracing::debug!(error = %e, "could not remove expired undo records");
        }
    });
    Ok(deleted)
}

/// Creates a deleted ServiceEntry again, exactly as it was: as the user, from the undo record
/// in the cluster, within the undo window, only for the user who deleted it or one who may
/// delete the record itself (an admin of mesh-egress's namespace).
pub async fn undo_delete(actor: &Actor, namespace: &str, name: &str) -> Answer<ServiceEntryView> {
    checked_key(namespace, Some(name))?;
    let record = actor
        .mapped(actor.server.undo_record(namespace, name, now()).await)?
        .ok_or_else(|| AppError::Precondition {
            reason: format!(
                "there is nothing to undo for {namespace}/{name}: it was not deleted here in \
                 the last {} minutes",
                actor.undo_for.div_ceil(60)
            ),
        })?;
    let who = actor.mapped(actor.cluster.whoami().await)?;
    if record.deleted_by != who {
        let manage = Action::ManageUndoRecords {
            namespace: actor.server.state_namespace().to_string(),
        };
        if let Access::Denied { .. } = actor.mapped(actor.cluster.can(&manage).await)? {
            return Err(AppError::Forbidden {
                message: format!(
                    "{namespace}/{name} was deleted by {}: only they, or someone who may delete \
                     configmaps in namespace {}, can undo it",
                    record.deleted_by,
                    actor.server.state_namespace()
                ),
            });
        }
    }
    let view = actor.mapped(actor.cluster.restore_service_entry(&record).await)?;
    if let Err(e) = actor.server.forget_undo(&record.record).await {
        tracing::warn!(error = %e, record = record.record, "could not remove a used undo record");
    }
    audit(actor, namespace, name, EntryChange::Restored, &view.hosts).await;
    Ok(view)
}

/// What the actor may do with ServiceEntries in `namespace`.
pub async fn namespace_access(actor: &Actor, namespace: &str) -> Answer<NamespacePermissions> {
    checked_key(namespace, None)?;
    let namespace = namespace.to_string();
    let create = Action::CreateServiceEntries {
        namespace: namespace.clone(),
    };
    let delete = Action::DeleteServiceEntries { namespace };
    Ok(NamespacePermissions {
        create: actor.mapped(actor.cluster.can(&create).await)?,
        delete: actor.mapped(actor.cluster.can(&delete).await)?,
    })
}

/// The namespaces in which the actor may register ServiceEntries (every namespace in local
/// mode), sorted: what the namespace picker offers.
pub async fn writable_namespaces(actor: &Actor) -> Answer<Vec<String>> {
    let namespaces = actor.mapped(actor.server.namespaces().await)?;
    let allowed = actor
        .namespaces_where(namespaces.into_iter().map(|n| n.name), |namespace| {
            Action::CreateServiceEntries { namespace }
        })
        .await?;
    Ok(allowed.into_iter().collect())
}

/// What happened to a ServiceEntry, as the audit trail names it.
#[derive(Clone, Copy)]
enum EntryChange {
    Created,
    Deleted,
    Restored,
}

/// Records a change to one ServiceEntry (with its hosts) in the audit trail.
async fn audit(actor: &Actor, namespace: &str, name: &str, change: EntryChange, hosts: &[String]) {
    let hosts = hosts.join(", ");
    let (reason, what) = match change {
        EntryChange::Created => (
            "ServiceEntryCreated",
            format!("created ServiceEntry for {hosts}"),
        ),
        EntryChange::Deleted => (
            "ServiceEntryDeleted",
            format!("deleted ServiceEntry: pods no longer reach {hosts} under REGISTRY_ONLY"),
        ),
        EntryChange::Restored => (
            "ServiceEntryRestored",
            format!("restored deleted ServiceEntry for {hosts}"),
        ),
    };
    let object = Changed::ServiceEntry {
        namespace: namespace.into(),
        name: name.into(),
    };
    actor
        .audit(Change {
            object,
            reason,
            what,
        })
        .await;
}
