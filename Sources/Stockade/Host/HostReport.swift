import CStockade
import Glibc

/// What this host supports, for `stockade doctor` and the daemon's /info.
public struct HostReport: Sendable {
    public struct Check: Sendable {
        public var name: String
        public var ok: Bool
        /// What was found.
        public var detail: String
        /// What to do when not ok (empty when ok).
        public var fix: String
        /// A failed required check makes the verdict "not ready"; others are warnings.
        public var required: Bool
    }

    public var checks: [Check]
    public var kernel: String
    public var cgroup: CgroupSystem
    public var landlockABI: Int?
    public var seccomp: Bool
    public var clone3: Bool

    public var ready: Bool { checks.allSatisfy { $0.ok || !$0.required } }

    /// Probe the host. With `spawnTest`, also start a real fully isolated sandbox.
    public static func probe(spawnTest: Bool = true) -> HostReport {
        var checks: [Check] = []
        let kernel = kernelRelease()
        let root = geteuid() == 0
        checks.append(Check(name: "root", ok: root, detail: root ? "running as root" : "running as uid \(geteuid())",
                            fix: "run Stockade as root: it maps each sandbox to an unprivileged host uid", required: true))
        let maxUserNS = KernelFile.readIfPresent("/proc/sys/user/max_user_namespaces")?.trimmingTrailingNewline ?? "?"
        let userNSOK = (Int(maxUserNS) ?? 0) > 0
        checks.append(Check(name: "user namespaces", ok: userNSOK, detail: "user.max_user_namespaces = \(maxUserNS)",
                            fix: "sysctl -w user.max_user_namespaces=15000", required: true))
        let clone3 = stk_clone3_available() == 1
        checks.append(Check(name: "clone3", ok: clone3, detail: clone3 ? "available" : "missing: falling back to clone",
                            fix: "Linux 5.3+ has clone3; the fallback works but cannot place children directly", required: false))
        let seccomp = stk_seccomp_available() == 1
        var seccompDetail = seccomp ? "seccomp filters supported" : "no seccomp"
        var seccompOK = seccomp
        if seccomp {
            do {
                let program = try SeccompCompiler.program(for: .default)
                seccompDetail += "; default policy compiles to \(program.instructionCount) BPF instructions (libseccomp)"
            } catch {
                seccompOK = false
                seccompDetail += "; default policy does not compile: \(error)"
            }
        }
        checks.append(Check(name: "seccomp", ok: seccompOK, detail: seccompDetail,
                            fix: "a kernel with CONFIG_SECCOMP_FILTER and libseccomp2 installed", required: true))
        let abi = LandlockPolicy.kernelABI
        checks.append(Check(name: "landlock", ok: abi != nil,
                            detail: abi.map { "ABI \($0): active as a second filesystem layer" } ?? "not available: sandboxes run without the Landlock layer",
                            fix: "Linux 5.13+ with CONFIG_SECURITY_LANDLOCK=y and landlock in the lsm= boot parameter", required: false))
        let cg = CgroupSystem.host
        let cgDetail: String
        switch cg.mode {
        case .none: cgDetail = "none usable" + (cg.notes.isEmpty ? "" : " (" + cg.notes.joined(separator: "; ") + ")")
        default:
            cgDetail = "\(cg.mode.rawValue) with \(cg.controllers.sorted().joined(separator: ", "))"
                + " under " + cg.bases.values.sorted().joined(separator: ", ")
                + (cg.notes.isEmpty ? "" : " (" + cg.notes.joined(separator: "; ") + ")")
        }
        checks.append(Check(name: "cgroups", ok: cg.mode != .none && cg.controllers.count == 3, detail: cgDetail,
                            fix: "mount cgroup2 with memory, pids and cpu delegated (systemd: Delegate=yes), or cgroup v1 controllers; without them memory/pids/cpu limits are refused",
                            required: false))
        for interpreter in ["/usr/bin/python3", "/usr/bin/node"] {
            let ok = access(interpreter, X_OK) == 0
            checks.append(Check(name: interpreter, ok: ok, detail: ok ? "found" : "missing",
                                fix: "apt-get install \(interpreter.hasSuffix("node") ? "nodejs" : "python3")", required: false))
        }
        if spawnTest && root {
            var spec = SandboxSpec(arguments: ["/bin/true"])
            spec.stdout = .null
            spec.stderr = .null
            spec.landlock = .automatic
            do {
                let p = try Sandbox.spawnBlocking(spec)
                let o = p.waitBlocking()
                let ok = o.termination == .exited(0)
                checks.append(Check(name: "sandbox spawn", ok: ok,
                                    detail: ok ? String(format3: o.wallSeconds * 1000) + " ms for /bin/true with every namespace, pivot_root, seccomp, Landlock" : "/bin/true ended with \(o.termination)",
                                    fix: "see the error above", required: true))
            } catch {
                checks.append(Check(name: "sandbox spawn", ok: false, detail: "\(error)", fix: "fix the failing step named above", required: true))
            }
        }
        return HostReport(checks: checks, kernel: kernel, cgroup: cg, landlockABI: abi, seccomp: seccomp, clone3: clone3)
    }

    public static func kernelRelease() -> String {
        var u = utsname()
        guard uname(&u) == 0 else { return "unknown" }
        return withUnsafeBytes(of: u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    }
}

extension String {
    /// A number with three decimals, without Foundation.
    init(format3 value: Double) {
        let scaled = Int((value * 1000).rounded())
        let whole = scaled / 1000
        let frac = abs(scaled % 1000)
        self = "\(whole)." + String(repeating: "0", count: 3 - String(frac).count) + String(frac)
    }
}
