fn main() {
    lamppost::runtime::tune_allocator();
    std::process::exit(lamppost::cli::main());
}
