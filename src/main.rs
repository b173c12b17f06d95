fn main() {
    lamppost::runtime::tune_allocator();
    lamppost::runtime::init_pool();
    std::process::exit(lamppost::runtime::on_pool(lamppost::cli::main));
}
