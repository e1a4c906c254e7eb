//! The lab state directory: `<root>/labs/<lab>/` keeps the resolved plan, the topology
//! source and every rendered config, so `status`, `check` and bug reports work without the
//! topology file. `down` removes it; Docker labels stay the source of truth for what exists.

use crate::plan::Plan;
use crate::render::ConfigFile;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct StateDir {
    root: PathBuf,
}

impl StateDir {
    /// `--state-dir`/`METALLAB_STATE_DIR`, else `$XDG_STATE_HOME/metallab`, else
    /// `~/.local/state/metallab`.
    pub fn resolve(explicit: Option<&Path>) -> StateDir {
        let root = explicit.map(Path::to_path_buf).unwrap_or_else(|| {
            dirs::state_dir()
                .or_else(|| dirs::home_dir().map(|h| h.join(".local/state")))
                .unwrap_or_else(std::env::temp_dir)
                .join("metallab")
        });
        StateDir { root }
    }

    /// The state directory itself (kind's cross-process delete lock lives under it).
    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn lab_dir(&self, lab: &str) -> PathBuf {
        self.root.join("labs").join(lab)
    }

    pub fn plan_path(&self, lab: &str) -> PathBuf {
        self.lab_dir(lab).join("plan.json")
    }

    pub fn save(
        &self,
        plan: &Plan,
        topology_source: &str,
        configs: &[(String, Vec<ConfigFile>)],
    ) -> std::io::Result<PathBuf> {
        let dir = self.lab_dir(&plan.lab);
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        std::fs::write(
            dir.join("plan.json"),
            serde_json::to_vec_pretty(plan).expect("plan serializes"),
        )?;
        std::fs::write(dir.join("topology.yaml"), topology_source)?;
        for (router, files) in configs {
            for f in files {
                let rel = f.path.trim_start_matches('/');
                let dest = dir.join("configs").join(router).join(rel);
                if let Some(parent) = dest.parent() {
                    std::fs::create_dir_all(parent)?;
                }
                std::fs::write(dest, &f.contents)?;
            }
        }
        Ok(dir)
    }

    pub fn load_plan(&self, lab: &str) -> Option<Plan> {
        let bytes = std::fs::read(self.plan_path(lab)).ok()?;
        serde_json::from_slice(&bytes).ok()
    }

    pub fn remove(&self, lab: &str) -> std::io::Result<()> {
        let dir = self.lab_dir(lab);
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        Ok(())
    }

    /// Labs that have a saved plan (some may no longer run).
    pub fn labs(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(self.root.join("labs")) else {
            return vec![];
        };
        let mut labs: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join("plan.json").exists())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        labs.sort();
        labs
    }
}
