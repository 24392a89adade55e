//! No import cycles inside `src`: within each folder, no file (or
//! sub-folder, taken as one) reaches a sibling that reaches it back through
//! `crate::…`, `super::…` or `self::…` paths, whether in `use` items or
//! written inline. A folder's `mod.rs` is its front door, not a node: paths
//! through it are followed to the child that `pub use` re-exports from.
//! Inline `#[cfg(test)] mod … { }` blocks are left out: a unit test may
//! build its fixtures with a sibling's parser without the shipped code
//! depending on it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One source file and the module path it defines (`["store", "record"]`).
struct SourceFile {
    module: Vec<String>,
    /// `mod.rs`, `lib.rs`: the module is the folder itself.
    is_front_door: bool,
    code: String,
}

fn collect(dir: &Path, module: &[String], out: &mut Vec<SourceFile>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            let mut m = module.to_vec();
            m.push(name);
            collect(&path, &m, out);
        } else if let Some(stem) = name.strip_suffix(".rs") {
            let front = stem == "mod" || stem == "lib" || stem == "main";
            let mut m = module.to_vec();
            if !front {
                m.push(stem.to_string());
            }
            out.push(SourceFile {
                module: m,
                is_front_door: front,
                code: strip_test_modules(&strip_comments_and_strings(
                    &std::fs::read_to_string(&path).unwrap(),
                )),
            });
        }
    }
}

/// Drops `//…` and `/* … */` comments and the contents of string and char
/// literals, so paths named in prose or messages are not edges.
fn strip_comments_and_strings(src: &str) -> String {
    let b: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !prev_is_ident(&b, i) {
            // Raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while j < b.len() && b[j] == '#' {
                hashes += 1;
                j += 1;
            }
            if j < b.len() && b[j] == '"' {
                j += 1;
                loop {
                    if j >= b.len() {
                        break;
                    }
                    if b[j] == '"' && (0..hashes).all(|k| b.get(j + 1 + k) == Some(&'#')) {
                        j += 1 + hashes;
                        break;
                    }
                    j += 1;
                }
                out.push_str("\"\"");
                i = j;
            } else {
                out.push(c);
                i += 1;
            }
        } else if c == '"' {
            i += 1;
            while i < b.len() && b[i] != '"' {
                if b[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' && b.get(i + 2) == Some(&'\'') {
            out.push_str("' '");
            i += 3;
        } else if c == '\'' && next == Some('\\') {
            // '\n', '\u{200e}'
            i += 2;
            while i < b.len() && b[i] != '\'' {
                i += 1;
            }
            i += 1;
            out.push_str("' '");
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// Removes `#[cfg(test)] mod name { … }` blocks (braces balanced; strings
/// are already emptied).
fn strip_test_modules(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let after = &rest[at + "#[cfg(test)]".len()..];
        let head_end = after.find(['{', ';']).unwrap_or(after.len());
        let is_inline_mod = after[..head_end].trim_start().starts_with("mod ")
            && after[head_end..].starts_with('{');
        if !is_inline_mod {
            out.push_str("#[cfg(test)]");
            rest = after;
            continue;
        }
        let mut depth = 0;
        let mut end = after.len();
        for (i, c) in after[head_end..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = head_end + i + 1;
                        break;
                    }
                }
                _ => {}
            }
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

fn prev_is_ident(b: &[char], i: usize) -> bool {
    i > 0 && (b[i - 1].is_alphanumeric() || b[i - 1] == '_')
}

/// Every path written in `code`, with `use` trees expanded:
/// `use crate::a::{b, c::d}` gives `crate::a::b` and `crate::a::c::d`.
fn paths(code: &str) -> Vec<(usize, Vec<String>)> {
    let mut found = Vec::new();
    // `use` items, braces expanded.
    let mut offset = 0;
    while let Some(at) = find_word(&code[offset..], "use") {
        let start = offset + at;
        let after = &code[start + 3..];
        let end = after.find(';').unwrap_or(after.len());
        let mut trees = Vec::new();
        expand(&after[..end], &mut Vec::new(), &mut trees);
        found.extend(trees.into_iter().map(|t| (start, t)));
        offset = start + 3 + end;
    }
    // Inline paths: `crate::x::y`, `super::x`, `self::x`.
    for start in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(at) = code[from..].find(start) {
            let pos = from + at;
            from = pos + start.len();
            if pos > 0 {
                let prev = code[..pos].chars().next_back().unwrap();
                if prev.is_alphanumeric() || prev == '_' || prev == ':' {
                    continue;
                }
            }
            let segs: Vec<String> = code[pos..]
                .split("::")
                .map(|s| {
                    s.chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect::<String>()
                })
                .take_while(|s| !s.is_empty())
                .collect();
            found.push((pos, segs));
        }
    }
    found
}

/// Inline modules (`mod name { … }`): their byte range and name, so a path
/// inside one is read from that module (`super` there is the file).
fn inline_modules(code: &str) -> Vec<(usize, usize, String)> {
    let mut found = Vec::new();
    let mut offset = 0;
    while let Some(at) = find_word(&code[offset..], "mod") {
        let start = offset + at;
        offset = start + 3;
        let after = &code[start + 3..];
        let name: String = after
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        let Some(open) = after.find(['{', ';']) else {
            continue;
        };
        if !after[open..].starts_with('{') || after[..open].trim() != name {
            continue;
        }
        let mut depth = 0;
        for (i, c) in after[open..].char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        found.push((start, start + 3 + open + i, name.clone()));
                        break;
                    }
                }
                _ => {}
            }
        }
    }
    found
}

fn find_word(s: &str, word: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(at) = s[from..].find(word) {
        let pos = from + at;
        let before_ok = pos == 0
            || !s[..pos]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_');
        let after_ok = s[pos + word.len()..]
            .chars()
            .next()
            .is_some_and(char::is_whitespace);
        if before_ok && after_ok {
            return Some(pos);
        }
        from = pos + word.len();
    }
    None
}

/// Expands one use tree (`a::{b, c::{d, e}}`) under `prefix`.
fn expand(tree: &str, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    let tree = tree.trim();
    if let Some(open) = tree.find('{') {
        let head: Vec<String> = tree[..open]
            .split("::")
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        let close = tree.rfind('}').unwrap_or(tree.len());
        let inner = &tree[open + 1..close];
        let depth = prefix.len();
        prefix.extend(head);
        for part in split_top_level(inner) {
            expand(part, prefix, out);
        }
        prefix.truncate(depth);
    } else {
        let mut p = prefix.clone();
        let first = tree.split(" as ").next().unwrap_or("");
        p.extend(
            first
                .split("::")
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
        );
        if !p.is_empty() {
            out.push(p);
        }
    }
}

fn split_top_level(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// The modules of the crate and, for each front door, what its `pub use`
/// items re-export: (module, name) -> the child it comes from.
struct Crate {
    modules: BTreeSet<Vec<String>>,
    reexports: BTreeMap<(Vec<String>, String), Vec<String>>,
}

impl Crate {
    fn new(files: &[SourceFile]) -> Crate {
        let modules: BTreeSet<Vec<String>> = files.iter().map(|f| f.module.clone()).collect();
        let mut reexports = BTreeMap::new();
        for f in files.iter().filter(|f| f.is_front_door) {
            let mut rest = f.code.as_str();
            while let Some(at) = rest.find("pub use ") {
                let after = &rest[at + 8..];
                let end = after.find(';').unwrap_or(after.len());
                let mut trees = Vec::new();
                expand(&after[..end], &mut Vec::new(), &mut trees);
                for t in trees {
                    let Some(name) = t.last() else { continue };
                    let abs = absolute(&f.module, true, &t);
                    if let Some(child) = deepest_module(&modules, &abs)
                        && child.len() > f.module.len()
                    {
                        reexports.insert((f.module.clone(), name.clone()), child);
                    }
                }
                rest = &after[end..];
            }
        }
        Crate { modules, reexports }
    }

    /// The file a path lands in, following one level of re-export.
    fn target(&self, path: &[String]) -> Option<Vec<String>> {
        let m = deepest_module(&self.modules, path)?;
        if let Some(name) = path.get(m.len())
            && let Some(child) = self.reexports.get(&(m.clone(), name.clone()))
        {
            return Some(child.clone());
        }
        Some(m)
    }
}

/// `path` made absolute from the module `from` (`crate::` dropped).
fn absolute(from: &[String], front_door: bool, path: &[String]) -> Vec<String> {
    let Some(first) = path.first() else {
        return Vec::new();
    };
    let mut base: Vec<String> = match first.as_str() {
        "crate" => Vec::new(),
        "self" => from.to_vec(),
        "super" => {
            let mut b = from.to_vec();
            // A file's `super` is its folder; a folder's is its parent.
            if !front_door || !b.is_empty() {
                b.pop();
            }
            b
        }
        // A child module of a front door (`use record::HostId` in mod.rs).
        _ if front_door => {
            let mut b = from.to_vec();
            b.push(first.clone());
            return b.into_iter().chain(path[1..].iter().cloned()).collect();
        }
        _ => return Vec::new(),
    };
    let mut rest = &path[1..];
    while rest.first().is_some_and(|s| s == "super") {
        base.pop();
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    base
}

fn deepest_module(modules: &BTreeSet<Vec<String>>, path: &[String]) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| modules.contains(p))
}

/// Cycles among the children of each folder; each as `a -> b -> a`.
fn cycles(files: &[SourceFile]) -> Vec<String> {
    let krate = Crate::new(files);
    // folder -> child -> children it reaches
    let mut graph: BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for f in files.iter().filter(|f| !f.is_front_door) {
        let inline = inline_modules(&f.code);
        for (pos, p) in paths(&f.code) {
            let mut from = f.module.clone();
            from.extend(
                inline
                    .iter()
                    .filter(|(start, end, _)| *start < pos && pos < *end)
                    .map(|(_, _, name)| name.clone()),
            );
            let abs = absolute(&from, false, &p);
            let Some(to) = krate.target(&abs) else {
                continue;
            };
            // The deepest folder holding both, and the child of it each is in.
            let common = f.module.iter().zip(&to).take_while(|(a, b)| a == b).count();
            let (Some(a), Some(b)) = (f.module.get(common), to.get(common)) else {
                continue; // one contains the other: the front door, or a child
            };
            if a != b {
                graph
                    .entry(f.module[..common].to_vec())
                    .or_default()
                    .entry(a.clone())
                    .or_default()
                    .insert(b.clone());
            }
        }
    }
    let mut found = Vec::new();
    for (folder, edges) in &graph {
        let folder = if folder.is_empty() {
            "src".to_string()
        } else {
            format!("src/{}", folder.join("/"))
        };
        for cycle in find_cycles(edges) {
            found.push(format!("{folder}: {}", cycle.join(" -> ")));
        }
    }
    found
}

/// One cycle per strongly connected component with more than one node.
fn find_cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let mut reported: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    for start in edges.keys() {
        if reported.contains(start) {
            continue;
        }
        // Shortest way back to `start`, breadth first.
        let mut prev: BTreeMap<String, String> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start.clone()]);
        let mut closed = None;
        while let Some(n) = queue.pop_front() {
            for m in edges.get(&n).into_iter().flatten() {
                if m == start {
                    closed = Some(n.clone());
                    break;
                }
                if !prev.contains_key(m) {
                    prev.insert(m.clone(), n.clone());
                    queue.push_back(m.clone());
                }
            }
            if closed.is_some() {
                break;
            }
        }
        if let Some(mut n) = closed {
            let mut cycle = vec![start.clone()];
            let mut back = vec![n.clone()];
            while let Some(p) = prev.get(&n) {
                if p == start {
                    break;
                }
                back.push(p.clone());
                n = p.clone();
            }
            back.reverse();
            cycle.extend(back);
            cycle.push(start.clone());
            reported.extend(cycle.iter().cloned());
            out.push(cycle);
        }
    }
    out
}

fn src_files() -> Vec<SourceFile> {
    let mut files = Vec::new();
    collect(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        &[],
        &mut files,
    );
    files
}

#[test]
fn no_file_in_src_imports_a_sibling_that_imports_it_back() {
    let found = cycles(&src_files());
    assert!(
        found.is_empty(),
        "import cycles in src:\n  {}",
        found.join("\n  ")
    );
}

/// The checker itself finds what it is for (a checker that cannot fail
/// proves nothing).
#[test]
fn the_checker_sees_cycles_through_use_trees_inline_paths_and_reexports() {
    let file = |module: &[&str], front: bool, code: &str| SourceFile {
        module: module.iter().map(|s| s.to_string()).collect(),
        is_front_door: front,
        code: strip_test_modules(&strip_comments_and_strings(code)),
    };
    let files = vec![
        file(&[], true, "pub mod a;"),
        file(&["a"], true, "mod x; mod y; mod z; pub use x::Tx;"),
        file(&["a", "x"], false, "use super::{y::Y, z};\npub struct Tx;"),
        // Back to x through the folder's re-export.
        file(&["a", "y"], false, "pub struct Y; fn f(_: crate::a::Tx) {}"),
        file(
            &["a", "z"],
            false,
            "// use super::x; (prose, not code)\nconst S: &str = \"super::x\";\n\
             #[cfg(test)]\nmod tests { use super::super::x::Tx; fn t() { let _ = 1; } }",
        ),
    ];
    assert_eq!(cycles(&files), vec!["src/a: x -> y -> x".to_string()]);

    // Sub-folders count as one node of their parent folder.
    let files = vec![
        file(&[], true, "pub mod r; pub mod s;"),
        file(&["r"], true, "pub mod p; pub mod t;"),
        file(&["r", "p"], true, "mod m;"),
        file(&["r", "p", "m"], false, "use crate::r::t::T;"),
        file(&["r", "t"], false, "pub struct T; use super::p::m;"),
        file(&["s"], false, "use crate::r::t::T;"),
    ];
    assert_eq!(cycles(&files), vec!["src/r: p -> t -> p".to_string()]);

    // `super` inside an inline module is the file, not its folder.
    let files = vec![
        file(&[], true, "pub mod a;"),
        file(&["a"], true, "mod x; mod y;"),
        file(&["a", "x"], false, "use super::y::Y; pub fn f() {}"),
        file(
            &["a", "y"],
            false,
            "pub struct Y; pub mod serde_y { fn g() { super::x::f() } }",
        ),
    ];
    assert!(cycles(&files).is_empty());
}
