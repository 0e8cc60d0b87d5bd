import ArgumentParser
import FoundationEssentials
import Stockade

struct SeccompCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seccomp",
        abstract: "Inspect seccomp policies.",
        subcommands: [Explain.self]
    )

    struct Explain: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print what the default policy (or --policy FILE) blocks and why."
        )

        @Option(help: "A JSON policy file to explain instead of the default.")
        var policy: String?
        @Flag(help: "Print the policy as JSON (the format --seccomp-policy reads).")
        var json = false

        func run() throws {
            let p = try policy.map { try PolicyFile.load($0) } ?? .default
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(p), as: UTF8.self))
                return
            }
            let program = try SeccompCompiler.program(for: p)
            print("default action: \(p.defaultAction); other architectures (i386, x32): \(p.badArchAction)")
            print("compiled: \(program.instructionCount) BPF instructions")
            if !program.unknownSyscalls.isEmpty {
                print("not on this architecture (skipped): \(program.unknownSyscalls.joined(separator: ", "))")
            }
            // Group rules by reason so each line says what is blocked and why.
            var order: [String] = []
            var byReason: [String: (syscalls: [String], actions: Set<String>, conditional: Bool)] = [:]
            for rule in p.rules {
                let reason = rule.reason ?? "(no reason given)"
                if byReason[reason] == nil { order.append(reason); byReason[reason] = ([], [], false) }
                for s in rule.syscalls where !(byReason[reason]?.syscalls.contains(s) ?? true) {
                    byReason[reason]?.syscalls.append(s)
                }
                byReason[reason]?.actions.insert(rule.action.description)
                if !rule.args.isEmpty { byReason[reason]?.conditional = true }
            }
            for reason in order {
                guard let entry = byReason[reason] else { continue }
                let when = entry.conditional ? " (when the arguments match)" : ""
                print("- \(entry.syscalls.joined(separator: ", ")) → \(entry.actions.sorted().joined(separator: "/"))\(when)")
                print("    why: \(reason)")
            }
        }
    }
}
