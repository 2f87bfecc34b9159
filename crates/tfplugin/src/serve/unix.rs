//! The unix socket go-plugin serves on outside Windows: a fresh path in `PLUGIN_UNIX_SOCKET_DIR`
//! (or the temporary directory), optionally shared with `PLUGIN_UNIX_SOCKET_GROUP`, removed on exit.

use std::path::{Path, PathBuf};

use tokio::net::UnixListener;

use super::ServeError;

/// A listening socket and its file, which is removed when this is dropped (every clean exit).
pub(super) struct UnixSocket {
    listener: UnixListener,
    path: PathBuf,
}

impl UnixSocket {
    pub(super) fn bind() -> Result<Self, ServeError> {
        let path = socket_path();
        let listener = UnixListener::bind(&path).map_err(|source| ServeError::Listen {
            address: path.display().to_string(),
            source,
        })?;
        if let Ok(group) = std::env::var("PLUGIN_UNIX_SOCKET_GROUP")
            && !group.is_empty()
        {
            share_socket_with_group(&path, &group);
        }
        Ok(UnixSocket { listener, path })
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    pub(super) fn listener(&self) -> &UnixListener {
        &self.listener
    }
}

impl Drop for UnixSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn socket_path() -> PathBuf {
    let dir = std::env::var_os("PLUGIN_UNIX_SOCKET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    dir.join(format!("plugin{}", rand::random::<u64>()))
}

/// go-plugin's PLUGIN_UNIX_SOCKET_GROUP: hand the socket to a group (name or numeric ID), mode 0660.
/// Terraform never sets it; failures are logged, not fatal.
fn share_socket_with_group(path: &Path, group: &str) {
    use std::os::unix::fs::PermissionsExt;
    let gid = group.parse::<u32>().ok().or_else(|| {
        std::fs::read_to_string("/etc/group")
            .ok()?
            .lines()
            .find_map(|line| {
                let mut fields = line.split(':');
                (fields.next()? == group).then(|| fields.nth(1)?.parse().ok())?
            })
    });
    let result = match gid {
        Some(gid) => std::os::unix::fs::chown(path, None, Some(gid))
            .and_then(|_| std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))),
        None => Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no group {group:?}"),
        )),
    };
    if let Err(e) = result {
        tracing::warn!(group, error = %e, "could not share the plugin socket with PLUGIN_UNIX_SOCKET_GROUP");
    }
}
