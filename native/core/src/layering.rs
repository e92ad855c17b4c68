//! The core's modules import one another without a cycle (docs/ARCHITECTURE.md, "Who may
//! import whom"): each module can be read, tested and changed knowing only the ones below it.
//! This test reads the sources, so a new cycle fails `cargo test` naming the modules in it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The module a file of `src` belongs to: its first path component (`header/esri.rs` belongs
/// to `header`), `None` for the crate root.
fn module_of(relative: &Path) -> Option<String> {
    let first = relative.components().next()?.as_os_str().to_str()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (name != "lib").then(|| name.to_owned())
}

/// Every `.rs` file under `dir`, recursively.
fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// The names a root `pub use module::{A, B}` re-exports, mapped to their module: code that
/// says `crate::A` depends on that module as much as `crate::module::A` does.
fn root_reexports(lib: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for item in lib.split(';') {
        let item = item.trim();
        let Some(path) = item.strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, rest)) = path.split_once("::") else {
            continue;
        };
        let rest = rest.trim_start_matches('{').trim_end_matches('}');
        for name in rest.split(',') {
            let name = name.split(" as ").last().unwrap_or(name).trim();
            if !name.is_empty() {
                names.insert(name.to_owned(), module.to_owned());
            }
        }
    }
    names
}

/// The modules `text` names through `crate::` (outside comments), other than its own.
fn imports(text: &str, own: &str, reexports: &BTreeMap<String, String>) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        for (at, _) in code.match_indices("crate::") {
            let name: String = code[at + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let module = reexports.get(&name).cloned().unwrap_or(name);
            if module != own && !module.is_empty() {
                found.insert(module);
            }
        }
    }
    found
}

/// A cycle in `graph`, as the modules along it, if there is one.
fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// The import graph of the core's modules, test modules included (a test module that
/// imports a module above its own is a cycle too: it makes the two impossible to split).
fn import_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("src/lib.rs");
    let reexports = root_reexports(&lib);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).expect("a file under src");
        let Some(module) = module_of(relative) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("a source file");
        let found = imports(&text, &module, &reexports);
        graph.entry(module).or_default().extend(found);
    }
    graph
}

#[test]
fn modules_import_each_other_without_a_cycle() {
    let graph = import_graph();
    // The check sees the imports: a graph without the modules that are known to import
    // others would pass whatever the sources say.
    assert!(graph["grid"].contains("body") && graph["body"].contains("window"));
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "the core's modules import each other in a circle: {}; move what they share \
             into a module below them (docs/ARCHITECTURE.md, \"Who may import whom\")",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn a_cycle_is_found() {
    let edges = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")];
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, to) in edges {
        graph.entry(from.into()).or_default().insert(to.into());
    }
    assert_eq!(
        find_cycle(&graph).map(|c| c.join(" ")),
        Some("a b c a".to_owned())
    );
    graph.get_mut("c").map(|to| to.remove("a"));
    assert_eq!(find_cycle(&graph), None);
}

#[test]
fn root_reexports_count_as_imports_of_their_module() {
    let reexports = root_reexports("pub use grid::{read, Grid as G};\npub use value::DataType;");
    let text = "use crate::G;\n// crate::body is only a comment\nfn f(_: crate::DataType) {}";
    let found = imports(text, "stats", &reexports);
    assert_eq!(
        found.into_iter().collect::<Vec<_>>(),
        vec!["grid".to_owned(), "value".to_owned()]
    );
}
