//! `caspurd`: the node binary. Upgrade handlers of releases register here (none yet: this is
//! the chain's first version).

/// The node allocates and frees many small buffers on many threads (txs, events, RPC and
/// gossip messages, index rows); under load glibc's malloc spent a fifth of the node's CPU
/// (`BENCHMARKS.md`, network). mimalloc keeps per-thread free lists for exactly this.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    caspur_cli::main_with(caspur_cli::UpgradeHandlers::default());
}
