@main
struct PersistenceBenchmark {
    static func main() async {
        print("persistence-benchmark: not yet implemented")
    }
}
