//! `caspurd`: the node binary. Upgrade handlers of releases register here (none yet: this is
//! the chain's first version).

fn main() {
    caspur_cli::main_with(caspur_cli::UpgradeHandlers::default());
}
