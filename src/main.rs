fn main() {
    std::process::exit(hvinv::cli::main());
}
