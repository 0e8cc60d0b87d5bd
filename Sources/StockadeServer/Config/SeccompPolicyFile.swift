import FoundationEssentials
import Stockade

/// A JSON seccomp policy from a file, compiled to check it before the daemon uses it.
enum SeccompPolicyFile {
    struct Invalid: Error, CustomStringConvertible { var description: String }

    static func load(_ path: String) throws -> SeccompPolicy {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw Invalid(description: "cannot read the seccomp policy \(path): \(error)")
        }
        do {
            let policy = try JSONDecoder().decode(SeccompPolicy.self, from: data)
            _ = try SeccompCompiler.program(for: policy)
            return policy
        } catch {
            throw Invalid(description: "the seccomp policy \(path) is not usable: \(error)")
        }
    }
}
