//! What the acting user may do, as the API server answers it: controls are shown, or disabled
//! with the reason. Actions are named here by what they do; `cluster` turns them into the
//! verbs and resources the API server checks.

use super::policy::PolicySource;
use serde::{Deserialize, Serialize};

/// Something a user may or may not do, as the pages offer it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Action {
    /// List (and read) the ServiceEntries of a namespace.
    ListServiceEntries {
        /// The namespace.
        namespace: String,
    },
    /// Register ServiceEntries in a namespace.
    CreateServiceEntries {
        /// The namespace.
        namespace: String,
    },
    /// Remove ServiceEntries from a namespace.
    DeleteServiceEntries {
        /// The namespace.
        namespace: String,
    },
    /// Manage mesh-egress's own records (undo anyone's delete): delete ConfigMaps in the
    /// namespace that holds them.
    ManageUndoRecords {
        /// mesh-egress's state namespace.
        namespace: String,
    },
    /// Read the mesh ConfigMap (the mesh-wide policy, on a plain Istio install).
    ReadMeshConfig {
        /// Istio's namespace.
        namespace: String,
        /// The ConfigMap's name.
        name: String,
    },
    /// List Service Mesh Manager's control planes (where it keeps the mesh-wide policy).
    ListControlPlanes {
        /// Istio's namespace.
        namespace: String,
    },
    /// List every namespace's VirtualServices (how entries are routed through gateways).
    ListVirtualServices,
    /// Restrict a namespace (or lift it): change the namespace's Sidecars.
    ChangeSidecars {
        /// The namespace.
        namespace: String,
    },
    /// Switch the mesh-wide policy where it lives.
    SwitchPolicy {
        /// The ConfigMap or control plane that holds it.
        source: PolicySource,
    },
}

/// The API server's answer for one action.
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

/// How the dashboard tells users apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionMode {
    /// Everyone acts as the server's own (kubeconfig) identity.
    Local,
    /// Users sign in with a Kubernetes bearer token.
    Token,
    /// A trusted proxy in front names the user; the server impersonates them.
    Proxy,
}

impl SessionMode {
    /// The mode's name, as `--auth` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Token => "token",
            Self::Proxy => "proxy",
        }
    }
}

/// Who is signed in, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// How users are told apart.
    pub mode: SessionMode,
    /// The acting user's name, when known.
    pub user: Option<String>,
}
