//! Accounts, their roles and sessions, and who is signed in.

use serde::{Deserialize, Serialize};

use super::{Access, Permission, PrincipalKind};

/// What a user may do: administrators also reach Administration (backups among it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Modeler,
}

impl Role {
    /// The stored and wire name; also the name of the role in folder permissions.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Modeler => "modeler",
        }
    }

    /// The role with the stored name `text`.
    pub fn parse(text: &str) -> Option<Role> {
        [Role::Admin, Role::Modeler]
            .into_iter()
            .find(|role| role.as_str() == text)
    }
}

/// A user account as lists show it (never with its password).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserInfo {
    pub name: String,
    pub role: Role,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// One of the signed-in user's own sessions, as the Account page lists them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Names the session to end it (the SHA-256 of its token, never the token).
    pub id: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
    /// The browser that signed in, as it named itself (cut short).
    pub agent: String,
    /// Whether it is the session of the page that asks.
    pub current: bool,
}

/// Who is signed in: the user's name and role. Every page and server function knows it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Actor {
    pub name: String,
    pub role: Role,
}

impl Actor {
    /// Whether this user may use Administration (users, audit log, backups).
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// What this user may do where `permissions` apply (`None`: nothing, not even see).
    /// Administrators manage everything: they back up and restore whole namespaces anyway.
    pub fn access(&self, permissions: &[Permission]) -> Option<Access> {
        if self.is_admin() {
            return Some(Access::Manage);
        }
        permissions
            .iter()
            .filter(|permission| match permission.principal.kind {
                PrincipalKind::User => permission.principal.name == self.name,
                PrincipalKind::Role => permission.principal.name == self.role.as_str(),
            })
            .map(|permission| permission.access)
            .max()
    }
}

/// A personal API token as it is listed (never its secret).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenInfo {
    /// Names the token in lists, the audit log and `token revoke`; not the secret.
    pub handle: String,
    pub name: String,
    /// The user it acts as.
    pub user: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// When it stops working; `None`: never.
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When it was last used (recorded at most once a minute).
    pub last_used_at: Option<chrono::DateTime<chrono::Utc>>,
    pub revoked_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A token just created: its secret is shown this once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewApiToken {
    pub info: ApiTokenInfo,
    pub secret: String,
}
