fn main() {
    // Embed the router config templates so `cargo install` ships a self-contained binary.
    minijinja_embed::embed_templates!("templates");
}
