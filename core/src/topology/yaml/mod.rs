//! Reading a YAML file into a typed model while collecting *every* error of the file.
//!
//! serde stops at the first bad value. Here the text becomes a tree of spanned nodes
//! (`tree`), serde reads the tree (`de`), and each error is recorded with its place and
//! said in the file's terms (`messages`); the next pass reads that place as a stand-in
//! value of the right type (an unknown key as if it were absent) and goes on, until the
//! whole file has been read. The caller gets the model (when the file could be read at
//! all), every error, and the places that were stood in for, so that rules checked later
//! on the model do not report what a stand-in caused.

mod de;
mod messages;
pub mod tree;

use super::diagnostics::{FieldError, did_you_mean};
use super::source::{is_within, parent_path};
use de::{NodeReader, Override, Overrides, Place, Problem};
use serde::de::DeserializeOwned;

/// What reading a file gave.
#[derive(Debug)]
pub struct Read<T> {
    /// The model, with stand-ins where values were bad; None when the file could not be
    /// read at all (a syntax error, a root that is not a mapping).
    pub value: Option<T>,
    /// Every error, in the order found.
    pub errors: Vec<FieldError>,
    /// Paths read as stand-ins or skipped.
    pub replaced: Vec<String>,
}

impl<T> Read<T> {
    /// Whether a later error at `path` may be the effect of a stand-in: the path lies in
    /// the object that holds a replaced value (its rules saw a value the user did not
    /// write), or holds one. The root is never covered whole: a bad top-level value
    /// hides only errors about itself.
    pub fn covers(&self, path: &str) -> bool {
        self.replaced.iter().any(|replaced| {
            let object = parent_object(replaced);
            (!object.is_empty() && is_within(path, object))
                || is_within(path, replaced)
                || (!path.is_empty() && is_within(replaced, path))
        })
    }

    /// Whether `path` is a replaced value or lies inside one: even an error that holds
    /// whatever other fields say is about the stand-in there.
    pub fn replaces(&self, path: &str) -> bool {
        self.replaced
            .iter()
            .any(|replaced| is_within(path, replaced))
    }

    /// Whether a rule's error on the model read may be the effect of a stand-in, so it
    /// is not reported: an [independent](FieldError::independent) one only where it is
    /// about the stand-in itself, any other one [around it](Read::covers).
    pub fn explains(&self, error: &FieldError) -> bool {
        if error.independent {
            self.replaces(&error.path)
        } else {
            self.covers(&error.path)
        }
    }
}

/// The mapping a field belongs to: `routers.r1` for `routers.r1.asn`, and for a list
/// item the item's own mapping (`routers.r1.neighbors[0]` for its `to`).
fn parent_object(path: &str) -> &str {
    let parent = parent_path(path);
    // An item of a scalar list (`announce[1]`) belongs to the list's owner.
    if path.ends_with(']') {
        parent_path(parent)
    } else {
        parent
    }
}

/// At most this many passes: a file with more errors reports the first ones.
const MAX_PASSES: usize = 3000;

/// Reading stops after this many errors: each one costs a pass over the whole file, and
/// nobody fixes a hundred errors before reading the first.
pub const MAX_ERRORS: usize = 100;

/// How many stand-ins are tried at one place before the place around it stands in.
const MAX_ATTEMPTS: u8 = 8;

/// Reads `text` as a `T`.
pub fn read<T: DeserializeOwned>(text: &str, empty: impl FnOnce() -> FieldError) -> Read<T> {
    let document = match tree::parse(text) {
        Ok(document) => document,
        Err(error) => {
            return Read {
                value: None,
                errors: vec![*error],
                replaced: Vec::new(),
            };
        }
    };
    let mut errors = document.errors;
    let Some(root) = document.root else {
        errors.push(empty());
        return Read {
            value: None,
            errors,
            replaced: Vec::new(),
        };
    };
    let mut overrides = Overrides::default();
    for _ in 0..MAX_PASSES {
        match T::deserialize(NodeReader::root(&root, &overrides)) {
            Ok(value) => {
                return Read {
                    value: Some(value),
                    errors,
                    replaced: overrides.replaced(),
                };
            }
            Err(error) => {
                let place = error
                    .place
                    .map_or_else(|| root_place(&root), |place| *place);
                if !recover(place, error.problem, &mut overrides, &mut errors) {
                    break;
                }
                if errors.len() >= MAX_ERRORS {
                    errors.push(
                        FieldError::new("", format!("reading stopped after {MAX_ERRORS} errors"))
                            .help("fix these and run again to see the rest")
                            // At the end of the document, so it is listed last.
                            .at({
                                let end = root.span.offset() + root.span.len();
                                miette::SourceSpan::from(end..end)
                            }),
                    );
                    break;
                }
            }
        }
    }
    Read {
        value: None,
        errors,
        replaced: overrides.replaced(),
    }
}

fn root_place(root: &tree::Node) -> Place {
    Place {
        path: String::new(),
        span: root.span,
        written: None,
        quoted: false,
        found: root.describe(),
        expecting: None,
        stand_in: false,
        on_key: false,
    }
}

/// Records the error and decides how the next pass reads its place. False when reading
/// cannot go on (the root itself is unreadable).
fn recover(
    place: Place,
    problem: Problem,
    overrides: &mut Overrides,
    errors: &mut Vec<FieldError>,
) -> bool {
    match problem {
        Problem::UnknownKey { key, expected } => {
            errors.push(messages::unknown_key(&place, &key, expected));
            // A misspelled key leaves the key it meant unwritten: what rules say about
            // that one follows from the typo.
            if let Some(meant) = did_you_mean(&key, expected.iter().copied()) {
                let meant = super::source::child_path(parent_path(&place.path), meant);
                overrides.also_covered.push(meant);
            }
            overrides.by_path.insert(place.path, Override::Skip);
        }
        Problem::Missing(field) => {
            let child = super::source::child_path(&place.path, field);
            if !place.stand_in && !overrides.by_path.contains_key(&child) {
                errors.push(messages::missing(&place, field));
            }
            let missing = overrides.missing.entry(place.path).or_default();
            if !missing.contains(&field) {
                missing.push(field);
            }
            overrides.by_path.entry(child).or_insert(Override::StandIn {
                attempt: 0,
                written: None,
            });
        }
        _ if place.stand_in => {
            // The stand-in did not fit: try the next, then stand in for the parent.
            let attempt = match overrides.by_path.get_mut(&place.path) {
                Some(Override::StandIn { attempt, .. }) => {
                    *attempt = attempt.saturating_add(1);
                    *attempt
                }
                _ => MAX_ATTEMPTS,
            };
            if attempt >= MAX_ATTEMPTS {
                if place.path.is_empty() {
                    return false;
                }
                let parent = parent_path(&place.path).to_string();
                overrides.by_path.insert(
                    parent,
                    Override::StandIn {
                        attempt: 0,
                        written: None,
                    },
                );
            }
        }
        problem => {
            errors.push(messages::bad_value(&place, &problem));
            if place.path.is_empty() {
                return false;
            }
            overrides.by_path.insert(
                place.path,
                Override::StandIn {
                    attempt: 0,
                    written: place.written,
                },
            );
        }
    }
    true
}

/// Reads a topology file: the model where it could be built, and every reading error.
pub fn read_topology(text: &str) -> Read<super::model::Topology> {
    read(text, || {
        FieldError::new("", "the topology file is empty")
            .help("a topology starts with `name: my-lab`; `metallab topologies show default` prints a complete one")
    })
}

/// Strict YAML → topology model, without the semantic rules: every reading error of the
/// file (syntax, unknown and duplicate keys, missing fields, values of the wrong type).
pub fn parse_topology(
    file: &str,
    text: &str,
) -> Result<super::model::Topology, Box<super::diagnostics::TopologyErrors>> {
    let read = read_topology(text);
    match read.value {
        Some(topology) if read.errors.is_empty() => Ok(topology),
        _ => Err(Box::new(super::diagnostics::TopologyErrors::new(
            file,
            text,
            read.errors,
        ))),
    }
}

#[cfg(test)]
mod tests;
