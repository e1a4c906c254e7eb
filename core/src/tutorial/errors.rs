//! Every error of a tutorial at once: those in its Markdown and those in the topology
//! files it uses, each quoting its own file, then one summary line.

use crate::topology::diagnostics::{LocatedError, TopologyErrors};
use miette::{Diagnostic, LabeledSpan, NamedSource, SourceCode};
use std::sync::Arc;
use thiserror::Error;

/// The errors of one tutorial, in the tutorial's order, then each topology file's.
#[derive(Debug, Error)]
#[error("invalid tutorial{} {file}: {}", if file.contains(", ") { "s" } else { "" }, count(items.len()))]
pub struct TutorialErrors {
    pub file: String,
    items: Vec<FileError>,
}

/// One error with the file it quotes.
#[derive(Debug, Error)]
#[error("{}", located.message)]
struct FileError {
    located: LocatedError,
    quoted: Arc<NamedSource<String>>,
}

impl Diagnostic for FileError {
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.located.help()
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.located.labels()
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        Some(self.quoted.as_ref())
    }
}

impl Diagnostic for TutorialErrors {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        Some(Box::new(self.items.iter().map(|e| e as &dyn Diagnostic)))
    }
}

impl TutorialErrors {
    /// The tutorial's own errors and those of the files it uses, in that order.
    pub fn new(file: &str, files: Vec<TopologyErrors>) -> TutorialErrors {
        let items = files
            .into_iter()
            .flat_map(|errors| {
                let source = Arc::new(
                    NamedSource::new(errors.source().name(), errors.source().inner().clone())
                        .with_language(if errors.file == file {
                            "markdown"
                        } else {
                            "yaml"
                        }),
                );
                errors
                    .located()
                    .iter()
                    .map(|located| FileError {
                        located: located.clone(),
                        quoted: source.clone(),
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        TutorialErrors {
            file: file.to_string(),
            items,
        }
    }

    /// The errors of several tutorials as one report (`metallab tutorial lint` of all of
    /// them); None when there are none.
    pub fn combine(all: Vec<TutorialErrors>) -> Option<TutorialErrors> {
        let files: Vec<String> = all.iter().map(|e| e.file.clone()).collect();
        let items: Vec<FileError> = all.into_iter().flat_map(|e| e.items).collect();
        (!files.is_empty()).then(|| TutorialErrors {
            file: files.join(", "),
            items,
        })
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// `file:line:column` and message of each error, in order.
    pub fn locations(&self) -> Vec<(String, String)> {
        self.items
            .iter()
            .map(|e| (e.located.location.clone(), e.located.message.clone()))
            .collect()
    }
}

fn count(n: usize) -> String {
    match n {
        1 => "1 error".to_string(),
        n => format!("{n} errors"),
    }
}
