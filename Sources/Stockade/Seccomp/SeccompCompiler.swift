import CSeccomp
import CStockade
import Glibc
import Synchronization

/// A compiled seccomp program: classic BPF instructions ready for SECCOMP_SET_MODE_FILTER.
public struct SeccompProgram: Sendable {
    /// The raw `struct sock_filter` array.
    public let bytes: [UInt8]
    /// The same bytes in C memory that lives as long as the process (programs are cached), so a
    /// spawn can hand the child a pointer without copying.
    let pinned: PinnedBytes
    /// Rules naming syscalls this architecture does not have (skipped, listed for `explain`).
    public let unknownSyscalls: [String]
    public var instructionCount: Int { bytes.count / 8 }
}

/// Compiles `SeccompPolicy` values with libseccomp, in the parent, once per policy.
public enum SeccompCompiler {
    private static let cache = Mutex<[SeccompPolicy: SeccompProgram]>([:])

    /// The compiled program for `policy`, from the cache when it was compiled before.
    public static func program(for policy: SeccompPolicy) throws -> SeccompProgram {
        if let cached = cache.withLock({ $0[policy] }) { return cached }
        let program = try compile(policy)
        cache.withLock { $0[policy] = program }
        return program
    }

    static func actionValue(_ action: SeccompAction) -> UInt32 {
        switch action {
        case .allow: return 0x7fff_0000
        case let .errno(e): return 0x0005_0000 | (UInt32(bitPattern: e) & 0xffff)
        case .killProcess: return 0x8000_0000
        case .killThread: return 0
        case .trap: return 0x0003_0000
        case .log: return 0x7ffc_0000
        }
    }

    static func compile(_ policy: SeccompPolicy) throws -> SeccompProgram {
        guard let ctx = seccomp_init(actionValue(policy.defaultAction)) else {
            throw SandboxError.seccomp("seccomp_init failed: libseccomp could not create a filter")
        }
        defer { seccomp_release(ctx) }
        var rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, actionValue(policy.badArchAction))
        guard rc == 0 else { throw SandboxError.seccomp("cannot set the bad-architecture action: \(Errno(rawValue: -rc))") }
        // A binary tree of syscall numbers instead of a linear chain: faster for long policies.
        _ = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2)

        var unknown: [String] = []
        for (ruleIndex, rule) in policy.rules.enumerated() {
            if rule.action == policy.defaultAction { continue }
            guard !rule.syscalls.isEmpty else { throw SandboxError.seccomp("rule \(ruleIndex) names no syscalls") }
            if rule.args.count > 6 { throw SandboxError.seccomp("rule \(ruleIndex) has more than 6 argument conditions") }
            var conditions: [scmp_arg_cmp] = []
            var seenArgs = Set<UInt32>()
            for arg in rule.args {
                guard arg.index < 6 else { throw SandboxError.seccomp("rule \(ruleIndex): argument index \(arg.index) is not 0-5") }
                guard seenArgs.insert(arg.index).inserted else {
                    throw SandboxError.seccomp("rule \(ruleIndex): argument \(arg.index) is compared twice; libseccomp allows one condition per argument per rule, write two rules instead")
                }
                var cmp = scmp_arg_cmp()
                cmp.arg = arg.index
                switch arg.op {
                case .eq: cmp.op = SCMP_CMP_EQ; cmp.datum_a = arg.value
                case .ne: cmp.op = SCMP_CMP_NE; cmp.datum_a = arg.value
                case .lt: cmp.op = SCMP_CMP_LT; cmp.datum_a = arg.value
                case .le: cmp.op = SCMP_CMP_LE; cmp.datum_a = arg.value
                case .gt: cmp.op = SCMP_CMP_GT; cmp.datum_a = arg.value
                case .ge: cmp.op = SCMP_CMP_GE; cmp.datum_a = arg.value
                case .maskedEq:
                    cmp.op = SCMP_CMP_MASKED_EQ
                    cmp.datum_a = arg.mask ?? 0xffff_ffff_ffff_ffff
                    cmp.datum_b = arg.value
                }
                conditions.append(cmp)
            }
            for name in rule.syscalls {
                let nr = seccomp_syscall_resolve_name(name)
                if nr == __NR_SCMP_ERROR {
                    if !unknown.contains(name) { unknown.append(name) }
                    continue
                }
                if nr < 0 { continue } // a pseudo-syscall number: not on this architecture
                rc = conditions.withUnsafeBufferPointer { buf in
                    seccomp_rule_add_array(ctx, actionValue(rule.action), nr, UInt32(buf.count), buf.baseAddress)
                }
                guard rc == 0 else {
                    throw SandboxError.seccomp("cannot add rule \(ruleIndex) for \(name): \(Errno(rawValue: -rc))")
                }
            }
        }
        let bytes = try export(ctx)
        return SeccompProgram(bytes: bytes, pinned: PinnedBytes(bytes), unknownSyscalls: unknown)
    }

    /// libseccomp 2.5.4 has no seccomp_export_bpf_mem: export into a memfd and read it back.
    private static func export(_ ctx: scmp_filter_ctx) throws -> [UInt8] {
        let fd = stk_memfd_create("stockade-seccomp", STK_MFD_CLOEXEC)
        guard fd >= 0 else { throw SandboxError.system(operation: "memfd_create", path: nil, errno: .current) }
        defer { close(fd) }
        let rc = seccomp_export_bpf(ctx, fd)
        guard rc == 0 else { throw SandboxError.seccomp("seccomp_export_bpf failed: \(Errno(rawValue: -rc))") }
        let size = lseek(fd, 0, SEEK_END)
        guard size > 0, size % 8 == 0 else { throw SandboxError.seccomp("exported program has a bad size (\(size) bytes)") }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, 0) }
        guard n == size else { throw SandboxError.system(operation: "read seccomp program", path: nil, errno: .current) }
        return bytes
    }
}

/// Bytes copied once into memory that is never freed (for cached, process-lifetime data).
final class PinnedBytes: @unchecked Sendable {
    // @unchecked: immutable after init.
    let pointer: UnsafeRawPointer
    let count: Int
    init(_ bytes: [UInt8]) {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 16)
        bytes.withUnsafeBytes { buf in if let b = buf.baseAddress { p.copyMemory(from: b, byteCount: buf.count) } }
        pointer = UnsafeRawPointer(p)
        count = bytes.count
    }
}
