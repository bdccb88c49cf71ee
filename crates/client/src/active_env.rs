//! The active environment of each workspace: a choice of this device only
//! (as in Postman, picking an environment is not shared with the team), kept
//! in the profile's `meta` table and never synced.

use crate::profile::keys;
use crate::{ClientError, Device, edit, store};
use model::{Id, Kind};

impl Device {
    /// The active environment of workspace `ws` on this device; `None` when
    /// none was chosen or the chosen one is gone (deleted here or elsewhere).
    pub fn active_environment(&self, ws: Id) -> Result<Option<Id>, ClientError> {
        self.store.read(|c| {
            let Some(id) = store::meta_get(c, &keys::active_environment(ws))?.and_then(|s| s.parse::<Id>().ok()) else {
                return Ok(None);
            };
            Ok(store::doc(c, id)?.filter(|d| !d.deleted && d.kind == Kind::Environment && d.workspace_id == ws).map(|d| d.id))
        })
    }

    /// Makes `env` the active environment of workspace `ws` on this device
    /// (`None`: no environment). It must be a live environment of `ws`.
    pub fn set_active_environment(&self, ws: Id, env: Option<Id>) -> Result<(), ClientError> {
        self.store.write(|tx| {
            let w = store::workspace(tx, ws)?.ok_or_else(|| {
                ClientError::NotFound(format!("no workspace with id {ws} on this device; `apisync workspaces` lists them"))
            })?;
            let key = keys::active_environment(ws);
            let Some(env) = env else { return store::meta_delete(tx, &key) };
            let d = edit::live_doc(tx, env)?;
            if d.kind != Kind::Environment {
                return Err(ClientError::Invalid(format!("{env} is a {}, not an environment", d.kind)));
            }
            if d.workspace_id != ws {
                return Err(ClientError::Invalid(format!("environment {env} is not in workspace '{}'", w.name)));
            }
            store::meta_set(tx, &key, &env.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::{Device, fields};
    use model::Kind;

    #[test]
    fn the_active_environment_is_kept_per_workspace_and_forgets_a_deleted_one() {
        let dir = tempfile::tempdir().unwrap();
        let d = Device::open(dir.path()).unwrap();
        let ws = d.resolve_workspace(None).unwrap().id;
        assert_eq!(d.active_environment(ws).unwrap(), None);
        let env = d.create(Kind::Environment, None, None, fields([("name", "Staging".into())])).unwrap();
        let col = d.create(Kind::Collection, None, None, fields([("name", "C".into())])).unwrap();
        d.set_active_environment(ws, Some(env)).unwrap();
        drop(d);

        // Kept in the profile: a later process sees the same choice.
        let d = Device::open(dir.path()).unwrap();
        assert_eq!(d.active_environment(ws).unwrap(), Some(env));
        let e = d.set_active_environment(ws, Some(col)).unwrap_err();
        assert!(e.to_string().contains("not an environment"), "{e}");
        let e = d.set_active_environment(model::Id::now_v7(), Some(env)).unwrap_err();
        assert!(e.to_string().contains("no workspace"), "{e}");
        assert_eq!(d.active_environment(ws).unwrap(), Some(env), "refusals change nothing");

        d.set_active_environment(ws, None).unwrap();
        assert_eq!(d.active_environment(ws).unwrap(), None);
        d.set_active_environment(ws, Some(env)).unwrap();
        d.delete(env).unwrap();
        assert_eq!(d.active_environment(ws).unwrap(), None, "a deleted environment is no longer active");
        assert!(d.set_active_environment(ws, Some(env)).is_err());
    }
}
