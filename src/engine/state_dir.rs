//! The lab state directory: `<root>/labs/<lab>/` keeps the resolved plan, the topology
//! source and every rendered config, so `status`, `check` and bug reports work without the
//! topology file. `down` removes it; Docker labels stay the source of truth for what exists.

use crate::plan::Plan;
use crate::render::ConfigFile;
use std::collections::BTreeMap;
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

    /// Writes a new lab's state: whatever an earlier lab of that name left goes first.
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
        self.write_plan(plan, topology_source, configs)
    }

    /// Writes the state of a lab changed in place (`up FILE` on a running lab): its plan,
    /// topology and configs are replaced; what belongs to the running lab stays (its
    /// active faults, a tutorial's progress).
    pub fn update(
        &self,
        plan: &Plan,
        topology_source: &str,
        configs: &[(String, Vec<ConfigFile>)],
    ) -> std::io::Result<PathBuf> {
        let configs_dir = self.lab_dir(&plan.lab).join("configs");
        if configs_dir.exists() {
            std::fs::remove_dir_all(&configs_dir)?;
        }
        self.write_plan(plan, topology_source, configs)
    }

    fn write_plan(
        &self,
        plan: &Plan,
        topology_source: &str,
        configs: &[(String, Vec<ConfigFile>)],
    ) -> std::io::Result<PathBuf> {
        let dir = self.lab_dir(&plan.lab);
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

    /// The router configs `save` wrote (what the running routers were given), by router;
    /// None when the lab has none saved (a state directory of an older metallab).
    pub fn load_configs(&self, plan: &Plan) -> Option<BTreeMap<String, Vec<ConfigFile>>> {
        let root = self.lab_dir(&plan.lab).join("configs");
        if !root.is_dir() {
            return None;
        }
        let mut configs = BTreeMap::new();
        for r in &plan.routers {
            // The mode is not kept; only paths and contents are compared.
            let files = read_tree(&root.join(&r.name))
                .into_iter()
                .map(|(path, contents)| ConfigFile {
                    path: format!("/{path}"),
                    contents,
                    mode: 0o644,
                })
                .collect();
            configs.insert(r.name.clone(), files);
        }
        Some(configs)
    }

    /// Keeps the texts of the lab's app manifests as applied, for `diff` and `up` to see
    /// an edited one.
    pub fn save_apps(&self, lab: &str, apps: &BTreeMap<String, String>) -> std::io::Result<()> {
        std::fs::write(
            self.lab_dir(lab).join("apps.json"),
            serde_json::to_vec_pretty(apps).expect("texts serialize"),
        )
    }

    /// The app manifests' texts `save_apps` kept (none for a lab without, or saved by an
    /// older metallab).
    pub fn load_apps(&self, lab: &str) -> BTreeMap<String, String> {
        std::fs::read(self.lab_dir(lab).join("apps.json"))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// Where `metallab fault` records the lab's active faults.
    pub fn faults_path(&self, lab: &str) -> PathBuf {
        self.lab_dir(lab).join("faults.json")
    }

    /// The lab's active faults (none when nothing is recorded).
    pub fn load_faults(&self, lab: &str) -> Vec<crate::faults::ActiveFault> {
        std::fs::read(self.faults_path(lab))
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    pub fn remove(&self, lab: &str) -> std::io::Result<()> {
        let dir = self.lab_dir(lab);
        if dir.exists() {
            std::fs::remove_dir_all(dir)?;
        }
        Ok(())
    }

    /// Labs that have a saved plan (some may no longer run).
    /// Holds the lab for this process while it creates or changes it, so two `up` of one
    /// lab cannot interleave. When another process holds it, `waiting` hears that
    /// process's id (as it wrote it) once, and the call waits for it to finish.
    pub fn lock_lab(&self, lab: &str, waiting: impl FnOnce(&str)) -> std::io::Result<LabLock> {
        use std::io::{Read, Seek, Write};
        let dir = self.root.join("locks");
        std::fs::create_dir_all(&dir)?;
        let path = dir.join(format!("{lab}.lock"));
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)?;
        if file.try_lock().is_err() {
            let mut holder = String::new();
            let _ = file.read_to_string(&mut holder);
            waiting(holder.trim());
            file.lock()?;
        }
        file.set_len(0)?;
        file.rewind()?;
        write!(file, "{}", std::process::id())?;
        file.flush()?;
        Ok(LabLock { _file: file })
    }

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

/// Every text file under `dir`, by `/`-separated relative path, sorted.
pub(super) fn read_tree(dir: &Path) -> Vec<(String, String)> {
    let mut found = vec![];
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let (Ok(text), Ok(rel)) =
                (std::fs::read_to_string(&path), path.strip_prefix(dir))
            {
                let rel: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                found.push((rel.join("/"), text));
            }
        }
    }
    found.sort();
    found
}

/// A lab held by this process; released when dropped (or when the process ends, however
/// it ends: the operating system drops the lock with the file).
pub struct LabLock {
    _file: std::fs::File,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_change_in_place_keeps_what_belongs_to_the_running_lab() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::resolve(Some(dir.path()));
        let plan = crate::plan::build(
            &crate::topology::builtin::get("interop").unwrap().topology(),
            "builtin:interop",
            Path::new(""),
        );
        let config = |text: &str| {
            vec![(
                "frr1".to_string(),
                vec![ConfigFile {
                    path: format!("/etc/{text}"),
                    contents: text.to_string(),
                    mode: 0o644,
                }],
            )]
        };
        state.save(&plan, "v1", &config("old")).unwrap();
        let lab = state.lab_dir("interop");
        std::fs::write(lab.join("tutorial.json"), "{}").unwrap();
        state.update(&plan, "v2", &config("new")).unwrap();
        assert!(lab.join("tutorial.json").exists());
        assert_eq!(
            std::fs::read_to_string(lab.join("topology.yaml")).unwrap(),
            "v2"
        );
        assert!(lab.join("configs/frr1/etc/new").exists());
        assert!(
            !lab.join("configs/frr1/etc/old").exists(),
            "configs are replaced"
        );
        // A new lab of the same name starts clean.
        state.save(&plan, "v3", &config("new")).unwrap();
        assert!(!lab.join("tutorial.json").exists());
    }

    #[test]
    fn a_second_holder_of_a_lab_waits_and_hears_who_holds_it() {
        let dir = tempfile::tempdir().unwrap();
        let state = StateDir::resolve(Some(dir.path()));
        let first = state
            .lock_lab("lab", |_| panic!("nobody holds it yet"))
            .unwrap();
        let (told, heard) = std::sync::mpsc::channel();
        let root = dir.path().to_path_buf();
        let second = std::thread::spawn(move || {
            let state = StateDir::resolve(Some(&root));
            let _lock = state
                .lock_lab("lab", |holder| told.send(holder.to_string()).unwrap())
                .unwrap();
        });
        let holder = heard.recv().unwrap();
        assert_eq!(holder, std::process::id().to_string());
        assert!(!second.is_finished(), "it waits while the lab is held");
        drop(first);
        second.join().unwrap();
        // Another lab is not held by either.
        let _other = state.lock_lab("other", |_| panic!("free")).unwrap();
    }
}
