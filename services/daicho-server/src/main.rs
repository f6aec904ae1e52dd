//! The `daicho` command. Exit codes: 0 success, 1 the operation failed,
//! 2 the command line was wrong (clap's own code).

use std::process::ExitCode;

use clap::Parser as _;
use daicho_server::cli::{Cli, Command, KeyCommand, TokenCommand, WitnessCommand};
use daicho_server::commands;

/// mimalloc rather than the system allocator: the append path builds and
/// drops many small JSON values per event (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Init(cfg) => commands::init::init(&cfg).await,
            Command::Serve(cfg) => daicho_server::app::serve(*cfg).await,
            Command::Keygen(cfg) => commands::sign::keygen(&cfg),
            Command::Key(KeyCommand::Register(cfg)) => commands::key::register(&cfg).await,
            Command::Key(KeyCommand::Revoke(cfg)) => commands::key::revoke(&cfg).await,
            Command::Key(KeyCommand::RotateLedger(cfg)) => commands::key::rotate_ledger(&cfg).await,
            Command::Sign(cfg) => commands::sign::sign(&cfg),
            Command::Token(TokenCommand::Create(cfg)) => commands::token::create(&cfg).await,
            Command::Token(TokenCommand::List(cfg)) => commands::token::list(&cfg).await,
            Command::Token(TokenCommand::Revoke(cfg)) => commands::token::revoke(&cfg).await,
            Command::Export(cfg) => commands::export::export(&cfg).await,
            Command::Report(cfg) => commands::report::report(&cfg).await,
            Command::Demo(cfg) => commands::demo::demo(&cfg).await,
            Command::Backup(cfg) => commands::backup::backup(&cfg).await,
            Command::Restore(cfg) => commands::restore::restore(&cfg).await,
            Command::Witness(WitnessCommand::Keygen(cfg)) => commands::witness::keygen(&cfg),
            Command::Witness(WitnessCommand::Serve(cfg)) => commands::witness::serve(&cfg).await,
            Command::Openapi => {
                print!("{}", daicho_server::api::openapi_json());
                Ok(())
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // `{:#}` prints the whole cause chain on one line.
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}
