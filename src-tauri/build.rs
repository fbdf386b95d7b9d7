/// The command names, from the one command table.
macro_rules! commands {
    ($( $(#[doc = $doc:literal])* $name:ident ( $($arg:ident : $ty:ty),* ) -> $ret:ty ; )*) => {
        const NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}
include!("src/command_table.rs");

fn main() {
    // Each app command becomes a permission (`allow-<name>`); the window's
    // capability (capabilities/main.json) grants exactly the ones it uses.
    let manifest = tauri_build::AppManifest::new().commands(NAMES);
    if let Err(e) = tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)) {
        eprintln!("tauri-build: {e:#}");
        std::process::exit(1);
    }
}
