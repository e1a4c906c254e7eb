//! A tutorial's `sh` block as the commands a reader types: one command per line, a line
//! ending in `\` continued on the next, `#` comments left out. Each command is run as
//! written by `sh -c`; the words here (quotes removed, as the shell would) are what lint
//! reads to find `metallab …` commands and what they name.

use std::ops::Range;

/// One command of a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellCommand {
    /// As written (continuation lines included), for `sh -c` and for the reader.
    pub text: String,
    /// Its words, quotes and escapes removed; operators (`|`, `&&`, `;`…) are words too.
    pub words: Vec<String>,
    /// Where it is in the block's text.
    pub span: Range<usize>,
}

/// A block that cannot be read as commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShellError {
    pub message: String,
    pub help: String,
    /// Where in the block's text.
    pub span: Range<usize>,
}

/// Words the shell treats as operators between commands, when written apart.
pub const OPERATORS: &[&str] = &["|", "||", "&&", ";", "&"];

/// Splits a block's text into commands. Quotes follow `sh`: nothing is special inside
/// `'…'`; inside `"…"` a backslash escapes `"`, `\`, `$` and a backtick; a backslash
/// before a newline joins the lines (outside single quotes).
pub fn split(text: &str) -> Result<Vec<ShellCommand>, ShellError> {
    let mut commands = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut word: Option<String> = None;
    let mut start: Option<usize> = None;
    let mut end = 0;
    let mut chars = text.char_indices().peekable();

    let finish_word = |word: &mut Option<String>, words: &mut Vec<String>| {
        if let Some(w) = word.take() {
            words.push(w);
        }
    };

    while let Some((at, c)) = chars.next() {
        match c {
            '\n' => {
                finish_word(&mut word, &mut words);
                if let Some(begin) = start.take() {
                    commands.push(ShellCommand {
                        text: text[begin..end].to_string(),
                        words: std::mem::take(&mut words),
                        span: begin..end,
                    });
                }
                continue;
            }
            ' ' | '\t' | '\r' => {
                finish_word(&mut word, &mut words);
                continue;
            }
            ';' | '|' | '&' => {
                // An operator ends the word before it and is a word of its own (`a;b`,
                // `a|b`, `a && b`), doubled (`&&`, `||`) when written so.
                finish_word(&mut word, &mut words);
                start.get_or_insert(at);
                let mut operator = c.to_string();
                if c != ';' && chars.peek().is_some_and(|&(_, next)| next == c) {
                    chars.next();
                    operator.push(c);
                }
                words.push(operator);
                end = chars.peek().map_or(text.len(), |&(next, _)| next);
                continue;
            }
            '#' if word.is_none() => {
                // A comment, to the end of the line (the newline still ends the command).
                while chars.peek().is_some_and(|&(_, c)| c != '\n') {
                    chars.next();
                }
                continue;
            }
            _ => {}
        }
        start.get_or_insert(at);
        let current = word.get_or_insert_with(String::new);
        match c {
            '\\' => match chars.next() {
                Some((_, '\n')) => {
                    // A continuation: the next line belongs to this command, and a word
                    // written right before the backslash ends here.
                    if current.is_empty() {
                        word = None;
                    }
                    finish_word(&mut word, &mut words);
                    if chars.peek().is_none() {
                        return Err(ShellError {
                            message: "the last line ends with `\\`, but no line follows"
                                .to_string(),
                            help: "remove the `\\` or write the rest of the command".to_string(),
                            span: at..at + 1,
                        });
                    }
                    continue;
                }
                Some((_, escaped)) => current.push(escaped),
                None => {
                    return Err(ShellError {
                        message: "the block ends with `\\`, but no line follows".to_string(),
                        help: "remove the `\\` or write the rest of the command".to_string(),
                        span: at..at + 1,
                    });
                }
            },
            '\'' => loop {
                match chars.next() {
                    Some((_, '\'')) => break,
                    Some((_, inner)) => current.push(inner),
                    None => return Err(unclosed(at, '\'')),
                }
            },
            '"' => loop {
                match chars.next() {
                    Some((_, '"')) => break,
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\n')) => {}
                        Some((_, e @ ('"' | '\\' | '$' | '`'))) => current.push(e),
                        Some((_, other)) => {
                            current.push('\\');
                            current.push(other);
                        }
                        None => return Err(unclosed(at, '"')),
                    },
                    Some((_, inner)) => current.push(inner),
                    None => return Err(unclosed(at, '"')),
                }
            },
            other => current.push(other),
        }
        end = chars.peek().map_or(text.len(), |&(next, _)| next);
    }
    finish_word(&mut word, &mut words);
    if let Some(begin) = start {
        commands.push(ShellCommand {
            text: text[begin..end].to_string(),
            words,
            span: begin..end,
        });
    }
    Ok(commands)
}

fn unclosed(at: usize, quote: char) -> ShellError {
    ShellError {
        message: format!("this {quote} is never closed"),
        help: format!("close it with a {quote} before the end of the command"),
        span: at..at + 1,
    }
}

/// The simple commands of a command's words: the words between operators.
pub fn simple_commands(words: &[String]) -> impl Iterator<Item = &[String]> {
    words
        .split(|w| OPERATORS.contains(&w.as_str()))
        .filter(|part| !part.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<Vec<String>> {
        split(text).unwrap().into_iter().map(|c| c.words).collect()
    }

    #[test]
    fn one_command_per_line_with_quotes_removed() {
        assert_eq!(
            words("metallab exec frr1 -- vtysh -c 'show bgp summary'\nmetallab status lab\n"),
            [
                vec![
                    "metallab",
                    "exec",
                    "frr1",
                    "--",
                    "vtysh",
                    "-c",
                    "show bgp summary"
                ],
                vec!["metallab", "status", "lab"],
            ]
        );
        assert_eq!(
            words(r#"echo "a \"b\" \$c" it\'s ''"#),
            [vec!["echo", r#"a "b" $c"#, "it's", ""]]
        );
    }

    #[test]
    fn continuations_join_lines_and_the_text_keeps_them() {
        let text = "metallab capture lab frr1 \\\n  --filter 'tcp port 179' \\\n  -c 5\nnext\n";
        let commands = split(text).unwrap();
        assert_eq!(
            commands[0].words,
            [
                "metallab",
                "capture",
                "lab",
                "frr1",
                "--filter",
                "tcp port 179",
                "-c",
                "5"
            ]
        );
        assert_eq!(
            commands[0].text,
            "metallab capture lab frr1 \\\n  --filter 'tcp port 179' \\\n  -c 5"
        );
        assert_eq!(&text[commands[1].span.clone()], "next");
    }

    #[test]
    fn comments_and_blank_lines_are_no_commands() {
        let text = "# look around\n\nmetallab status lab   # every session\n  # indented\n";
        let commands = split(text).unwrap();
        assert_eq!(commands.len(), 1);
        assert_eq!(commands[0].words, ["metallab", "status", "lab"]);
        assert_eq!(commands[0].text, "metallab status lab");
        // A `#` inside a word or quotes is not a comment.
        assert_eq!(words("echo a#b '#c'"), [vec!["echo", "a#b", "#c"]]);
    }

    #[test]
    fn operators_separate_simple_commands() {
        let commands = split("metallab capture lab r1 -w - | tcpdump -r - && echo ok").unwrap();
        let simple: Vec<&[String]> = simple_commands(&commands[0].words).collect();
        assert_eq!(simple.len(), 3);
        assert_eq!(simple[1], ["tcpdump", "-r", "-"]);
        // Written without spaces, or in quotes.
        let commands = split("a & sleep 1; b >/dev/null;wait 'x;y'").unwrap();
        assert_eq!(
            commands[0].words,
            [
                "a",
                "&",
                "sleep",
                "1",
                ";",
                "b",
                ">/dev/null",
                ";",
                "wait",
                "x;y"
            ]
        );
        assert_eq!(simple_commands(&commands[0].words).count(), 4);
    }

    #[test]
    fn an_unclosed_quote_or_a_dangling_backslash_is_an_error_at_its_place() {
        let error = split("metallab exec frr1 -- vtysh -c 'show bgp\n").unwrap_err();
        assert_eq!(error.message, "this ' is never closed");
        assert_eq!(error.span, 31..32);
        let error = split("echo \"a\n").unwrap_err();
        assert_eq!(error.span, 5..6);
        let error = split("metallab status \\\n").unwrap_err();
        assert_eq!(
            error.message,
            "the last line ends with `\\`, but no line follows"
        );
        assert_eq!(error.span, 16..17);
    }
}
