//! `kubectl-medusa`: installed on the PATH, it runs as `kubectl medusa`.

use clap::Parser;
use kubectl_medusa::cli::Cli;

fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { 3 } else { 0 };
            let _ = error.print();
            return std::process::ExitCode::from(code);
        }
    };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start: {error}");
            return std::process::ExitCode::from(1);
        }
    };
    let code = runtime.block_on(kubectl_medusa::main_with(cli));
    std::process::ExitCode::from(code.code())
}
