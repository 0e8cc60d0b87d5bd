/// Which cgroup hierarchy this host uses for the controllers Stockade needs, and where Stockade
/// makes its groups. Detected once from /proc/self/mountinfo and /proc/self/cgroup.
public struct CgroupSystem: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable { case v1, v2, none }

    public let mode: Mode
    /// Usable controllers among memory, pids, cpu.
    public let controllers: Set<String>
    /// v1: controller → the directory under which Stockade creates groups.
    /// v2: the single key "" → that directory.
    public let bases: [String: String]
    /// Why a controller is missing, for `stockade doctor`.
    public let notes: [String]

    public static let wanted = ["memory", "pids", "cpu"]

    public init(mode: Mode, controllers: Set<String>, bases: [String: String], notes: [String] = []) {
        self.mode = mode
        self.controllers = controllers
        self.bases = bases
        self.notes = notes
    }

    /// The host's cgroup setup, detected once.
    public static let host: CgroupSystem = detect()

    /// Detect from the given files (tests pass fakes).
    public static func detect(mountinfoPath: String = "/proc/self/mountinfo",
                              cgroupPath: String = "/proc/self/cgroup",
                              groupName: String = "stockade") -> CgroupSystem {
        guard let mountinfo = KernelFile.readIfPresent(mountinfoPath),
              let selfCgroup = KernelFile.readIfPresent(cgroupPath) else {
            return CgroupSystem(mode: .none, controllers: [], bases: [:], notes: ["cannot read \(mountinfoPath) or \(cgroupPath)"])
        }
        // Our own position in each hierarchy: "ID:controllers:/path".
        var v1Paths: [String: String] = [:]
        var v2Path: String?
        for line in selfCgroup.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[0] == "0" && parts[1].isEmpty { v2Path = String(parts[2]) }
            for c in parts[1].split(separator: ",") { v1Paths[String(c)] = String(parts[2]) }
        }
        // Mount points: field 5 is the mount point, after " - " come fstype, source, super options.
        var v1Mounts: [String: String] = [:]
        var v2Mount: String?
        for line in mountinfo.split(separator: "\n") {
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let left = halves[0].split(separator: " ")
            let right = halves[1].split(separator: " ")
            guard left.count >= 5, right.count >= 3 else { continue }
            let mountPoint = String(left[4])
            if right[0] == "cgroup2" {
                v2Mount = v2Mount ?? mountPoint
            } else if right[0] == "cgroup" {
                for option in right[2].split(separator: ",") where wanted.contains(String(option)) {
                    v1Mounts[String(option)] = mountPoint
                }
            }
        }
        var notes: [String] = []
        // v1 controllers win where they are mounted (hybrid hosts such as this VM).
        var v1Bases: [String: String] = [:]
        for c in wanted {
            guard let mount = v1Mounts[c] else { continue }
            let own = v1Paths[c] ?? "/"
            v1Bases[c] = join(mount, own, groupName)
        }
        if !v1Bases.isEmpty {
            let missing = wanted.filter { v1Bases[$0] == nil }
            if !missing.isEmpty { notes.append("cgroup v1 lacks controllers: \(missing.joined(separator: ", "))") }
            return CgroupSystem(mode: .v1, controllers: Set(v1Bases.keys), bases: v1Bases, notes: notes)
        }
        if let v2Mount, let v2Path {
            let own = join(v2Mount, v2Path)
            let available = Set((KernelFile.readIfPresent(own + "/cgroup.controllers") ?? "")
                .split(whereSeparator: { $0 == " " || $0 == "\n" }).map(String.init))
            let usable = Set(wanted).intersection(available)
            if usable.isEmpty {
                notes.append("cgroup2 is mounted at \(v2Mount) but \(own) has none of memory, pids, cpu delegated (cgroup.controllers: '\(available.sorted().joined(separator: " "))')")
                return CgroupSystem(mode: .none, controllers: [], bases: [:], notes: notes)
            }
            return CgroupSystem(mode: .v2, controllers: usable, bases: ["": own], notes: notes)
        }
        notes.append("no cgroup hierarchy with memory, pids or cpu is mounted")
        return CgroupSystem(mode: .none, controllers: [], bases: [:], notes: notes)
    }

    static func join(_ parts: String...) -> String {
        var out = ""
        for part in parts {
            for c in part.split(separator: "/", omittingEmptySubsequences: true) { out += "/" + c }
        }
        return out.isEmpty ? "/" : out
    }
}

extension StringProtocol {
    /// Split on a multi-character separator (Foundation-free).
    func components(separatedBy separator: String) -> [String] {
        var result: [String] = []
        var rest = Substring(self)
        while let range = rest.firstRange(of: separator) {
            result.append(String(rest[rest.startIndex..<range.lowerBound]))
            rest = rest[range.upperBound...]
        }
        result.append(String(rest))
        return result
    }
}
