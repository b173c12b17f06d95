fn main() {
    std::process::exit(lamppost::cli::main());
}
