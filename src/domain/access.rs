//! What the acting user may do, as the API server answers it: controls are shown, or disabled
//! with the reason.

use serde::{Deserialize, Serialize};

/// A verb on a resource, optionally in a namespace and on a named object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permission {
    /// get, list, create, update, patch, delete, …
    pub verb: String,
    /// API group ("" for the core group).
    pub group: String,
    /// Plural resource name.
    pub resource: String,
    /// Namespace, for namespaced resources.
    pub namespace: Option<String>,
    /// Object name, when the permission is about one object.
    pub name: Option<String>,
}

impl Permission {
    /// A permission on a namespaced resource.
    pub fn new(verb: &str, group: &str, resource: &str, namespace: &str) -> Self {
        Self {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            namespace: (!namespace.is_empty()).then(|| namespace.to_string()),
            name: None,
        }
    }

    /// The same permission on one named object.
    pub fn named(mut self, name: &str) -> Self {
        self.name = Some(name.to_string());
        self
    }

    /// "you may not delete serviceentries in namespace X".
    pub fn denied_message(&self) -> String {
        let object = match &self.name {
            Some(name) => format!("{} {name:?}", self.resource),
            None => self.resource.clone(),
        };
        match &self.namespace {
            Some(ns) => format!("you may not {} {object} in namespace {ns}", self.verb),
            None => format!("you may not {} {object}", self.verb),
        }
    }
}

/// The API server's answer for one permission.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Access {
    /// Allowed.
    Allowed,
    /// Not allowed, with the reason shown beside the disabled control.
    Denied {
        /// Why, in words.
        reason: String,
    },
}

impl Access {
    /// Whether it is allowed.
    pub fn allowed(&self) -> bool {
        matches!(self, Self::Allowed)
    }

    /// The reason, when denied.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Self::Allowed => None,
            Self::Denied { reason } => Some(reason),
        }
    }
}

/// What the acting user may do with ServiceEntries in one namespace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespacePermissions {
    /// Create ServiceEntries.
    pub create: Access,
    /// Delete ServiceEntries.
    pub delete: Access,
}

/// Who is signed in, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// local, token or proxy.
    pub mode: String,
    /// The acting user's name, when known.
    pub user: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denials_read_as_a_person_would_say_them() {
        let p = Permission::new(
            "delete",
            "networking.istio.io",
            "serviceentries",
            "payments",
        );
        assert_eq!(
            p.denied_message(),
            "you may not delete serviceentries in namespace payments"
        );
        let p = Permission::new("update", "", "configmaps", "istio-system").named("istio");
        assert_eq!(
            p.denied_message(),
            "you may not update configmaps \"istio\" in namespace istio-system"
        );
    }
}
