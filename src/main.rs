fn main() {
    println!("metallab: under construction");
}
