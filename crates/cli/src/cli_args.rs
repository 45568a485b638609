//! The command line's subcommand and option types (clap), apart from the top level (`Cli`,
//! `Command` in the crate root): what `dispatch` and `tx_dispatch` match on.

use super::*;

#[derive(Subcommand)]
pub(crate) enum TestnetCmd {
    /// Write the homes of an N-validator network on 127.0.0.1 (`DIR/node0 …`), sharing one
    /// genesis; start each with `caspurd start --home DIR/nodeK`.
    Init {
        /// Number of validators.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Number of full (non-validator) nodes, after the validators.
        #[arg(long, default_value_t = 0)]
        full_nodes: usize,
        /// Directory for the homes (this command always prints JSON).
        /// (`--output DIR` is accepted too, see `testnet_output_args`.)
        #[arg(long, default_value = "./testnet")]
        output_dir: PathBuf,
        /// Chain id.
        #[arg(long, default_value = "caspur-testnet-1")]
        chain_id: String,
        /// First port: node k uses p2p = PORT+10k, RPC = +1, metrics = +2.
        #[arg(long, default_value_t = 26656)]
        starting_port: u16,
        /// Target block interval in milliseconds.
        #[arg(long, default_value_t = 500)]
        block_time_ms: u64,
        /// Coins for each node's account (key `nodeK`, test keyring of its home).
        #[arg(long, default_value = "1000000000000ucsp")]
        account_coins: String,
        /// Genesis parameters for drills and tests.
        #[command(flatten)]
        params: testnet::NetworkParams,
    },
}

#[derive(Subcommand)]
pub(crate) enum BenchCmd {
    /// CheckTx with N broken routes vs. none (the circuit breaker's overhead), alternating
    /// rounds in one run.
    Circuit {
        /// Signed MsgSend txs per round (one account each).
        #[arg(long, default_value_t = 2_000)]
        txs: usize,
        /// Broken routes.
        #[arg(long, default_value_t = 1_000)]
        routes: usize,
        /// Rounds of each (medians are reported).
        #[arg(long, default_value_t = 7)]
        rounds: usize,
    },
    /// Block processing with the node's monitoring (metrics, health read, alert rules and
    /// the board for each subscriber) vs. without, alternating rounds in one run.
    Monitor {
        /// Blocks per round.
        #[arg(long, default_value_t = 50)]
        blocks: usize,
        /// Signed MsgSend txs per block (one account each).
        #[arg(long, default_value_t = 200)]
        txs: usize,
        /// Board subscribers (a document rendered for each, after each block).
        #[arg(long, default_value_t = 10)]
        subscribers: usize,
        /// Rounds of each (medians are reported).
        #[arg(long, default_value_t = 7)]
        rounds: usize,
    },
    /// The dCERT election's cost (vote update, delegation change, end-of-block seat
    /// maintenance: median and p99) for each electorate size, on in-memory state.
    Dcert {
        /// Voter counts, comma-separated.
        #[arg(long, value_delimiter = ',', default_value = "10000,100000,1000000")]
        voters: Vec<u64>,
        /// Candidates.
        #[arg(long, default_value_t = 10_000)]
        candidates: u64,
        /// Seats.
        #[arg(long, default_value_t = 21)]
        max_members: u32,
        /// Measured operations of each kind per size.
        #[arg(long, default_value_t = 1_000)]
        samples: usize,
    },
    /// Signed MsgSend throughput through decode → verify → execute → durable commit, against
    /// the raw secp256k1 verification rate on all cores, measured in the same run.
    TxThroughput {
        /// Signed txs to execute.
        #[arg(long, default_value_t = 20_000)]
        txs: usize,
        /// Distinct sender accounts.
        #[arg(long, default_value_t = 1_000)]
        accounts: usize,
        /// Txs per block.
        #[arg(long, default_value_t = 2_000)]
        block_size: usize,
        /// Alternating rounds of both measurements (medians are reported).
        #[arg(long, default_value_t = 5)]
        rounds: usize,
    },
    /// Block interval and finality latency (median, p99) of a local N-validator network
    /// (separate `caspurd start` processes) under each offered tx load.
    Network {
        /// Validators.
        #[arg(long, default_value_t = 4)]
        validators: usize,
        /// Target block interval in milliseconds.
        #[arg(long, default_value_t = 100)]
        block_time_ms: u64,
        /// Offered loads in tx/s, comma-separated (0: empty blocks).
        #[arg(long, value_delimiter = ',', default_value = "0,50,2000")]
        loads: Vec<u64>,
        /// Seconds per load.
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Load senders: genesis accounts, one thread each, sending its account's txs in
        /// sequence round-robin to the validators (at most 256).
        #[arg(long, default_value_t = 32)]
        senders: usize,
    },
}

#[derive(Subcommand)]
pub(crate) enum GenesisCmd {
    /// Fund an account in genesis.
    AddAccount {
        /// Bech32 address, or the name of a key in the home's keyring.
        address: String,
        /// Coins, e.g. 1000000ucsp or 1csp.
        coins: String,
        /// Keyring backend holding the key (default: client.toml's, else file).
        #[arg(long, value_enum, env = "CASPUR_KEYRING_BACKEND")]
        keyring_backend: Option<keys::Backend>,
    },
}

#[derive(Subcommand)]
pub(crate) enum KeysCmd {
    /// Create a key (prints its new mnemonic), or recover one with --recover.
    Add {
        /// Key name.
        name: String,
        /// Read the mnemonic from standard input instead of generating one.
        #[arg(long)]
        recover: bool,
    },
    /// Import a key: from an armored key file (`keys export`'s, or the Cosmos SDK's), or
    /// without a file from a mnemonic read from standard input.
    Import {
        /// Key name.
        name: String,
        /// The armored key file.
        file: Option<PathBuf>,
    },
    /// Print a key armored and encrypted under a passphrase, as the Cosmos SDK exports keys
    /// (`CASPUR_EXPORT_PASSPHRASE` or the terminal gives the passphrase).
    Export {
        /// Key name.
        name: String,
    },
    /// List keys.
    List,
    /// Show a key.
    Show {
        /// Key name.
        name: String,
        /// Print only the address.
        #[arg(short = 'a', long)]
        address: bool,
        /// The address's bech32 form: `acc` (caspur1…) or `val` (its validator operator
        /// address, caspurvaloper1…).
        #[arg(long, value_enum, default_value = "acc")]
        bech: keys::Bech,
    },
    /// Delete a key.
    Delete {
        /// Key name.
        name: String,
        /// Skip confirmation (accepted for Cosmos compatibility; deletion never prompts).
        #[arg(short = 'y', long)]
        yes: bool,
    },
}

#[derive(Args)]
pub(crate) struct TxOpts {
    /// RPC endpoint (default: client.toml's `node`).
    #[arg(long, global = true, env = "CASPUR_NODE")]
    pub(crate) node: Option<String>,
    /// Chain id (default: client.toml's, else asked from the node).
    #[arg(long, global = true, env = "CASPUR_CHAIN_ID")]
    pub(crate) chain_id: Option<String>,
    /// Fee, e.g. 5000ucsp (default: gas × gas price).
    #[arg(long, global = true)]
    pub(crate) fees: Option<String>,
    /// Gas limit, or `auto`: simulate the tx first and use the gas it used × --gas-adjustment.
    #[arg(long, default_value = "200000", global = true, value_parser = commands::parse_gas)]
    pub(crate) gas: commands::Gas,
    /// With `--gas auto`, the factor on the simulated gas (0 < x ≤ 10).
    #[arg(long, default_value_t = 1.0, global = true)]
    pub(crate) gas_adjustment: f64,
    /// Gas price used when --fees is absent.
    #[arg(long, default_value = "0.0025ucsp", global = true)]
    pub(crate) gas_prices: String,
    /// Memo.
    #[arg(long, default_value = "", global = true)]
    pub(crate) note: String,
    /// Keyring backend (default: client.toml's, else file).
    #[arg(long, value_enum, global = true, env = "CASPUR_KEYRING_BACKEND")]
    pub(crate) keyring_backend: Option<keys::Backend>,
    /// `sync`/`async` return after admission; `block` waits until the tx is committed
    /// (default: client.toml's, else block).
    #[arg(long, global = true, env = "CASPUR_BROADCAST_MODE")]
    pub(crate) broadcast_mode: Option<String>,
    /// Skip confirmation (accepted for Cosmos compatibility; never prompts).
    #[arg(short = 'y', long, global = true)]
    pub(crate) yes: bool,
    /// Print the unsigned tx as JSON instead of signing and broadcasting it (`--from` may be
    /// an address); sign it with `tx sign`, send it with `tx broadcast`.
    #[arg(long, global = true)]
    pub(crate) generate_only: bool,
    /// `tx sign` without asking the node: give --account-number and --sequence.
    #[arg(long, global = true, requires_all = ["account_number", "sequence"])]
    pub(crate) offline: bool,
    /// The signer's account number (`tx sign --offline`).
    #[arg(long, global = true)]
    pub(crate) account_number: Option<u64>,
    /// The signer's sequence (`tx sign --offline`).
    #[arg(long, global = true)]
    pub(crate) sequence: Option<u64>,
}

#[derive(Subcommand)]
pub(crate) enum DebugCmd {
    /// An address in every form: bech32 account (`caspur1…`), validator operator
    /// (`caspurvaloper1…`) and hex bytes; give any one of them.
    Addr {
        /// The address.
        address: String,
    },
}

#[derive(Subcommand)]
pub(crate) enum TxCmd {
    /// Bank transactions.
    #[command(subcommand)]
    Bank(BankTx),
    /// Staking transactions.
    #[command(subcommand)]
    Staking(staking_cmd::StakingTx),
    /// dCERT group transactions.
    #[command(subcommand)]
    Dcert(dcert_cmd::DcertTx),
    /// Upgrade readiness and the dCERT emergency track.
    #[command(subcommand)]
    Upgrade(upgrade_cmd::UpgradeTx),
    /// Incidents: sealed reports and the response lifecycle.
    #[command(subcommand)]
    Incident(incident_cmd::IncidentTx),
    /// Governance transactions.
    #[command(subcommand)]
    Gov(gov_cmd::GovTx),
    /// Rewards and the community pool.
    #[command(subcommand)]
    Distribution(gov_cmd::DistributionTx),
    /// Jail and unjail.
    #[command(subcommand)]
    Slashing(gov_cmd::SlashingTx),
    /// Authorizations: let another key send messages of one type for you, and use them.
    #[command(subcommand)]
    Authz(tx_file::AuthzTx),
    /// Sign a tx file (from --generate-only or another wallet); prints the signed tx JSON.
    Sign {
        /// The tx file.
        file: PathBuf,
        /// Signer key name.
        #[arg(long)]
        from: String,
        /// Write the signed tx here instead of stdout.
        #[arg(long = "output-document", value_name = "FILE")]
        output_document: Option<PathBuf>,
    },
    /// Broadcast a signed tx file.
    Broadcast {
        /// The signed tx file.
        file: PathBuf,
    },
}

#[derive(Subcommand)]
pub(crate) enum BankTx {
    /// Send coins: `send FROM TO AMOUNT` (the SDK's form) or `send TO AMOUNT --from KEY`.
    Send {
        /// [FROM] TO AMOUNT: the sender key, the recipient address, the amount (1000ucsp, 1csp).
        #[arg(num_args = 2..=3, required = true, value_names = ["FROM", "TO", "AMOUNT"])]
        args: Vec<String>,
        /// Sender key name (instead of the first argument).
        #[arg(long)]
        from: Option<String>,
    },
    /// Send AMOUNT to each of several recipients in one message: `multi-send FROM TO… AMOUNT`
    /// (the SDK's form) or `multi-send TO… AMOUNT --from KEY`.
    MultiSend {
        /// [FROM] TO… AMOUNT: the sender key, the recipients, the amount each receives.
        #[arg(num_args = 2.., required = true, value_names = ["FROM", "TO", "AMOUNT"])]
        args: Vec<String>,
        /// Sender key name (instead of the first argument).
        #[arg(long)]
        from: Option<String>,
        /// Divide AMOUNT among the recipients instead.
        #[arg(long)]
        split: bool,
    },
}

#[derive(Subcommand)]
pub(crate) enum QueryCmd {
    /// Bank queries.
    #[command(subcommand)]
    Bank(BankQuery),
    /// Auth queries.
    #[command(subcommand)]
    Auth(AuthQuery),
    /// A block (latest when no height is given).
    Block {
        /// Height.
        height: Option<u64>,
    },
    /// A committed tx by hash.
    Tx {
        /// Hex hash.
        hash: String,
    },
    /// Committed txs matching a CometBFT event query, e.g.
    /// `--query "message.sender='caspur1…' AND tx.height>=5"`.
    Txs {
        /// The event query.
        #[arg(long)]
        query: String,
        /// Page number.
        #[arg(long, default_value_t = 1)]
        page: u64,
        /// Txs per page (at most 100).
        #[arg(long, default_value_t = 30)]
        limit: u64,
    },
    /// Slashing parameters and signing infos.
    #[command(subcommand)]
    Slashing(slashing_cmd::SlashingQuery),
    /// Staking queries.
    #[command(subcommand)]
    Staking(staking_cmd::StakingQuery),
    /// dCERT group queries.
    #[command(subcommand)]
    Dcert(dcert_cmd::DcertQuery),
    /// Circuit-breaker queries.
    #[command(subcommand)]
    Circuit(circuit_cmd::CircuitQuery),
    /// Upgrade plans and readiness.
    #[command(subcommand)]
    Upgrade(upgrade_cmd::UpgradeQuery),
    /// Incidents and their timelines.
    #[command(subcommand)]
    Incident(incident_cmd::IncidentQuery),
    /// Governance queries.
    #[command(subcommand)]
    Gov(gov_cmd::GovQuery),
    /// Rewards and community pool queries.
    #[command(subcommand)]
    Distribution(gov_cmd::DistributionQuery),
}

#[derive(Subcommand)]
pub(crate) enum BankQuery {
    /// All balances of an address.
    Balances {
        /// Bech32 address.
        address: String,
    },
    /// The total supply of every denomination.
    Total,
}

#[derive(Subcommand)]
pub(crate) enum AuthQuery {
    /// An account.
    Account {
        /// Bech32 address.
        address: String,
    },
    /// The ante handler's limits and signature and size costs.
    Params,
}
