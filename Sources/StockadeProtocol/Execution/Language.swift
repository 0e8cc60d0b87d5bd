/// The languages a request can be written in.
public enum Language: String, Sendable, Hashable, CaseIterable {
    case python
    case javascript
    case shell

    /// Accepts the names people use: python, python3, py; javascript, js, node, nodejs; shell, sh, bash.
    public init?(name: String) {
        switch name.lowercased() {
        case "python", "python3", "py": self = .python
        case "javascript", "js", "node", "nodejs": self = .javascript
        case "shell", "sh", "bash": self = .shell
        default: return nil
        }
    }
}
