//! Parameter grids over a scenario's TOML: dotted keys (`clock.seed`, `lending.morpho[0].lltv`,
//! `events[2].fraction`) set to values of the type they replace, and the cartesian product of
//! their values. `stakestack sweep --set` and the Python package's `run(overrides=…)` and
//! `sweep(grid=…)` apply the same keys through these functions.

/// Why a key or a value could not be applied: a message naming the key, and the parser's own
/// reason where one exists (the error's [`source`](std::error::Error::source)).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GridError {
    /// What is wrong, naming the key.
    pub message: String,
    /// The value parser's reason, if any.
    pub cause: Option<String>,
}

impl GridError {
    fn new(message: String) -> Self {
        GridError { message, cause: None }
    }

    fn because(message: String, cause: &dyn std::fmt::Display) -> Self {
        GridError {
            message,
            cause: Some(cause.to_string()),
        }
    }
}

impl std::fmt::Display for GridError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.cause, f.alternate()) {
            (Some(c), true) => write!(f, "{}: {c}", self.message),
            _ => write!(f, "{}", self.message),
        }
    }
}

/// The parser's reason behind a [`GridError`].
#[derive(Debug)]
struct Cause(String);

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for Cause {}

impl std::error::Error for GridError {}

/// A [`GridError`] as a chain of two errors (message, then cause), so that `anyhow`'s `{:#}`
/// prints `message: cause` as the command line always has.
#[derive(Debug)]
pub struct Chained {
    message: String,
    cause: Option<Cause>,
}

impl From<GridError> for Chained {
    fn from(e: GridError) -> Self {
        Chained {
            message: e.message,
            cause: e.cause.map(Cause),
        }
    }
}

impl std::fmt::Display for Chained {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.message)
    }
}

impl std::error::Error for Chained {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.cause.as_ref().map(|c| c as &(dyn std::error::Error + 'static))
    }
}

/// One segment of a key path: a table key, optionally indexing an array.
#[derive(Debug, PartialEq, Eq)]
pub struct Seg {
    /// Table key.
    pub key: String,
    /// Array index, for `key[i]`.
    pub index: Option<usize>,
}

/// `a.b[2].c` → segments.
///
/// Specification: fails when a segment is empty or holds other characters than letters, digits,
/// `_` and `-`, or when an index is not `[N]` with `N` a non-negative integer.
pub fn parse_key(key: &str) -> Result<Vec<Seg>, GridError> {
    let mut out = Vec::new();
    for part in key.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, rest)) => {
                let i = rest
                    .strip_suffix(']')
                    .and_then(|x| x.parse::<usize>().ok())
                    .ok_or_else(|| GridError::new(format!("`{key}`: `{part}` must be NAME or NAME[INDEX]")))?;
                (n, Some(i))
            }
            None => (part, None),
        };
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(GridError::new(format!("`{key}`: `{part}` is not a key name")));
        }
        out.push(Seg {
            key: name.to_string(),
            index,
        });
    }
    Ok(out)
}

/// A value for `key` as TOML: the type of the value it replaces (an integer stays an integer, a
/// string a string); a new key takes an integer or a boolean if the text is one, else a string.
fn typed(old: Option<&toml::Value>, text: &str, key: &str) -> Result<toml::Value, GridError> {
    let t = text.trim();
    Ok(match old {
        Some(toml::Value::Integer(_)) => toml::Value::Integer(
            t.replace('_', "")
                .parse()
                .map_err(|e| GridError::because(format!("`{key}` is an integer in the scenario; `{t}` is not"), &e))?,
        ),
        Some(toml::Value::Float(_)) => toml::Value::Float(
            t.parse()
                .map_err(|e| GridError::because(format!("`{key}` is a number in the scenario; `{t}` is not"), &e))?,
        ),
        Some(toml::Value::Boolean(_)) => {
            toml::Value::Boolean(t.parse().map_err(|e| {
                GridError::because(format!("`{key}` is true or false in the scenario; `{t}` is not"), &e)
            })?)
        }
        Some(toml::Value::String(_)) => toml::Value::String(t.to_string()),
        Some(_) => {
            return Err(GridError::new(format!(
                "`{key}` is a table or an array in the scenario; set one of its keys"
            )))
        }
        None => {
            if let Ok(i) = t.parse::<i64>() {
                toml::Value::Integer(i)
            } else if let Ok(b) = t.parse::<bool>() {
                toml::Value::Boolean(b)
            } else {
                toml::Value::String(t.to_string())
            }
        }
    })
}

/// Sets `key` to `value` in the scenario's table: every table and array element on the way must
/// exist; the last key may be new (a parameter left at its default).
///
/// Specification: fails, naming the key, when the key does not parse ([`parse_key`]), a table
/// or array on the way is missing or is not one, an index is out of range, the value does not
/// parse as the type of the value it replaces, or the key names a table or an array.
pub fn set(doc: &mut toml::Table, key: &str, value: &str) -> Result<(), GridError> {
    let segs = parse_key(key)?;
    let mut table = doc;
    for (k, s) in segs.iter().enumerate() {
        let last = k + 1 == segs.len();
        let here = &segs[..=k].iter().map(|s| s.key.as_str()).collect::<Vec<_>>().join(".");
        if last && s.index.is_none() {
            let v = typed(table.get(&s.key), value, key)?;
            table.insert(s.key.clone(), v);
            return Ok(());
        }
        let entry = table
            .get_mut(&s.key)
            .ok_or_else(|| GridError::new(format!("`{key}`: the scenario has no `{here}`")))?;
        let next = match s.index {
            Some(i) => {
                let arr = entry
                    .as_array_mut()
                    .ok_or_else(|| GridError::new(format!("`{key}`: `{here}` is not an array")))?;
                let n = arr.len();
                let item = arr.get_mut(i).ok_or_else(|| {
                    GridError::new(format!(
                        "`{key}`: `{here}` has {n} entries (0 to {})",
                        n.saturating_sub(1)
                    ))
                })?;
                if last {
                    *item = typed(Some(&*item), value, key)?;
                    return Ok(());
                }
                item
            }
            None => entry,
        };
        table = next
            .as_table_mut()
            .ok_or_else(|| GridError::new(format!("`{key}`: `{here}` is not a table")))?;
    }
    Ok(())
}

/// `KEY=V1,V2` → (KEY, [V1, V2]).
///
/// Specification: fails when there is no `=`, the key is empty or a value is empty.
pub fn parse_set(s: &str) -> Result<(String, Vec<String>), GridError> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| GridError::new(format!("--set `{s}`: expected KEY=V1,V2,…")))?;
    let values: Vec<String> = v.split(',').map(|x| x.trim().to_string()).collect();
    if k.trim().is_empty() || values.iter().any(String::is_empty) {
        return Err(GridError::new(format!(
            "--set `{s}`: expected KEY=V1,V2,… with no empty value"
        )));
    }
    Ok((k.trim().to_string(), values))
}

/// Every combination, the first parameter varying slowest.
pub fn grid(sets: &[(String, Vec<String>)]) -> Vec<Vec<String>> {
    let mut points = vec![Vec::new()];
    for (_, values) in sets {
        points = points
            .into_iter()
            .flat_map(|p| {
                values.iter().map(move |v| {
                    let mut q = p.clone();
                    q.push(v.clone());
                    q
                })
            })
            .collect();
    }
    points
}

/// A point's label: `key=value` pairs separated by spaces.
pub fn label(keys: &[String], values: &[String]) -> String {
    keys.iter()
        .zip(values)
        .map(|(key, v)| format!("{key}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The scenario text of one point: `base` with every `keys[i]` set to `values[i]`, written back
/// as TOML under a comment line that names the point (`origin` is where the base came from).
///
/// Specification: fails as [`set`] does, on the first key that cannot be set.
pub fn point_text(
    base: &toml::Table,
    keys: &[String],
    values: &[String],
    k: usize,
    origin: &str,
) -> Result<String, GridError> {
    let mut doc = base.clone();
    for (key, v) in keys.iter().zip(values) {
        set(&mut doc, key, v)?;
    }
    let t = toml::to_string(&doc).map_err(|e| GridError::because("writing a point's scenario".to_string(), &e))?;
    Ok(format!(
        "# Point {k} of a sweep of {origin}: {}\n{t}",
        label(keys, values)
    ))
}
