// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(code) = overread_app::command_line(&args) {
        std::process::exit(code);
    }
    overread_app::run();
}
