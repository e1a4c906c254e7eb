//! In-memory tar archives: files uploaded into containers, and image build contexts.

use crate::runtime::error::RuntimeError;
use std::path::{Component, Path};

/// A file to place in a container: absolute path, contents, Unix mode (e.g. `0o644`).
pub type UploadFile = (String, Vec<u8>, u32);

/// One tar meant to be extracted at `/`, holding every file under its full path.
///
/// Only file entries are written, never directory entries: Docker creates missing parent
/// directories itself (root-owned, 0755), and a directory entry for an existing directory
/// such as `/tmp` or `/etc/frr` would reset its mode and owner on extraction.
pub fn upload_tar(files: &[UploadFile], mtime: u64) -> Result<Vec<u8>, RuntimeError> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, contents, mode) in files {
        let relative = relative_to_root(path)?;
        append_file(&mut builder, &relative, contents, *mode, mtime)?;
    }
    builder
        .into_inner()
        .map_err(|e| RuntimeError::Archive(e.to_string()))
}

/// A build context: files by their path relative to the context root.
///
/// Fixed mtime and ownership so the same files always give the same archive (and the
/// classic builder's cache keys stay stable).
pub fn context_tar(files: &[(&str, &[u8])]) -> Result<Vec<u8>, RuntimeError> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, contents) in files {
        let relative = relative_name(name)?;
        append_file(&mut builder, &relative, contents, 0o644, 0)?;
    }
    builder
        .into_inner()
        .map_err(|e| RuntimeError::Archive(e.to_string()))
}

fn append_file(
    builder: &mut tar::Builder<Vec<u8>>,
    relative: &str,
    contents: &[u8],
    mode: u32,
    mtime: u64,
) -> Result<(), RuntimeError> {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(contents.len() as u64);
    header.set_mode(mode & 0o7777);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(mtime);
    // append_data writes GNU long-name records when the path exceeds the header field.
    builder
        .append_data(&mut header, relative, contents)
        .map_err(|e| RuntimeError::Archive(format!("{relative}: {e}")))
}

/// `/etc/frr/frr.conf` → `etc/frr/frr.conf`, refusing relative paths and `..`.
fn relative_to_root(path: &str) -> Result<String, RuntimeError> {
    if !path.starts_with('/') {
        return Err(RuntimeError::Archive(format!(
            "`{path}` is not an absolute path"
        )));
    }
    relative_name(path.trim_start_matches('/'))
        .map_err(|_| RuntimeError::Archive(format!("`{path}` is not a plain file path")))
}

fn relative_name(name: &str) -> Result<String, RuntimeError> {
    let path = Path::new(name);
    let plain = !name.is_empty()
        && !name.ends_with('/')
        && path.components().all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return Err(RuntimeError::Archive(format!(
            "`{name}` is not a plain relative file path"
        )));
    }
    Ok(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn entries(archive: &[u8]) -> Vec<(String, u32, Vec<u8>, u64)> {
        let mut reader = tar::Archive::new(archive);
        reader
            .entries()
            .unwrap()
            .map(|e| {
                let mut e = e.unwrap();
                let mut data = Vec::new();
                e.read_to_end(&mut data).unwrap();
                let header = e.header();
                (
                    e.path().unwrap().to_string_lossy().into_owned(),
                    header.mode().unwrap(),
                    data,
                    header.mtime().unwrap(),
                )
            })
            .collect()
    }

    #[test]
    fn upload_tar_holds_full_paths_modes_and_no_directory_entries() {
        let long_dir = "d".repeat(120);
        let files = vec![
            (
                "/etc/frr/frr.conf".to_string(),
                b"router bgp 64500\n".to_vec(),
                0o640,
            ),
            (
                "/usr/local/bin/start".to_string(),
                b"#!/bin/sh\n".to_vec(),
                0o755,
            ),
            (format!("/{long_dir}/x"), b"long".to_vec(), 0o600),
        ];
        let got = entries(&upload_tar(&files, 1_700_000_000).unwrap());
        assert_eq!(
            got,
            vec![
                (
                    "etc/frr/frr.conf".into(),
                    0o640,
                    b"router bgp 64500\n".to_vec(),
                    1_700_000_000
                ),
                (
                    "usr/local/bin/start".into(),
                    0o755,
                    b"#!/bin/sh\n".to_vec(),
                    1_700_000_000
                ),
                (
                    format!("{long_dir}/x"),
                    0o600,
                    b"long".to_vec(),
                    1_700_000_000
                ),
            ]
        );
    }

    #[test]
    fn upload_tar_refuses_relative_and_escaping_paths() {
        for bad in ["etc/frr.conf", "/etc/../root/x", "/etc/frr/", "/", "/./x"] {
            let err = upload_tar(&[(bad.to_string(), vec![], 0o644)], 0).unwrap_err();
            assert!(matches!(err, RuntimeError::Archive(_)), "{bad}: {err}");
        }
    }

    #[test]
    fn context_tar_is_byte_for_byte_reproducible() {
        let files: [(&str, &[u8]); 2] = [("Dockerfile", b"FROM x\n"), ("conf/a.txt", b"a")];
        let first = context_tar(&files).unwrap();
        assert_eq!(first, context_tar(&files).unwrap());
        let got = entries(&first);
        assert_eq!(
            got[0],
            ("Dockerfile".into(), 0o644, b"FROM x\n".to_vec(), 0)
        );
        assert_eq!(got[1].0, "conf/a.txt");
    }
}
