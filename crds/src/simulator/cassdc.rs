//! The part of cass-operator a restore waits on: a datacenter whose `spec.stopped` the restore
//! changed reports itself Stopped, or Ready again, a while later.

use kube::ResourceExt;
use kube::api::{Api, Patch};
use serde_json::json;

use super::{Operator, patch_params};
use crate::types::CassandraDatacenter;

impl Operator {
    /// Sets `spec.stopped`, as the restore controller's DC patch does, and has cass-operator
    /// follow after [`super::Timing::datacenter`].
    pub(super) async fn set_datacenter_stopped(
        &self,
        dc: &CassandraDatacenter,
        stopped: bool,
    ) -> Result<(), String> {
        self.patch_datacenter(dc, json!({"spec": {"stopped": stopped}}))
            .await?;
        self.transitions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(
                dc.name_any(),
                (
                    stopped,
                    tokio::time::Instant::now() + self.timing.datacenter,
                ),
            );
        Ok(())
    }

    /// A merge patch of the datacenter.
    pub(super) async fn patch_datacenter(
        &self,
        dc: &CassandraDatacenter,
        patch: serde_json::Value,
    ) -> Result<(), String> {
        let name = dc.name_any();
        self.record("PATCH", "cassandradatacenters", &name, false);
        let api: Api<CassandraDatacenter> = Api::namespaced(self.client.clone(), &self.namespace);
        api.patch(&name, &patch_params(), &Patch::Merge(patch))
            .await
            .map(|_| ())
            .map_err(|e| format!("failed to patch the datacenter: {e}"))
    }

    /// cass-operator's status writes, once each transition is due.
    pub(super) async fn cass_operator(&self) {
        let now = tokio::time::Instant::now();
        let due: Vec<(String, bool)> = self
            .transitions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter(|(_, (_, at))| *at <= now)
            .map(|(name, (stopped, _))| (name.clone(), *stopped))
            .collect();
        let api: Api<CassandraDatacenter> = Api::namespaced(self.client.clone(), &self.namespace);
        for (name, stopped) in due {
            let at = self.clock.stamp();
            let condition = |type_: &str, on: bool| {
                json!({"type": type_, "status": if on { "True" } else { "False" },
                       "lastTransitionTime": at, "reason": "", "message": ""})
            };
            let status = json!({"status": {
                "cassandraOperatorProgress": "Ready",
                "conditions": [condition("Stopped", stopped), condition("Ready", !stopped),
                               condition("Updating", false)],
            }});
            self.record("PATCH", "cassandradatacenters", &name, true);
            if api
                .patch_status(&name, &patch_params(), &Patch::Merge(status))
                .await
                .is_ok()
            {
                self.transitions
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .remove(&name);
            }
        }
    }
}
