//! Compiles ../../proto with the pure-Rust protox parser, so no system protoc is needed. Client stubs are
//! generated only with the `test-client` feature: the product serves, it never calls.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let files = ["../../proto/tfplugin6.proto", "../../proto/plugin.proto"];
    for file in files {
        println!("cargo:rerun-if-changed={file}");
    }
    let clients = std::env::var_os("CARGO_FEATURE_TEST_CLIENT").is_some();
    let descriptors = protox::compile(files, ["../../proto"])?;
    tonic_prost_build::configure()
        .build_client(clients)
        .build_transport(false)
        .build_server(true)
        .generate_default_stubs(true)
        .compile_fds(descriptors)?;
    Ok(())
}
