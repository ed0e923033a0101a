//! Checks, against the clap definitions, that every command whose `-o`
//! offers `json` writes a versioned document named in
//! `etcdsnap::machine_output` (whose schemas tests/json_schemas.rs
//! validates), or prints Kubernetes objects, which name their own format.

mod tests {
    use clap::CommandFactory;
    use etcdsnap::machine_output;

    /// Commands whose `-o json` prints Kubernetes objects or `List`s: their
    /// `apiVersion` and `kind` name the format (docs/json/README.md).
    const KUBERNETES_OBJECTS: &[&str] = &["get", "decode"];

    /// The subcommands with an `-o`/`--output` whose values include json
    /// (or that takes any value).
    fn json_commands() -> Vec<String> {
        let cli = super::super::Cli::command();
        cli.get_subcommands()
            .filter(|c| {
                c.get_arguments().any(|a| {
                    let values = a.get_possible_values();
                    // A free-form -o (get's, for jsonpath=…) may be json.
                    a.get_short() == Some('o')
                        && (values.is_empty() || values.iter().any(|v| v.matches("json", false)))
                })
            })
            .map(|c| c.get_name().to_string())
            .collect()
    }

    #[test]
    fn every_json_output_has_a_format() {
        let cmds = json_commands();
        // The walk itself finds what it must.
        for c in ["status", "verify", "ls", "get", "timeline"] {
            assert!(cmds.iter().any(|x| x == c), "{c} not found in {cmds:?}");
        }
        for c in &cmds {
            let formats = machine_output::of_command(c).count();
            let objects = KUBERNETES_OBJECTS.contains(&c.as_str());
            assert!(
                formats > 0 || objects,
                "`etcdsnap {c} -o json` has no versioned format: add it to \
                 etcdsnap::machine_output (and its schema to docs/json/)"
            );
            assert!(
                !(formats > 0 && objects),
                "{c}: both Kubernetes objects and a versioned format"
            );
        }
        // And every format belongs to a command that exists.
        let cli = super::super::Cli::command();
        for f in machine_output::ALL {
            assert!(
                cli.find_subcommand(f.command).is_some(),
                "{}: no command {}",
                f.name,
                f.command
            );
        }
    }
}
