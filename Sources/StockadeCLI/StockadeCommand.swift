import ArgumentParser

@main
struct StockadeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stockade",
        abstract: "Stockade: run untrusted code in isolated Linux sandboxes.",
        version: StockadeVersion.string,
        subcommands: [ServeCommand.self, RunCommand.self, DoctorCommand.self, SeccompCommand.self, BenchCommand.self]
    )
}

enum StockadeVersion {
    static let string = "0.1.0"
}
