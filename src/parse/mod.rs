//! Pure parsers of router CLI output into the normalized `state` model.
