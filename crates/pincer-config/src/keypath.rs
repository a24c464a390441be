//! Key paths such as `models.providers["amazon-bedrock"].models[0].id`.
//!
//! Grammar: segments separated by `.`; a segment is a bare name (any characters but `.`, `[`,
//! `]`, quotes and whitespace), a quoted name (`"a.b"` or `'a.b'`, with `\` escapes), or a bracket
//! (`["a.b"]`, `['a.b']`, `[0]`). A bare all-digit segment addresses an array element when the
//! value at that point is an array, and an object key otherwise.

use std::fmt;
use std::str::FromStr;

/// The most segments a key path may have. The deepest key of the config is six segments
/// (`models.providers.<id>.models[0].cost.input`); a path far deeper is a mistake, not a key.
pub const MAX_DEPTH: usize = 32;

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Segment {
    /// An object key (or, if all digits and the container is an array, an index).
    Key(String),
    /// An array index written in brackets (`[0]`).
    Index(usize),
}

impl Segment {
    /// The array index this segment addresses, if any.
    pub fn as_index(&self) -> Option<usize> {
        match self {
            Segment::Index(i) => Some(*i),
            Segment::Key(k) if !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()) => {
                k.parse().ok()
            }
            Segment::Key(_) => None,
        }
    }

    /// The key this segment names in an object (an index written in brackets becomes its
    /// digits).
    pub fn object_key(&self) -> String {
        match self {
            Segment::Key(key) => key.clone(),
            Segment::Index(index) => index.to_string(),
        }
    }

    /// The object key this segment addresses, if any.
    pub fn as_key(&self) -> Option<&str> {
        match self {
            Segment::Key(k) => Some(k),
            Segment::Index(_) => None,
        }
    }
}

/// A parsed key path. The empty path addresses the whole document.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct KeyPath(Vec<Segment>);

/// A key path that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid key path `{input}` at column {column}: {message}")]
pub struct KeyPathError {
    /// The text given.
    pub input: String,
    /// 1-based character column of the problem.
    pub column: usize,
    /// What was expected.
    pub message: &'static str,
}

impl KeyPath {
    /// The empty path (the document root).
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// The segments, outermost first.
    pub fn segments(&self) -> &[Segment] {
        &self.0
    }

    /// Whether this is the root path.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// A new path with `segment` appended.
    pub fn child(&self, segment: Segment) -> Self {
        let mut segments = self.0.clone();
        segments.push(segment);
        Self(segments)
    }

    /// A new path with the object key `key` appended.
    pub fn key(&self, key: &str) -> Self {
        self.child(Segment::Key(key.to_owned()))
    }

    /// A new path with the array index `index` appended.
    pub fn index(&self, index: usize) -> Self {
        self.child(Segment::Index(index))
    }

    /// The parent path and the last segment, unless this is the root.
    pub fn split_last(&self) -> Option<(KeyPath, &Segment)> {
        let (last, rest) = self.0.split_last()?;
        Some((KeyPath(rest.to_vec()), last))
    }

    /// The last segment's key, if it is an object key.
    pub fn last_key(&self) -> Option<&str> {
        self.0.last().and_then(Segment::as_key)
    }
}

impl From<Vec<Segment>> for KeyPath {
    fn from(segments: Vec<Segment>) -> Self {
        Self(segments)
    }
}

fn is_bare_char(c: char) -> bool {
    !matches!(c, '.' | '[' | ']' | '"' | '\'') && !c.is_whitespace() && !c.is_control()
}

/// Whether `key` can be written bare in a key path (and so unquoted in JSON5 when it is also an
/// identifier).
fn displays_bare(key: &str) -> bool {
    !key.is_empty() && key.chars().all(is_bare_char)
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Index(index) => write!(f, "[{index}]")?,
                Segment::Key(key) if displays_bare(key) => {
                    if i > 0 {
                        f.write_str(".")?;
                    }
                    f.write_str(key)?;
                }
                Segment::Key(key) => {
                    write!(f, "[\"")?;
                    for c in key.chars() {
                        if matches!(c, '"' | '\\') {
                            f.write_str("\\")?;
                        }
                        write!(f, "{c}")?;
                    }
                    write!(f, "\"]")?;
                }
            }
        }
        Ok(())
    }
}

struct Parser<'a> {
    input: &'a str,
    chars: Vec<char>,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, message: &'static str) -> KeyPathError {
        KeyPathError {
            input: self.input.to_owned(),
            column: self.pos + 1,
            message,
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn quoted(&mut self) -> Result<String, KeyPathError> {
        let quote = self.chars[self.pos];
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated quoted key")),
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some(c) => out.push(c),
                        None => return Err(self.error("unterminated quoted key")),
                    }
                    self.pos += 1;
                }
                Some(c) if c == quote => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn bare(&mut self) -> Result<String, KeyPathError> {
        let start = self.pos;
        while self.peek().is_some_and(is_bare_char) {
            self.pos += 1;
        }
        if self.pos == start {
            return Err(self.error(match self.peek() {
                None => "expected a key name at the end",
                Some(c) if c.is_whitespace() => {
                    "whitespace in a key name; quote it, e.g. [\"my key\"]"
                }
                Some(_) => "expected a key name",
            }));
        }
        Ok(self.chars[start..self.pos].iter().collect())
    }

    fn bracket(&mut self) -> Result<Segment, KeyPathError> {
        self.pos += 1; // '['
        let segment = match self.peek() {
            Some('"' | '\'') => Segment::Key(self.quoted()?),
            Some(c) if c.is_ascii_digit() => {
                let start = self.pos;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                let digits: String = self.chars[start..self.pos].iter().collect();
                let index = digits
                    .parse()
                    .map_err(|_| self.error("array index is too large"))?;
                Segment::Index(index)
            }
            _ => return Err(self.error("expected an array index or a quoted key inside [ ]")),
        };
        if self.peek() != Some(']') {
            return Err(self.error("expected `]`"));
        }
        self.pos += 1;
        Ok(segment)
    }

    fn parse(mut self) -> Result<KeyPath, KeyPathError> {
        let mut segments = Vec::new();
        if self.chars.is_empty() {
            return Err(self.error("the key path is empty"));
        }
        let mut expect_name = true;
        while let Some(c) = self.peek() {
            if segments.len() == MAX_DEPTH && (expect_name || matches!(c, '[')) {
                return Err(self
                    .error("the key path is deeper than 32 segments, deeper than any config key"));
            }
            if expect_name {
                let segment = match c {
                    '[' => self.bracket()?,
                    '"' | '\'' => Segment::Key(self.quoted()?),
                    _ => Segment::Key(self.bare()?),
                };
                segments.push(segment);
                expect_name = false;
            } else {
                match c {
                    '.' => {
                        self.pos += 1;
                        expect_name = true;
                        if self.peek().is_none() {
                            return Err(self.error("expected a key name after `.`"));
                        }
                    }
                    '[' => segments.push(self.bracket()?),
                    _ => return Err(self.error("expected `.` or `[` between keys")),
                }
            }
        }
        Ok(KeyPath(segments))
    }
}

impl FromStr for KeyPath {
    type Err = KeyPathError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        Parser {
            input,
            chars: input.chars().collect(),
            pos: 0,
        }
        .parse()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(path: &str) -> Vec<Segment> {
        path.parse::<KeyPath>().unwrap().0
    }

    fn k(s: &str) -> Segment {
        Segment::Key(s.to_owned())
    }

    #[test]
    fn parses_every_segment_form() {
        assert_eq!(
            keys("models.bedrockDiscovery.enabled"),
            vec![k("models"), k("bedrockDiscovery"), k("enabled")]
        );
        assert_eq!(
            keys(r#"models.providers["amazon-bedrock"].baseUrl"#),
            vec![
                k("models"),
                k("providers"),
                k("amazon-bedrock"),
                k("baseUrl")
            ]
        );
        assert_eq!(
            keys("models.providers.amazon-bedrock.models[0].id"),
            vec![
                k("models"),
                k("providers"),
                k("amazon-bedrock"),
                k("models"),
                Segment::Index(0),
                k("id")
            ]
        );
        assert_eq!(keys("a.'b.c'.d"), vec![k("a"), k("b.c"), k("d")]);
        assert_eq!(keys(r#"a["x\"y"]"#), vec![k("a"), k("x\"y")]);
        assert_eq!(keys("a.0").last().unwrap().as_index(), Some(0));
        assert_eq!(keys("[1][2]"), vec![Segment::Index(1), Segment::Index(2)]);
    }

    #[test]
    fn displays_in_the_form_it_parses() {
        for path in [
            "models.providers.amazon-bedrock.models[0].id",
            r#"headers["x.y"].z"#,
            r#"a["with space"]"#,
            r#"a["q\"uote"]"#,
        ] {
            let parsed: KeyPath = path.parse().unwrap();
            assert_eq!(parsed.to_string(), path);
            assert_eq!(parsed.to_string().parse::<KeyPath>().unwrap(), parsed);
        }
    }

    #[test]
    fn paths_deeper_than_any_key_are_refused_where_they_go_too_deep() {
        let deep = ["a"; 400].join(".");
        let err = deep.parse::<KeyPath>().unwrap_err();
        assert_eq!(err.column, 65, "{err}");
        assert!(err.message.contains("deeper than 32"), "{err}");
        assert!(["a"; 32].join(".").parse::<KeyPath>().is_ok());
        assert!("a[0]".repeat(17).parse::<KeyPath>().is_err());
    }

    #[test]
    fn reports_where_a_path_is_malformed() {
        let cases = [
            ("", 1, "the key path is empty"),
            ("a..b", 3, "expected a key name"),
            ("a.", 3, "expected a key name after `.`"),
            (
                "a[x]",
                3,
                "expected an array index or a quoted key inside [ ]",
            ),
            ("a[0", 4, "expected `]`"),
            ("a.\"b", 5, "unterminated quoted key"),
            ("a b", 2, "expected `.` or `[` between keys"),
            ("a[\"b\"]c", 7, "expected `.` or `[` between keys"),
        ];
        for (input, column, message) in cases {
            let err = input.parse::<KeyPath>().unwrap_err();
            assert_eq!(
                (err.column, err.message),
                (column, message),
                "input {input:?}"
            );
        }
    }
}
